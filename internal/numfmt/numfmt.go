// Package numfmt writes numbers the way kendall's tables and reports do,
// in one place, so that every view writes a count the same way.
package numfmt

import (
	"strconv"
	"strings"
)

// Thousands writes n with a comma between groups of three digits:
// 1,000,000; -12,345.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	sign := ""
	if strings.HasPrefix(s, "-") {
		sign, s = "-", s[1:]
	}
	var b strings.Builder
	b.WriteString(sign)
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}
