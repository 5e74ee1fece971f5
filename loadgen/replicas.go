package loadgen

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/internal/random"
)

// balancerStreams is the family of the targets' balancers' random streams
// (random.Labelled), one per target.
const balancerStreams = "balancers"

// router is the balancer of a target of several replicas, with their URLs.
type router struct {
	balancer *balance.Balancer
	name     string              // the target's, for messages
	urls     map[string]*url.URL // the replicas', parsed, by their text
}

// newRouter returns the router of target i over its replicas, its
// balancer seeded by seed; nil for a target without replicas.
func newRouter(t *Target, i int, seed uint64) (*router, error) {
	if len(t.Replicas) <= 1 {
		return nil, nil
	}
	b, err := balance.New(t.Balancer, t.Replicas, random.Labelled(seed, balancerStreams, i))
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	rt := &router{balancer: b, name: t.Name, urls: map[string]*url.URL{}}
	for _, raw := range t.Replicas {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("target %s: %w", t.Name, err) // validated before
		}
		rt.urls[raw] = u
	}
	return rt, nil
}

// results returns what the router sent to each replica, for the result.
func (rt *router) results() []ReplicaResult {
	if rt == nil {
		return nil
	}
	var out []ReplicaResult
	for _, e := range rt.balancer.Endpoints() {
		out = append(out, ReplicaResult{URL: e.Addr, Sent: e.Picks})
	}
	return out
}

// balanceTransport sends each request of a target of several replicas to
// the replica its router's balancer picks. vegeta builds every request
// from the target's one URL and has no hook for its completion; the
// transport is where a request is both sent and answered, so it rewrites
// the URL and counts the request in flight, for the balancer, until its
// response body is closed (vegeta closes it once it has read it) or the
// request fails.
type balanceTransport struct {
	base http.RoundTripper
	*router
}

func (t *balanceTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	raw, done, err := t.balancer.Pick()
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // a RoundTripper closes the body, even on errors
		}
		return nil, fmt.Errorf("no replica of %s is available: %w", t.name, err)
	}
	// A RoundTripper must not modify the request: a shallow copy, as
	// http.Request.WithContext makes, with a URL of its own.
	r := new(http.Request)
	*r = *req
	u := *req.URL
	to := t.urls[raw]
	u.Scheme, u.Host, u.Path, u.RawPath, u.RawQuery = to.Scheme, to.Host, to.Path, to.RawPath, to.RawQuery
	r.URL = &u
	if req.Host == req.URL.Host {
		r.Host = "" // the Host header is the replica's, unless the target set its own
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		done()
		return nil, err
	}
	resp.Body = &doneBody{ReadCloser: resp.Body, done: done}
	return resp, nil
}

// doneBody ends its request's time in flight, for the balancer, when it is
// closed.
type doneBody struct {
	io.ReadCloser
	done func() // idempotent (balance.Balancer.Pick)
}

func (b *doneBody) Close() error {
	err := b.ReadCloser.Close()
	b.done()
	return err
}
