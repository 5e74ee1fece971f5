package registry

import (
	"slices"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	good := []struct {
		name, raw string
		endpoints []string
		prefix    string
	}{
		{"one endpoint", "etcd://127.0.0.1:2379", []string{"127.0.0.1:2379"}, "/kendall"},
		{"slash only", "etcd://127.0.0.1:2379/", []string{"127.0.0.1:2379"}, "/kendall"},
		{"prefix", "etcd://127.0.0.1:2379/team/kendall/", []string{"127.0.0.1:2379"}, "/team/kendall"},
		{"several", "etcd://a:1,b:2,[::1]:3/p", []string{"a:1", "b:2", "[::1]:3"}, "/p"},
		{"hostname", "etcd://localhost:2379", []string{"localhost:2379"}, "/kendall"},
	}
	for _, c := range good {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseURL(c.raw)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got.Endpoints, c.endpoints) || got.Prefix != c.prefix {
				t.Errorf("ParseURL(%q) = %+v, want endpoints %q prefix %q", c.raw, got, c.endpoints, c.prefix)
			}
		})
	}

	bad := []struct {
		name, raw, says string
	}{
		{"empty", "", "empty"},
		{"no scheme", "127.0.0.1:2379", "no scheme"},
		{"http", "http://127.0.0.1:2379", `scheme "http" is not etcd`},
		{"no host", "etcd:///kendall", "no host:port"},
		{"no port", "etcd://127.0.0.1", `"127.0.0.1" is not host:port`},
		{"empty port", "etcd://127.0.0.1:", "is not a number"},
		{"port zero", "etcd://127.0.0.1:0", "is not a number from 1 to 65535"},
		{"port too big", "etcd://127.0.0.1:70000", "is not a number from 1 to 65535"},
		{"empty endpoint", "etcd://a:1,,b:2", `"" is not host:port`},
		{"no host name", "etcd://:2379", "has no host"},
		{"query", "etcd://a:1?x=1", `'?' is not allowed`},
		{"user", "etcd://u@a:1", `'@' is not allowed`},
		{"dot segment", "etcd://a:1/x/../y", "empty, . or .. segment"},
		{"empty segment", "etcd://a:1/x//y", "empty, . or .. segment"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseURL(c.raw)
			if err == nil {
				t.Fatalf("ParseURL(%q) = nil error, want one that says %q", c.raw, c.says)
			}
			msg := err.Error()
			if !strings.Contains(msg, c.says) || !strings.HasPrefix(msg, "registry "+c.raw+": ") || !strings.HasSuffix(msg, "; expected etcd://127.0.0.1:2379") {
				t.Errorf("ParseURL(%q) error %q: want the URL, %q and the example", c.raw, msg, c.says)
			}
		})
	}
}
