package topology

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Error is one problem found in a topology file. Its message names the file,
// the line and the field, says what is wrong and how to fix it:
//
//	shop.yaml:14: services.cart.calls[0].probability: 1.5 is not a probability; use a number from 0 to 1
type Error struct {
	File  string // path as given to Load, or the name given to Parse
	Line  int    // 1-based; 0 when the problem has no single line
	Field string // dotted path to the field, e.g. services.cart.servers
	Msg   string // what is wrong and how to fix it

	// step orders the problems of one line as the file is read: it is
	// when the parser came to the value in question (see place.step). It
	// is 0 for a problem with no value of its own, such as a service's
	// name, which comes after the others of its line.
	step int32
}

// order is the place of e among the problems of its line; see step.
func (e *Error) order() int32 {
	if e.step == 0 {
		return math.MaxInt32
	}
	return e.step
}

func (e *Error) Error() string {
	var b strings.Builder
	if printable(e.File) {
		b.WriteString(e.File)
	} else {
		// One problem, one line: a path with a line break would split it.
		b.WriteString(strconv.Quote(e.File))
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Field != "" {
		b.WriteString(e.Field)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ErrorList is every problem found in one file, in the order of the file.
// Reporting them all at once saves the user a round trip per mistake.
type ErrorList []*Error

func (l ErrorList) Error() string {
	msgs := make([]string, len(l))
	for i, e := range l {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// Unwrap lets errors.As find the individual errors.
func (l ErrorList) Unwrap() []error {
	errs := make([]error, len(l))
	for i, e := range l {
		errs[i] = e
	}
	return errs
}

// Suggest returns ` (did you mean "x"?)` when one of the candidates is a
// plausible correction of the misspelt word, and "" otherwise: the rule of
// every "unknown name" message, the file's and the command line's.
func Suggest(word string, candidates []string) string {
	limit := 2 // edits; one is already a lot for a short word
	if len([]rune(word)) <= 4 {
		limit = 1
	}
	limit = min(limit, len([]rune(word))-1) // replacing the whole word is no typo
	best, bestDist := "", limit+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(word), strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, counting a
// transposition of neighbours as one edit (optimal string alignment), which
// is the commonest typing mistake.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// printable reports whether s is valid UTF-8 of printable characters only,
// so that it prints as it is, on one line.
func printable(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) })
}
