package loadgen

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/leaktest"
)

// attackOne attacks one URL at 50 evenly spaced requests per second for a
// second, and returns its entry.
func attackOne(t *testing.T, url string, opts Options) EntryResult {
	t.Helper()
	opts.Duration, opts.Arrivals = time.Second, Constant
	res, err := Attack(t.Context(), []Target{{Name: "t", URL: url, Rate: 50}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	return res.Entries[0]
}

// checkOneClass checks that every request of e failed, all in one class,
// with an example that contains example.
func checkOneClass(t *testing.T, e EntryResult, class, example string) {
	t.Helper()
	if e.Requests == 0 || e.Successes != 0 {
		t.Fatalf("%d requests, %d successes; want some, all failed", e.Requests, e.Successes)
	}
	if len(e.Errors) != 1 || e.Errors[0].Class != class || e.Errors[0].Count != e.Requests || !strings.Contains(e.Errors[0].Example, example) {
		t.Errorf("errors %+v; want one class %q of %d, with an example containing %q", e.Errors, class, e.Requests, example)
	}
}

// quietServer is an httptest server that does not log (TLS handshake
// failures, hijacked connections), started with or without TLS.
func quietServer(t *testing.T, tls bool, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

// TestErrorClassReset attacks a server that resets every connection: each
// request fails from its own local port, so the messages all differ, and
// they are one class.
func TestErrorClassReset(t *testing.T) {
	leaktest.Check(t)
	srv := quietServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		conn.(*net.TCPConn).SetLinger(0) // close sends RST: connection reset by peer
		conn.Close()
	})
	e := attackOne(t, srv.URL, Options{})
	checkOneClass(t, e, ClassConnectionReset, "connection reset by peer")
	if e.Requests < 2 {
		t.Errorf("only %d requests", e.Requests)
	}
}

// TestErrorClassEOF attacks servers that close the connection: one
// without answering, one in the middle of the body.
func TestErrorClassEOF(t *testing.T) {
	for _, tc := range []struct{ name, answer string }{
		{"no answer", ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := quietServer(t, false, func(w http.ResponseWriter, r *http.Request) {
				conn, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					return
				}
				io.WriteString(conn, tc.answer)
				conn.Close()
			})
			checkOneClass(t, attackOne(t, srv.URL, Options{}), ClassEOF, "EOF")
		})
	}
}

// TestErrorClassTimeout attacks a server that never answers.
func TestErrorClassTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := quietServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	e := attackOne(t, srv.URL, Options{Timeout: 100 * time.Millisecond})
	checkOneClass(t, e, ClassTimeout, "")
	// net/http's timer and the request context's deadline race to end the
	// request, and word it differently; both are the timeout.
	if ex := e.Errors[0].Example; !strings.Contains(ex, "Client.Timeout exceeded") && !strings.Contains(ex, "context deadline exceeded") {
		t.Errorf("example %q is not a timeout's message", ex)
	}
}

// TestErrorClassStatus attacks a server that answers 500: one class for
// the status.
func TestErrorClassStatus(t *testing.T) {
	srv := quietServer(t, false, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "broken", http.StatusInternalServerError)
	})
	e := attackOne(t, srv.URL, Options{})
	checkOneClass(t, e, "status 500", "500 Internal Server Error")
	if e.StatusCodes["500"] != e.Requests {
		t.Errorf("status codes %v", e.StatusCodes)
	}
}

