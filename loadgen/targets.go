package loadgen

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/kendallqn/kendall/topology"
)

// Target is one stream of requests: where they go, what they are, and how
// fast they arrive.
type Target struct {
	// Name names the stream in results: the workload entry, or the URL of
	// a bare target. Names must be unique within an attack.
	Name string
	// URL is where the requests go; with Replicas, the target's URL in
	// results only (Replicas[0] when empty).
	URL string
	// Replicas, when it has more than one URL, are the URLs of the
	// replicas of the target's service: each request goes to the one that
	// Balancer picks, and is in flight there, for the balancer, from its
	// send until its response has been read. The target has one balancer,
	// seeded by Options.Seed: the load generator is one client of the
	// service (topology.Balancer).
	Replicas []string
	// Balancer is the policy over Replicas; topology.BalancerRandom when
	// empty.
	Balancer topology.Balancer
	// Discover, when set, finds the target's replicas and follows them
	// while the attack runs, as registry.Scope.Watch does: it calls
	// update with the replicas' URLs at once and after every change, until
	// ctx ends, and then returns. Attack calls it in a goroutine of its
	// own before anything is sent, waits for the first list (which must
	// name a replica), takes it as Replicas, and balances each request
	// over the replicas known when it is sent. A replica that leaves gets
	// no more requests; those in flight there finish or fail, and are
	// counted either way. Name is required; URL may be empty.
	Discover func(ctx context.Context, update func(urls []string)) error
	Rate     float64 // requests per second
	Method   string  // GET when empty
	Header   http.Header
	Body     []byte
}

// ErrUnreachable is wrapped by the error Attack returns when a target does
// not accept connections before the attack starts.
var ErrUnreachable = errors.New("target unreachable")

// ErrNoEndpoint is wrapped by the error TopologyTargets returns when a
// workload entry's service has no endpoint: URL.
var ErrNoEndpoint = errors.New("no endpoint")

// TopologyTargets returns the workload entries of t as targets at their
// endpoint: URLs, at the workload's rates. It fails, naming them, when an
// entry's service has no endpoint (ErrNoEndpoint); such a topology can be
// attacked emulated instead (package emulate, and TargetsAt).
func TopologyTargets(t *topology.Topology) ([]Target, error) {
	targets, missing := targetsAt(t, func(service string) string {
		if s := t.Service(service); s != nil {
			return s.Endpoint
		}
		return ""
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: workload entry %s has %w: give the service an endpoint: URL where it answers",
			t.File, strings.Join(missing, ", "), ErrNoEndpoint)
	}
	return targets, nil
}

// TargetsAt returns the workload entries of t as targets at the URLs that
// url gives for their services, at the workload's rates: for a topology
// emulated (url is emulate.Emulation.URL), or for the same topology at
// another rate than the emulation's. It fails, naming them, when url gives
// an entry no URL (""), or when an entry's service has several replicas,
// which one URL cannot spread the load over: TargetsAtReplicas can.
func TargetsAt(t *topology.Topology, url func(service string) string) ([]Target, error) {
	var replicated []string
	for _, w := range t.Workload {
		if s := t.Service(w.Entry); s != nil && s.Replicas > 1 {
			replicated = append(replicated, fmt.Sprintf("%s (%d)", w.Entry, s.Replicas))
		}
	}
	if len(replicated) > 0 {
		return nil, fmt.Errorf("%s: workload entry %s has several replicas, and one URL would send all its load to one of them; use TargetsAtReplicas with the URLs of every replica (emulate.Emulation.URLs)",
			t.File, strings.Join(replicated, ", "))
	}
	targets, missing := targetsAt(t, url)
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: workload entry %s has no URL to attack", t.File, strings.Join(missing, ", "))
	}
	return targets, nil
}

// TargetsAtReplicas returns the workload entries of t as targets at the
// URLs of their services' replicas that urls gives, at the workload's
// rates: for a topology emulated, urls is emulate.Emulation.URLs. An entry
// of several replicas has them all as the target's Replicas, balanced by
// its service's policy (one balancer per entry); one of one URL is a plain
// target, as TargetsAt makes it. It fails, naming them, when urls gives an
// entry no URL.
func TargetsAtReplicas(t *topology.Topology, urls func(service string) []string) ([]Target, error) {
	var targets []Target
	var missing []string
	for _, w := range t.Workload {
		us := urls(w.Entry)
		if len(us) == 0 || slices.Contains(us, "") {
			missing = append(missing, w.Entry)
			continue
		}
		tg := Target{Name: w.Entry, URL: us[0], Rate: w.Rate}
		if len(us) > 1 {
			tg.Replicas = slices.Clone(us)
			if s := t.Service(w.Entry); s != nil {
				tg.Balancer = s.Balancer
			}
		}
		targets = append(targets, tg)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: workload entry %s has no URL to attack", t.File, strings.Join(missing, ", "))
	}
	return targets, nil
}

