package loadgen

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
)

// ErrorClass is one way an entry's requests failed: how many failed that
// way, and the message of the first of them.
type ErrorClass struct {
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Example string `json:"example"`
}

// The classes of failure. A failed request that got a response is in the
// class of its status, StatusClass(code); one that got none is in the first
// of these classes that its error matches, or in ClassOther.
//
// Messages are not classes: those of one cause differ in the URL, the local
// port, the address, so that grouping by message would make as many lines
// as requests (and a bound on them would hide the rest).
const (
	// ClassTooManyOpenFiles: the generator ran out of file descriptors
	// (EMFILE, ENFILE); raise ulimit -n, or lower MaxInFlight.
	ClassTooManyOpenFiles = "too many open files"
	// ClassDNS: the host name did not resolve.
	ClassDNS = "DNS"
	// ClassConnectionRefused: nothing listens at the address (ECONNREFUSED),
	// or the listen backlog was full.
	ClassConnectionRefused = "connection refused"
	// ClassConnectionReset: the server reset the connection (ECONNRESET),
	// or had closed it when the client wrote (EPIPE, "broken pipe").
	ClassConnectionReset = "connection reset"
	// ClassTimeout: no complete response within the timeout, or a dial or
	// TLS handshake that timed out.
	ClassTimeout = "timeout"
	// ClassTLS: the TLS handshake failed, most often on a certificate the
	// client does not trust (see Options.Insecure).
	ClassTLS = "TLS"
	// ClassEOF: the server closed the connection before the response was
	// complete.
	ClassEOF = "EOF"
	// ClassOther: any other failure, and the statuses beyond
	// maxStatusClasses.
	ClassOther = "other"
)

// StatusClass is the class of the responses of status code that are
// failures (not 2xx or 3xx): "status 500".
func StatusClass(code int) string { return "status " + strconv.Itoa(code) }

// maxStatusClasses bounds the classes of status codes kept per entry; the
// responses of further codes are counted in ClassOther. The other classes
// are a fixed few, so an entry has at most 8 + maxStatusClasses.
const maxStatusClasses = 16

// classify returns the class of a request that got no response, from its
// error value when there is one, else from its message.
//
// vegeta gives the error of a request as a string only (vegeta.Result's
// Error); the attack keeps the error value its own transport saw
// (cancelTransport), which covers what happens on the connection: dial,
// TLS handshake, writing the request and reading the response. The value
// is matched with errors.Is and errors.As; the message, for failures above
// the transport (the client's own timeout, redirects), by the texts that
// net/http, net, crypto/tls and the operating system's error strings
// (strerror: "connection reset by peer", "broken pipe") put in it.
func classify(err error, msg string) string {
	if err != nil {
		if c := classifyValue(err); c != "" {
			return c
		}
	}
	return classifyMessage(msg)
}

func classifyValue(err error) string {
	var (
		dns     *net.DNSError
		netErr  net.Error
		verify  *tls.CertificateVerificationError
		record  tls.RecordHeaderError
		alert   tls.AlertError
		unknown x509.UnknownAuthorityError
		host    x509.HostnameError
		invalid x509.CertificateInvalidError
	)
	errno := errnoClass(err) // too many open files, connection refused or reset
	switch {
	case errno == ClassTooManyOpenFiles:
		return errno
	case errors.As(err, &dns): // before an errno it may wrap
		return ClassDNS
	case errno != "":
		return errno
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout():
		return ClassTimeout
	case errors.As(err, &verify) || errors.As(err, &record) || errors.As(err, &alert) ||
		errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid):
		return ClassTLS
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return ClassEOF
	}
	return ""
}

// messageClasses are the texts that mark each class, in the order they are
// tried: a TLS handshake timeout is a timeout, a DNS lookup that timed out
// a DNS failure.
var messageClasses = []struct {
	class string
	texts []string
}{
	{ClassTooManyOpenFiles, []string{"too many open files", "file table overflow"}},
	{ClassDNS, []string{"no such host", "server misbehaving", "lookup "}},
	{ClassConnectionRefused, []string{"connection refused"}},
	{ClassConnectionReset, []string{"connection reset", "broken pipe", "connection aborted", "forcibly closed"}},
	{ClassTimeout, []string{"timeout", "deadline exceeded", "timed out"}},
	{ClassTLS, []string{"tls:", "x509:", "certificate"}},
	{ClassEOF, []string{": eof", "unexpected eof", "server closed idle connection"}},
}

func classifyMessage(msg string) string {
	lower := strings.ToLower(msg)
	if lower == "eof" {
		return ClassEOF
	}
	for _, c := range messageClasses {
		for _, text := range c.texts {
			if strings.Contains(lower, text) {
				return c.class
			}
		}
	}
	return ClassOther
}