// TestInsecure attacks an https server with a self-signed certificate: the
// probe, which only dials TCP, passes; every request then fails its
// handshake, unless Insecure skips the verification.
func TestInsecure(t *testing.T) {
	leaktest.Check(t)
	srv := quietServer(t, true, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	checkOneClass(t, attackOne(t, srv.URL, Options{}), ClassTLS, "certificate")
	e := attackOne(t, srv.URL, Options{Insecure: true})
	if e.Requests == 0 || e.Successes != e.Requests || e.SuccessRatio != 1 || len(e.Errors) != 0 {
		t.Errorf("with Insecure: %d requests, %d successes, errors %+v; want all successful", e.Requests, e.Successes, e.Errors)
	}
}

// TestErrorClassRefused classifies the error of a request to a port where
// nothing listens, by its error value and by its message alone (as vegeta
// gives it). An attack cannot meet it: its probe fails first.
func TestErrorClassRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String() + "/"
	ln.Close()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	_, err = (&http.Client{Transport: tr}).Get(url)
	if err == nil {
		t.Fatal("a closed port answered")
	}
	for _, v := range []error{err, nil} {
		if got := classify(v, err.Error()); got != ClassConnectionRefused {
			t.Errorf("classify(%v, %q) = %q, want %q", v, err.Error(), got, ClassConnectionRefused)
		}
	}
	r := newRecorder([]string{"a"}, recStart, 0, time.Second, time.Second)
	r.add(vegetaResult("a", 0, time.Millisecond, 0, err.Error()), err, false)
	r.add(vegetaResult("a", 0, time.Millisecond, 0, err.Error()), nil, false)
	e := r.entry(0, "a", time.Second)
	if len(e.Errors) != 1 || e.Errors[0] != (ErrorClass{Class: ClassConnectionRefused, Count: 2, Example: err.Error()}) {
		t.Errorf("errors %+v", e.Errors)
	}
}

// TestClassifyMessages classifies the messages that net/http, net and
// crypto/tls give, as vegeta passes them on: a string.
func TestClassifyMessages(t *testing.T) {
	for _, c := range []struct{ msg, class string }{
		{`Get "http://127.0.0.1:8080/": read tcp 127.0.0.1:51234->127.0.0.1:8080: read: connection reset by peer`, ClassConnectionReset},
		{`Post "http://127.0.0.1:8080/": write tcp 127.0.0.1:51234->127.0.0.1:8080: write: broken pipe`, ClassConnectionReset},
		{`Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused`, ClassConnectionRefused},
		{`Get "http://127.0.0.1:8080/": context deadline exceeded (Client.Timeout exceeded while awaiting headers)`, ClassTimeout},
		{`Get "http://10.0.0.1/": dial tcp 10.0.0.1:80: i/o timeout`, ClassTimeout},
		{`Get "https://127.0.0.1:8443/": net/http: TLS handshake timeout`, ClassTimeout},
		{`Get "https://127.0.0.1:8443/": tls: failed to verify certificate: x509: certificate signed by unknown authority`, ClassTLS},
		{`Get "https://127.0.0.1:8443/": remote error: tls: handshake failure`, ClassTLS},
		{`Get "http://127.0.0.1:8080/": EOF`, ClassEOF},
		{`unexpected EOF`, ClassEOF},
		{`Get "http://no.such.host.test/": dial tcp: lookup no.such.host.test: no such host`, ClassDNS},
		{`Get "http://127.0.0.1:8080/": dial tcp 127.0.0.1:8080: socket: too many open files`, ClassTooManyOpenFiles},
		{`stopped after 10 redirects`, ClassOther},
	} {
		if got := classify(nil, c.msg); got != c.class {
			t.Errorf("classify(%q) = %q, want %q", c.msg, got, c.class)
		}
	}
	// The error value, where there is one, decides before the message.
	if got := classify(fmt.Errorf("reading body: %w", io.ErrUnexpectedEOF), "something else"); got != ClassEOF {
		t.Errorf("a wrapped io.ErrUnexpectedEOF is %q", got)
	}
	if got := classify(&net.DNSError{Err: "no such host", Name: "x.test"}, "x"); got != ClassDNS {
		t.Errorf("a *net.DNSError is %q", got)
	}
	if got := classify(errors.New("no class"), "read: connection reset by peer"); got != ClassConnectionReset {
		t.Errorf("an error value of no class, then its message: %q", got)
	}
}
