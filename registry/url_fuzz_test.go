package registry

import (
	"slices"
	"strings"
	"testing"
)

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"etcd://127.0.0.1:2379", "etcd://a:1,b:2/p/q", "etcd://[::1]:2379/", "etcd://x", "http://a:1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		tg, err := ParseURL(raw)
		if err != nil {
			return
		}
		// A parsed URL prints as one that parses to the same target.
		again, err := ParseURL(tg.String())
		if err != nil {
			t.Fatalf("ParseURL(%q) = %v, whose String %q does not parse: %v", raw, tg, tg.String(), err)
		}
		if !slices.Equal(again.Endpoints, tg.Endpoints) || again.Prefix != tg.Prefix {
			t.Fatalf("ParseURL(%q) = %v, but ParseURL(%q) = %v", raw, tg, tg.String(), again)
		}
		if !strings.HasPrefix(tg.Prefix, "/") || strings.HasSuffix(tg.Prefix, "/") {
			t.Fatalf("ParseURL(%q): prefix %q", raw, tg.Prefix)
		}
	})
}
