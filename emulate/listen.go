package emulate

import (
	"errors"
	"fmt"
	"net"
	"strconv"
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

// listenAddresses is where each replica of service s listens, replica 0
// first. A service of one replica listens at listenAddress. Its replicas
// listen on consecutive ports from the port of listenAddress, one each:
// listen: 127.0.0.1:9000 with replicas: 3 serves 9000, 9001 and 9002;
// with port 0 (or no listen:), each replica on a free port of its own.
func listenAddresses(t *topology.Topology, s *topology.Service, allowNonLoopback bool) ([]string, error) {
	addr, err := listenAddress(t, s, allowNonLoopback)
	if err != nil {
		return nil, err
	}
	n := max(s.Replicas, 1)
	addrs := make([]string, n)
	if n == 1 {
		addrs[0] = addr
		return addrs, nil
	}
	host, portText, _ := net.SplitHostPort(addr) // listenAddress checked it
	port, err := strconv.Atoi(portText)
	if err != nil || port < 0 || port > maxPort {
		return nil, fieldError(t, s, ".listen", fmt.Sprintf("%q has no port number, which its %d replicas count up from; write one such as 127.0.0.1:8081, or port 0 for a free port each", s.Listen, n))
	}
	if port != 0 && port+n-1 > maxPort {
		return nil, fieldError(t, s, ".listen", fmt.Sprintf("%d replicas from port %d need the ports %d to %d, beyond %d; start at port %d or lower, or use port 0 for a free port each",
			n, port, port, port+n-1, maxPort, maxPort-n+1))
	}
	for r := range addrs {
		p := port
		if port != 0 {
			p += r
		}
		addrs[r] = net.JoinHostPort(host, strconv.Itoa(p))
	}
	return addrs, nil
}

// maxPort is the largest TCP port.
const maxPort = 65535

// listenError is the error of a listen at addr that failed for replica r
// of service s.
func listenError(t *topology.Topology, s *topology.Service, r int, addr string, err error) error {
	cause := err
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		cause = op.Err // "bind: address already in use", without the repetition of the address
	}
	hint := ""
	if strings.Contains(err.Error(), "address already in use") {
		hint = "; is another server (perhaps another emulation of this topology) running there? Stop it, or change or remove the listen: address"
		if s.Replicas > 1 {
			hint += fmt.Sprintf(" (the %d replicas listen on consecutive ports from it: do they overlap another service's?)", s.Replicas)
		}
	}
	what := addr
	if s.Replicas > 1 {
		what = fmt.Sprintf("%s for replica %d of %d", addr, r, s.Replicas)
	}
	return &causedError{
		err:   fieldError(t, s, "", fmt.Sprintf("cannot listen on %s: %v%s", what, cause, hint)),
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