// targetsAt returns the targets of the workload entries of t that url gives
// a URL, and the names of those it does not.
func targetsAt(t *topology.Topology, url func(service string) string) (targets []Target, missing []string) {
	for _, w := range t.Workload {
		u := url(w.Entry)
		if u == "" {
			missing = append(missing, w.Entry)
			continue
		}
		targets = append(targets, Target{Name: w.Entry, URL: u, Rate: w.Rate})
	}
	return targets, missing
}

// CheckURL reports what is wrong with u as the URL of an HTTP target, and
// how to fix it; nil if nothing is.
func CheckURL(u string) error {
	if strings.TrimSpace(u) == "" {
		return errors.New("the URL is empty; write one such as http://127.0.0.1:8080/")
	}
	if !strings.Contains(u, "://") {
		return fmt.Errorf("%q has no scheme; write http://%s", u, strings.TrimPrefix(u, "//"))
	}
	p, err := url.Parse(u)
	if err != nil {
		return fmt.Errorf("%q is not a valid URL (%v); write one such as http://127.0.0.1:8080/", u, unwrapURLError(err))
	}
	if p.Scheme != "http" && p.Scheme != "https" {
		return fmt.Errorf("%q: the scheme %q is not http or https", u, p.Scheme)
	}
	if p.Host == "" || p.Hostname() == "" {
		return fmt.Errorf("%q has no host; write one such as http://127.0.0.1:8080/", u)
	}
	if port := p.Port(); port != "" {
		var n int
		if _, err := fmt.Sscanf(port, "%d", &n); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("%q: port %s is not a port number (1 to 65535)", u, port)
		}
	}
	return nil
}

func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// CheckRate reports what is wrong with r as a rate, in requests per second.
func CheckRate(r float64) error {
	if !(r > 0) || math.IsInf(r, 0) {
		return fmt.Errorf("rate %v is not a positive number of requests per second", r)
	}
	return nil
}

// validate checks a target, naming it in its errors.
func (t *Target) validate() error {
	if t.Discover != nil && t.URL == "" {
		// The URL comes with the replicas, from Discover.
	} else if err := CheckURL(t.URL); err != nil {
		return fmt.Errorf("target %s: %w", t.Name, err)
	}
	for i, u := range t.Replicas {
		if err := CheckURL(u); err != nil {
			return fmt.Errorf("target %s: replica %d: %w", t.Name, i, err)
		}
	}
	if len(t.Replicas) > 1 && !slices.Contains(topology.Balancers, t.Balancer) && t.Balancer != "" {
		return fmt.Errorf("target %s: %q is not a balancer; use one of %v", t.Name, t.Balancer, topology.Balancers)
	}
	if err := CheckRate(t.Rate); err != nil {
		return fmt.Errorf("target %s: %w", t.Name, err)
	}
	if t.Method != "" && !validMethod(t.Method) {
		return fmt.Errorf("target %s: %q is not an HTTP method; use one such as GET or POST", t.Name, t.Method)
	}
	for k := range t.Header {
		if !validToken(k) {
			return fmt.Errorf("target %s: %q is not a valid header name", t.Name, k)
		}
	}
	return nil
}

func validMethod(m string) bool { return validToken(m) }

// validToken reports whether s is an HTTP token (RFC 9110, §5.6.2), the form
// of methods and header names.
func validToken(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.ContainsRune("!#$%&'*+-.^_`|~", c):
		default:
			return false
		}
	}
	return true
}

// vegetaTarget is the request blueprint vegeta sends.
func (t *Target) vegetaTarget() vegeta.Target {
	m := t.Method
	if m == "" {
		m = http.MethodGet
	}
	return vegeta.Target{Method: m, URL: t.URL, Header: t.Header.Clone(), Body: t.Body}
}

// probe checks that every target, every replica of one, accepts TCP
// connections, so that an unreachable target is reported before the
// attack, not as a run of errors.
func probe(ctx context.Context, targets []Target, timeout time.Duration) error {
	seen := map[string]bool{}
	for _, t := range targets {
		for _, raw := range t.urls() {
			if err := probeURL(ctx, t, raw, timeout, seen); err != nil {
				return err
			}
		}
	}
	return nil
}

// urls are the URLs the target's requests go to: its replicas', or its
// own.
func (t *Target) urls() []string {
	if len(t.Replicas) > 1 || t.Discover != nil {
		return t.Replicas
	}
	return []string{t.URL}
}

// probeURL checks that raw, a URL of target t, accepts TCP connections,
// unless its address is in seen.
func probeURL(ctx context.Context, t Target, raw string, timeout time.Duration, seen map[string]bool) error {
	u, err := url.Parse(raw)
	if err != nil {
		return err // validated before
	}
	addr := u.Host
	if u.Port() == "" {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	if seen[addr] {
		return nil
	}
	seen[addr] = true
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s (%s): %v; check that the server is running and listens there", ErrUnreachable, raw, t.Name, err)
	}
	conn.Close()
	return nil
}
