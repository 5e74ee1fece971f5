package emulate

import (
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/kendallqn/kendall/topology"
)

// ErrNotLoopback is matched, with errors.Is, by the error Start returns
// for a listen: address that is not a loopback one while
// Options.AllowNonLoopback is not set.
var ErrNotLoopback = errors.New("not a loopback address")

// listenAddress is where service s listens: its listen: address, or a free
// port on 127.0.0.1.
func listenAddress(t *topology.Topology, s *topology.Service, allowNonLoopback bool) (string, error) {
	if s.Listen == "" {
		return "127.0.0.1:0", nil
	}
	host, port, err := net.SplitHostPort(s.Listen)
	if err != nil {
		return "", fieldError(t, s, ".listen", fmt.Sprintf("%q is not host:port; write one such as 127.0.0.1:8081", s.Listen))
	}
	if allowNonLoopback {
		return s.Listen, nil
	}
	if host == "" || host == "localhost" {
		return net.JoinHostPort("127.0.0.1", port), nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", &causedError{
			err: fieldError(t, s, ".listen", fmt.Sprintf("%s is not a loopback address; the emulation serves on 127.0.0.1 only unless told otherwise: use 127.0.0.1:%s, or allow other addresses explicitly with emulate.Options.AllowNonLoopback",
				s.Listen, port)),
			cause: ErrNotLoopback,
		}
	}
	return s.Listen, nil
}

// listenError is the error of a listen at addr that failed for service s.
func listenError(t *topology.Topology, s *topology.Service, addr string, err error) error {
	cause := err
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		cause = op.Err // "bind: address already in use", without the repetition of the address
	}
	hint := ""
	if strings.Contains(err.Error(), "address already in use") {
		hint = "; is another server (perhaps another emulation of this topology) running there? Stop it, or change or remove the listen: address"
	}
	return &causedError{
		err:   fieldError(t, s, "", fmt.Sprintf("cannot listen on %s: %v%s", addr, cause, hint)),
		cause: err,
	}
}

// fieldError is a problem with field (".listen", or "" for the service as
// a whole) of service s, at the service's line of the file.
func fieldError(t *topology.Topology, s *topology.Service, field, msg string) *topology.Error {
	file := t.File
	if file == "" {
		file = t.Name
	}
	return &topology.Error{File: file, Line: s.Line, Field: "services." + s.Name + field, Msg: msg}
}

// causedError is a *topology.Error, which says where the problem is and how
// to fix it, with what caused it, for errors.Is: errors.As finds the one,
// errors.Is the other.
type causedError struct {
	err   *topology.Error
	cause error
}

func (e *causedError) Error() string   { return e.err.Error() }
func (e *causedError) Unwrap() []error { return []error{e.err, e.cause} }

// dialAddress is the address to reach a listener at: loopback for one bound
// to every interface.
func dialAddress(a net.Addr) string {
	tcp, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if tcp.IP.IsUnspecified() {
		return net.JoinHostPort("127.0.0.1", fmt.Sprint(tcp.Port))
	}
	return tcp.String()
}
