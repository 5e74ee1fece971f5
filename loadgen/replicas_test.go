package loadgen

import (
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/topology"
)

// The tests of replicas assert on counts, never on time: what the servers
// received against what the balancer says it sent, and, where the requests
// are held open, the balancer's counts in flight.

func replicaServers(t *testing.T, n int, h http.HandlerFunc) ([]*countingServer, []string) {
	var servers []*countingServer
	var urls []string
	for range n {
		s := newCountingServer(t, h)
		servers = append(servers, s)
		urls = append(urls, s.URL+"/")
	}
	return servers, urls
}

func inFlightAt(rt *router) []int {
	var out []int
	for _, e := range rt.balancer.Endpoints() {
		out = append(out, e.InFlight)
	}
	return out
}

// TestBalanceTransport sends requests through the transport of a target of
// three replicas balanced by least-requests, and holds their responses
// unread: each is in flight, for the balancer, until its body is closed,
// so six go two to each replica. A request that fails is counted out at
// once. The request given to the transport is not changed, and each
// replica sees its own Host.
func TestBalanceTransport(t *testing.T) {
	var mu sync.Mutex
	hosts := map[string]bool{}
	servers, urls := replicaServers(t, 3, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts[r.Host] = true
		mu.Unlock()
		w.Write([]byte("ok\n"))
	})
	rt, err := newRouter(&Target{Name: "front", Replicas: urls, Balancer: topology.BalancerLeastRequests}, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	base := &http.Transport{Proxy: nil}
	t.Cleanup(base.CloseIdleConnections)
	client := &http.Client{Transport: &balanceTransport{base: base, router: rt}}

	var bodies []io.ReadCloser
	for range 6 {
		req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, urls[0]+"?q=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if req.URL.String() != urls[0]+"?q=1" {
			t.Errorf("the request's URL was changed to %s", req.URL)
		}
		bodies = append(bodies, resp.Body)
	}
	if got := inFlightAt(rt); !slices.Equal(got, []int{2, 2, 2}) {
		t.Errorf("six responses unread: %v in flight, want two at each replica", got)
	}
	for i, s := range servers {
		if n := s.total.Load(); n != 2 {
			t.Errorf("replica %d received %d, want 2", i, n)
		}
		if u, _ := url.Parse(urls[i]); !hosts[u.Host] {
			t.Errorf("replica %d never saw its Host %s: %v", i, u.Host, hosts)
		}
	}
	for _, b := range bodies {
		io.Copy(io.Discard, b)
		b.Close()
	}
	if got := inFlightAt(rt); !slices.Equal(got, []int{0, 0, 0}) {
		t.Errorf("responses read and closed: %v in flight, want none", got)
	}

	servers[1].Close() // its requests now fail on the connection
	failed := 0
	for range 20 {
		resp, err := client.Get(urls[0])
		if err != nil {
			failed++
			continue
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	if got := inFlightAt(rt); failed == 0 || !slices.Equal(got, []int{0, 0, 0}) {
		t.Errorf("%d of 20 failed, and %v are in flight; want some failed, none in flight", failed, got)
	}
}

// TestAttackReplicas attacks a target of three replicas under each policy
// and checks that each replica received what the result says was sent to
// it, and that every request due was sent to one; round-robin, from one
// balancer, sends them a third each.
func TestAttackReplicas(t *testing.T) {
	leaktest.Check(t)
	const rate, duration = 200, 500 * time.Millisecond
	for _, policy := range topology.Balancers {
		t.Run(string(policy), func(t *testing.T) {
			servers, urls := replicaServers(t, 3, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
			opts := Options{Duration: duration, Arrivals: Constant, Seed: 3}
			res, err := Attack(t.Context(), []Target{{Name: "front", Replicas: urls, Balancer: policy, Rate: rate}}, opts)
			if err != nil {
				t.Fatal(err)
			}
			e := res.Entries[0]
			if e.URL != urls[0] || len(e.Replicas) != 3 {
				t.Fatalf("entry URL %s, replicas %+v", e.URL, e.Replicas)
			}
			var sent []int64
			var total int64
			for i, r := range e.Replicas {
				if got := servers[i].total.Load(); r.URL != urls[i] || r.Sent != got {
					t.Errorf("replica %d: %+v, and its server received %d", i, r, got)
				}
				sent = append(sent, r.Sent)
				total += r.Sent
			}
			if due := scheduledConstant(opts.Pacer(0, rate), duration); total+e.NotSent != due {
				t.Errorf("sent %v (%d) and %d not sent; %d were due", sent, total, e.NotSent, due)
			}
			if policy == topology.BalancerRoundRobin && slices.Max(sent)-slices.Min(sent) > 1 {
				t.Errorf("round-robin sent %v: not a third each", sent)
			}
			t.Logf("%s: sent %v", policy, sent)
		})
	}
}

// TestTargetsAtReplicas takes the entries at the URLs of their replicas:
// one of several replicas balances them with its service's policy, one of
// one URL is a plain target. TargetsAt refuses an entry of several
// replicas, which one URL would not spread the load over.
func TestTargetsAtReplicas(t *testing.T) {
	top, err := topology.Parse("rep.yaml", []byte(`
workload:
  - {entry: a, rate: 10}
  - {entry: b, rate: 30}
services:
  a: {replicas: 3, balancer: round-robin, service_time: 1ms}
  b: {service_time: 1ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	urls := func(service string) []string {
		if service == "a" {
			return []string{"http://127.0.0.1:1/", "http://127.0.0.1:2/", "http://127.0.0.1:3/"}
		}
		return []string{"http://127.0.0.1:4/"}
	}
	targets, err := TargetsAtReplicas(top, urls)
	if err != nil || len(targets) != 2 {
		t.Fatalf("targets %+v, %v", targets, err)
	}
	a, b := targets[0], targets[1]
	if a.Name != "a" || a.URL != "http://127.0.0.1:1/" || !slices.Equal(a.Replicas, urls("a")) || a.Balancer != topology.BalancerRoundRobin || a.Rate != 10 {
		t.Errorf("a: %+v", a)
	}
	if b.Name != "b" || b.URL != "http://127.0.0.1:4/" || b.Replicas != nil || b.Rate != 30 {
		t.Errorf("b: %+v", b)
	}
	_, err = TargetsAtReplicas(top, func(string) []string { return nil })
	if err == nil || !strings.Contains(err.Error(), "workload entry a, b has no URL") {
		t.Errorf("no URLs: %v", err)
	}
	_, err = TargetsAt(top, func(s string) string { return urls(s)[0] })
	if err == nil || !strings.Contains(err.Error(), "workload entry a (3) has several replicas") || !strings.Contains(err.Error(), "TargetsAtReplicas") {
		t.Errorf("TargetsAt of replicas: %v", err)
	}
}

// TestAttackReplicasBadInput checks the replicas before anything is sent.
func TestAttackReplicasBadInput(t *testing.T) {
	for _, tc := range []struct {
		target Target
		want   string
	}{
		{Target{Name: "x", Replicas: []string{"http://127.0.0.1:1/", "127.0.0.1:2"}, Rate: 1}, "target x: replica 1: \"127.0.0.1:2\" has no scheme"},
		{Target{Name: "x", Replicas: []string{"http://127.0.0.1:1/", "http://127.0.0.1:2/"}, Balancer: "fastest", Rate: 1}, `target x: "fastest" is not a balancer`},
	} {
		_, err := Attack(t.Context(), []Target{tc.target}, Options{Duration: time.Second})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v; want %q", tc.target, err, tc.want)
		}
	}
}

// TestBalancerStreamsApart: the targets' balancers draw from streams of
// their own, not from those of the emulation's balancers, which share the
// seed under attack --emulate and validate.
func TestBalancerStreamsApart(t *testing.T) {
	const emulation = "balancers" // package emulate's balancerStreams
	for _, seed := range []uint64{0, 1, 42} {
		for i := range 16 {
			a := random.Labelled(seed, balancerStreams, i).Uint64()
			for j := range 16 {
				if b := random.Labelled(seed, emulation, j).Uint64(); a == b {
					t.Errorf("seed %d: target %d's balancer draws first %#x, as the emulation's stream %d does", seed, i, a, j)
				}
			}
		}
	}
}
