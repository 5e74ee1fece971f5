package loadgen

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/internal/random"
)

// balancerStreams is the family of the targets' balancers' random streams
// (random.Labelled), one per target. It is not the emulation's
// ("balancers", package emulate): with the same seed (attack --emulate,
// validate), target i's stream would otherwise be the one of the
// emulation's balancer numbered i, and the two would pick alike.
const balancerStreams = "loadgen-balancers"

// router is the balancer of a target of several replicas, or of replicas
// found by Target.Discover, with the URLs of every replica it has known.
type router struct {
	balancer *balance.Balancer
	name     string // the target's, for messages
	found    bool   // the replicas come from Target.Discover

	mu       sync.Mutex
	replicas map[string]*replicaCount // every replica known, by URL
	order    []string                 // their URLs, as first known
}

// replicaCount is what the router sent to one replica, and when it knew
// of it.
type replicaCount struct {
	url          *url.URL
	sent, failed atomic.Int64
	joined, left time.Time // zero: from the start, and to the end
	present      bool
}

// newRouter returns the router of target i over its replicas, its
// balancer seeded by seed; nil for a target of one URL.
func newRouter(t *Target, i int, seed uint64) (*router, error) {
	if len(t.Replicas) <= 1 && t.Discover == nil {
		return nil, nil
	}
	b, err := balance.New(t.Balancer, nil, random.Labelled(seed, balancerStreams, i))
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", t.Name, err)
	}
	rt := &router{balancer: b, name: t.Name, found: t.Discover != nil, replicas: map[string]*replicaCount{}}
	if _, err := rt.update(t.Replicas, time.Time{}); err != nil {
		return nil, err
	}
	return rt, nil
}

// update replaces the replicas, at time now (zero before the attack), and
// returns those the balancer has now: the valid URLs of urls.
func (rt *router) update(urls []string, now time.Time) ([]string, error) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	keep := map[string]bool{}
	var valid []string
	for _, raw := range urls {
		c := rt.replicas[raw]
		if c == nil {
			u, err := url.Parse(raw)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				// Validated before for Target.Replicas; a discovered
				// one is skipped, as the registry skips its own.
				if now.IsZero() && !rt.found {
					return nil, fmt.Errorf("target %s: replica %q is not an http(s) URL", rt.name, raw)
				}
				continue
			}
			c = &replicaCount{url: u, joined: now}
			rt.replicas[raw] = c
			rt.order = append(rt.order, raw)
		}
		if !c.present {
			c.present, c.left = true, time.Time{}
		}
		keep[raw] = true
		valid = append(valid, raw)
	}
	for raw, c := range rt.replicas {
		if c.present && !keep[raw] {
			c.present, c.left = false, now
		}
	}
	rt.balancer.Update(valid)
	return valid, nil
}

// replica returns the record of a replica known.
func (rt *router) replica(raw string) *replicaCount {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return rt.replicas[raw]
}

// results returns what the router sent to each replica it has known, in
// the order it learned of them, for the result; times are from start.
func (rt *router) results(start time.Time) []ReplicaResult {
	if rt == nil {
		return nil
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	var out []ReplicaResult
	for _, raw := range rt.order {
		c := rt.replicas[raw]
		r := ReplicaResult{URL: raw, Sent: c.sent.Load(), Failed: c.failed.Load()}
		if !c.joined.IsZero() {
			r.Joined = max(c.joined.Sub(start).Seconds(), 0)
		}
		if !c.present {
			r.Left = max(c.left.Sub(start).Seconds(), 1e-9)
		}
		out = append(out, r)
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
		if t.found {
			return nil, fmt.Errorf("%s: no replica available (none registered, or every one stopped)", t.name)
		}
		return nil, fmt.Errorf("no replica of %s is available: %w", t.name, err)
	}
	c := t.replica(raw)
	c.sent.Add(1)
	// A RoundTripper must not modify the request: a shallow copy, as
	// http.Request.WithContext makes, with a URL of its own.
	r := new(http.Request)
	*r = *req
	u := *req.URL
	to := c.url
	u.Scheme, u.Host, u.Path, u.RawPath, u.RawQuery = to.Scheme, to.Host, to.Path, to.RawPath, to.RawQuery
	r.URL = &u
	if req.Host == req.URL.Host {
		r.Host = "" // the Host header is the replica's, unless the target set its own
	}
	resp, err := t.base.RoundTrip(r)
	if err != nil {
		c.failed.Add(1)
		done()
		return nil, err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 399 {
		c.failed.Add(1) // as the attack counts it (Result: success is 2xx or 3xx)
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
