package loadgen

import (
	"net/url"
	"testing"
)

// FuzzCheckURL checks that CheckURL never panics, and that whatever it
// accepts is an http or https URL with a host that vegeta can request.
func FuzzCheckURL(f *testing.F) {
	for _, s := range []string{"http://127.0.0.1:8080/", "https://example.test/a?b=c", "127.0.0.1:8080", "ftp://x/", "http:///p", "http://[::1]:80/", "http://h:99999/", "", "http://%zz/"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckURL(s) != nil {
			return
		}
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" {
			t.Fatalf("CheckURL accepted %q: %v %+v", s, err, u)
		}
		tg := Target{URL: s, Rate: 1}
		vt := tg.vegetaTarget()
		if _, err := vt.Request(); err != nil {
			t.Fatalf("CheckURL accepted %q, which vegeta cannot request: %v", s, err)
		}
	})
}
