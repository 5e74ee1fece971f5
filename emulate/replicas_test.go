package emulate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/internal/random"
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/topology"
)

// The tests of replicas assert on counts, never on time. A balancer's
// picks are fixed by its seeded stream and the order of its picks and
// dones, so each test replays that order on a balancer of its own, made
// from the same stream, and requires the emulation's replicas to have
// received exactly what it picked. Where requests must be in flight at
// once, every replica of the callee is blocked (its workers taken) until
// all of them have arrived: no call answers, so no done comes between the
// picks, whatever the scheduler does.

// replicasTopology is front, of replicas front replicas, calling back, of
// three replicas balanced by policy, once per request.
func replicasTopology(front int, policy topology.Balancer) string {
	return fmt.Sprintf(`
name: replicas
workload: [{entry: front, rate: 10}]
services:
  front:
    replicas: %d
    servers: 8
    service_time: 100us
    calls: [{to: back}]
  back: {replicas: 3, balancer: %s, service_time: 100us}
`, front, policy)
}

// replay is a balancer like the one replica r of caller keeps for callee:
// the same policy, endpoints and stream, so that it picks what that one
// picks when asked in the same order.
func replay(t *testing.T, em *Emulation, seed uint64, caller string, r int, callee string) *balance.Balancer {
	t.Helper()
	top := em.Topology()
	n := len(top.Services)
	stream := replicaStream(top.Index(caller), r, n)*n + top.Index(callee)
	b, err := balance.New(top.Service(callee).Balancer, em.URLs(callee), random.Labelled(seed, balancerStreams, stream))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// picks returns how many picks b has made at each endpoint.
func picks(b *balance.Balancer) []int64 {
	var out []int64
	for _, e := range b.Endpoints() {
		out = append(out, e.Picks)
	}
	return out
}

// replicaRequests returns how many requests each replica of the named
// service has received.
func replicaRequests(em *Emulation, name string) []int64 {
	var out []int64
	for _, s := range em.ReplicaStats(name) {
		out = append(out, s.Requests)
	}
	return out
}

// blockReplicas takes every worker of every replica of the named service,
// as block does for one.
func blockReplicas(t *testing.T, em *Emulation, name string) (unblock func()) {
	t.Helper()
	var unblocks []func()
	for _, s := range em.replicas[em.Topology().Index(name)] {
		var held []*worker
		for range s.pool.size {
			g, ok := s.pool.acquire(nil)
			if !ok {
				t.Fatalf("cannot take a worker of %s", s.name)
			}
			held = append(held, g.w)
		}
		unblocks = append(unblocks, func() {
			for _, w := range held {
				s.pool.release(w)
			}
		})
	}
	return func() {
		for _, u := range unblocks {
			u()
		}
	}
}

func equal(a, b []int64) bool { return fmt.Sprint(a) == fmt.Sprint(b) }

func spread(counts []int64) int64 {
	lo, hi := counts[0], counts[0]
	for _, c := range counts {
		lo, hi = min(lo, c), max(hi, c)
	}
	return hi - lo
}

// TestReplicasBalance emulates front calling back, of three replicas,
// under each policy. First six requests at once, with back blocked, so
// that six calls are in flight together; then thirty one at a time, each
// call answered before the next is made. Back's replicas must receive
// exactly what front's balancer, replayed, picks; and what each policy
// implies: round-robin and least-requests give two each to six calls in
// flight at once, round-robin one third of all to each replica.
func TestReplicasBalance(t *testing.T) {
	leaktest.Check(t)
	const seed, together, sequential = 17, 6, 30
	for _, policy := range topology.Balancers {
		t.Run(string(policy), func(t *testing.T) {
			em := start(t, replicasTopology(1, policy), Options{Seed: seed})
			c := testClient(t)
			want := replay(t, em, seed, "front", 0, "back")

			unblock := blockReplicas(t, em, "back")
			var wg sync.WaitGroup
			codes := make(chan int, together)
			for range together {
				wg.Go(func() { // not get, whose t.Fatal would be off the test's goroutine
					resp, err := c.Get(em.URL("front"))
					if err != nil {
						t.Error(err)
						codes <- 0
						return
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					codes <- resp.StatusCode
				})
			}
			var dones []func()
			for range together {
				_, done, _ := want.Pick()
				dones = append(dones, done)
			}
			waitFor(t, "the calls to reach back", func() bool { return em.Stats()[1].Requests == together })
			got := replicaRequests(em, "back")
			if !equal(got, picks(want)) {
				t.Errorf("%d calls in flight at once went %v to back's replicas; the balancer picks %v", together, got, picks(want))
			}
			if (policy == topology.BalancerRoundRobin || policy == topology.BalancerLeastRequests) && spread(got) != 0 {
				t.Errorf("%s sent %d calls in flight at once %v: not two each", policy, together, got)
			}
			unblock()
			wg.Wait()
			close(codes)
			for code := range codes {
				if code != http.StatusOK {
					t.Errorf("front answered %d", code)
				}
			}
			for _, done := range dones {
				done()
			}

			for range sequential {
				if code, _ := get(t, c, em.URL("front")); code != http.StatusOK {
					t.Fatalf("front answered %d", code)
				}
				_, done, _ := want.Pick()
				done()
			}
			got = replicaRequests(em, "back")
			if !equal(got, picks(want)) {
				t.Errorf("back's replicas received %v; the balancer picks %v", got, picks(want))
			}
			if policy == topology.BalancerRoundRobin && spread(got) > 0 {
				t.Errorf("round-robin sent %v: not a third each", got)
			}
			t.Logf("%s: back's replicas received %v", policy, got)
			back := em.Stats()[1]
			if back.Requests != together+sequential || back.Served != together+sequential || len(back.Replicas) != 3 || back.InFlight != 0 {
				t.Errorf("back's stats over its replicas: %d requests, %d served, %d replicas, %d in flight; want %d, %d, 3, 0",
					back.Requests, back.Served, len(back.Replicas), back.InFlight, together+sequential, together+sequential)
			}
		})
	}
}

// TestReplicasCallers checks that each replica of a caller balances with
// a balancer of its own: front's two replicas, sent 7 and 5 requests, each
// route their calls to back's three by round-robin from their own random
// start.
func TestReplicasCallers(t *testing.T) {
	leaktest.Check(t)
	const seed = 4
	em := start(t, replicasTopology(2, topology.BalancerRoundRobin), Options{Seed: seed})
	c := testClient(t)
	fronts := em.URLs("front")
	if len(fronts) != 2 || fronts[0] != em.URL("front") || fronts[0] == fronts[1] {
		t.Fatalf("front's URLs %v, URL %s", fronts, em.URL("front"))
	}
	sent := []int{7, 5}
	want := make([]int64, 3)
	for r, n := range sent {
		b := replay(t, em, seed, "front", r, "back")
		for range n {
			if code, body := get(t, c, fronts[r]); code != http.StatusOK || body != "front\n" {
				t.Fatalf("front[%d] answered %d %q", r, code, body)
			}
			_, done, _ := b.Pick()
			done()
		}
		for i, p := range picks(b) {
			want[i] += p
		}
	}
	if got := replicaRequests(em, "back"); !equal(got, want) {
		t.Errorf("back's replicas received %v; front's two balancers pick %v", got, want)
	}
	if got := replicaRequests(em, "front"); !equal(got, []int64{7, 5}) {
		t.Errorf("front's replicas received %v, want [7 5]", got)
	}
	// front's replica 0 has the streams of a service of one replica.
	if got := em.replicas[0][0].coin.Uint64(); got != random.Labelled(seed, coinStreams, 0).Uint64() {
		t.Error("replica 0 does not have the streams of a service of one replica")
	}
}

// TestReplicasMetrics reads each replica's /metrics: its own counters,
// labelled with the service and the replica.
func TestReplicasMetrics(t *testing.T) {
	em := start(t, replicasTopology(1, topology.BalancerRoundRobin), Options{})
	c := testClient(t)
	for range 6 {
		get(t, c, em.URL("front"))
	}
	for r, u := range em.URLs("back") {
		_, body := get(t, c, u+"metrics")
		sample := fmt.Sprintf(`kendall_requests_total{service="back",replica="%d"} 2`, r)
		if !strings.Contains(body, sample+"\n") {
			t.Errorf("back[%d]'s /metrics has no %q:\n%s", r, sample, body)
		}
	}
	if _, body := get(t, c, em.URL("front")+"metrics"); !strings.Contains(body, `kendall_requests_total{service="front"} 6`+"\n") {
		t.Errorf("front's /metrics, one replica, has no replica label and 6 requests:\n%s", body)
	}
}

// freePorts returns the first of n consecutive ports on 127.0.0.1 that
// were free a moment ago.
func freePorts(t *testing.T, n int) int {
	t.Helper()
	for range 50 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		lns := []net.Listener{ln}
		for k := 1; k < n && port+k <= maxPort; k++ {
			l, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+k))
			if err != nil {
				break
			}
			lns = append(lns, l)
		}
		for _, l := range lns {
			l.Close()
		}
		if len(lns) == n {
			return port
		}
	}
	t.Fatalf("no %d consecutive free ports", n)
	return 0
}

// TestReplicasListen pins the listen rule: consecutive ports from the
// listen: port, a free port each with port 0, and an error naming the
// field when the ports would pass 65535.
func TestReplicasListen(t *testing.T) {
	leaktest.Check(t)
	doc := func(listen string) string {
		return "workload: [{entry: a, rate: 1}]\nservices:\n  a: {replicas: 3, service_time: 1ms, listen: \"" + listen + "\"}\n"
	}
	var em *Emulation
	var err error
	var port int
	for range 5 { // another process may take a port between freePorts and Start
		port = freePorts(t, 3)
		em, err = Start(t.Context(), parseTopology(t, doc("127.0.0.1:"+strconv.Itoa(port))), Options{})
		if err == nil {
			break
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	for r, u := range em.URLs("a") {
		if want := fmt.Sprintf("http://127.0.0.1:%d/", port+r); u != want {
			t.Errorf("replica %d serves at %s, want %s", r, u, want)
		}
	}
	c := testClient(t)
	for _, u := range em.URLs("a") {
		if code, body := get(t, c, u); code != http.StatusOK || body != "a\n" {
			t.Errorf("%s answered %d %q", u, code, body)
		}
	}
	if got := replicaRequests(em, "a"); !equal(got, []int64{1, 1, 1}) {
		t.Errorf("replicas received %v, want one each", got)
	}
	em.Close()

	em = start(t, doc("127.0.0.1:0"), Options{})
	urls := em.URLs("a")
	if len(urls) != 3 || urls[0] == urls[1] || urls[1] == urls[2] || urls[0] == urls[2] {
		t.Errorf("port 0: replicas at %v, want three ports", urls)
	}
	if em.URLs("nowhere") != nil || em.ReplicaStats("nowhere") != nil {
		t.Error("URLs or ReplicaStats of a service not in the topology")
	}

	var te *topology.Error
	_, err = Start(t.Context(), parseTopology(t, doc("127.0.0.1:65534")), Options{})
	if !errors.As(err, &te) || te.File != "test.yaml" || te.Line != 3 || te.Field != "services.a.listen" ||
		!strings.Contains(te.Msg, "3 replicas from port 65534 need the ports 65534 to 65536, beyond 65535") || !strings.Contains(te.Msg, "port 65533 or lower") {
		t.Errorf("ports past 65535: %v", err)
	}

	// A port of a replica other than the first in use: the error says
	// which replica.
	port = freePorts(t, 2)
	ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port+1))
	if err != nil {
		t.Skip(err) // taken meanwhile: nothing to test
	}
	defer ln.Close()
	_, err = Start(t.Context(), parseTopology(t, doc("127.0.0.1:"+strconv.Itoa(port))), Options{})
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "for replica 1 of 3") || !strings.Contains(err.Error(), "consecutive ports") {
		t.Errorf("replica 1's port in use: %v", err)
	}
}

// TestReplicasNoLeak closes an emulation of replicas with calls in flight
// at every replica: no goroutine outlives Close.
func TestReplicasNoLeak(t *testing.T) {
	leaktest.Check(t)
	em, err := Start(t.Context(), parseTopology(t, replicasTopology(2, topology.BalancerLeastRequests)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(t)
	blockReplicas(t, em, "back") // never given back: Close cuts the calls short
	var wg sync.WaitGroup
	for i := range 6 {
		wg.Go(func() {
			resp, err := c.Get(em.URLs("front")[i%2])
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	waitFor(t, "the calls to reach back", func() bool { return em.Stats()[1].QueueLength == 6 })
	if err := em.Close(); err != nil {
		t.Error(err)
	}
	wg.Wait()
}

// TestReplicasAttack attacks an emulation whose entry has two replicas,
// as kendall attack --emulate does: the load generator, one client of
// front, spreads its requests over front's replicas by round-robin, and
// each replica received what the attack says it sent there.
func TestReplicasAttack(t *testing.T) {
	leaktest.Check(t)
	top := parseTopology(t, replicasTopology(2, topology.BalancerLeastRequests))
	top.Service("front").Balancer = topology.BalancerRoundRobin
	em, err := Start(t.Context(), top, Options{Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	targets, err := loadgen.TargetsAtReplicas(top, em.URLs)
	if err != nil {
		t.Fatal(err)
	}
	targets[0].Rate = 100
	res, err := loadgen.Attack(t.Context(), targets, loadgen.Options{Duration: 400 * time.Millisecond, Arrivals: loadgen.Constant, Seed: 2})
	if err != nil {
		t.Fatal(err)
	}
	e := res.Entries[0]
	fronts := em.ReplicaStats("front")
	if len(e.Replicas) != 2 {
		t.Fatalf("the result has replicas %+v", e.Replicas)
	}
	var sent []int64
	for r, rep := range e.Replicas {
		if rep.URL != fronts[r].URL || rep.Sent != fronts[r].Requests {
			t.Errorf("front[%d] at %s received %d; the attack sent %+v", r, fronts[r].URL, fronts[r].Requests, rep)
		}
		sent = append(sent, rep.Sent)
	}
	if spread(sent) > 1 {
		t.Errorf("round-robin sent %v to front's replicas: not half each", sent)
	}
	st := em.Stats()
	if st[0].Requests != sent[0]+sent[1] || st[1].Requests != st[0].Requests || st[0].CallErrors != 0 {
		t.Errorf("front received %d, back %d, with %d call errors; the attack sent %v", st[0].Requests, st[1].Requests, st[0].CallErrors, sent)
	}
}

// stopTopology is front, of two replicas, calling back, of eight.
const stopTopology = `
name: stops
workload: [{entry: front, rate: 10}]
services:
  front: {replicas: 2, servers: 4, service_time: 100us, calls: [{to: back}]}
  back: {replicas: 8, servers: 2, service_time: 100us}
`

// TestStopReplicasConcurrently: replicas stopped at once, without a
// Discovery, all leave their callers' balancers, whatever the order in
// which their stops run; and WatchReplicas reports the replicas left,
// then ErrClosed once the emulation is closed.
func TestStopReplicasConcurrently(t *testing.T) {
	leaktest.Check(t)
	for round := range 10 {
		em, err := Start(t.Context(), parseTopology(t, stopTopology), Options{Seed: uint64(round), StopGrace: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		urls := em.URLs("back")
		lists := make(chan []string, 100)
		watched := make(chan error, 1)
		go func() { watched <- em.WatchReplicas(context.Background(), "back", func(u []string) { lists <- u }) }()
		if got := <-lists; !slices.Equal(got, urls) {
			t.Fatalf("WatchReplicas first reported %q, want %q", got, urls)
		}
		var wg sync.WaitGroup
		for r := 1; r < len(urls); r++ {
			wg.Go(func() {
				if err := em.StopReplica(t.Context(), "back", r); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for _, b := range em.callers["back"] {
			var known []string
			for _, ep := range b.Endpoints() {
				known = append(known, ep.Addr)
			}
			if !slices.Equal(known, urls[:1]) {
				t.Errorf("round %d: a balancer of front knows %q of back after replicas 1 to 7 stopped, want only %q", round, known, urls[:1])
			}
		}
		for last := urls; !slices.Equal(last, urls[:1]); {
			select {
			case last = <-lists:
			case <-time.After(patience):
				t.Fatalf("WatchReplicas reported %q last, not %q", last, urls[:1])
			}
		}
		em.Close()
		if err := <-watched; !errors.Is(err, ErrClosed) {
			t.Errorf("WatchReplicas after Close: %v, want ErrClosed", err)
		}
	}
}

// TestStopReplicaUnderAttack: the load generator, following an entry's
// replicas through WatchReplicas as kendall attack --emulate does, sends
// nothing to one stopped during the attack once it has stopped: none of
// its requests fails, and the other takes the rest.
func TestStopReplicaUnderAttack(t *testing.T) {
	leaktest.Check(t)
	top := parseTopology(t, replicasTopology(2, topology.BalancerRandom))
	em, err := Start(t.Context(), top, Options{Seed: 4, StopGrace: 100 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer em.Close()
	targets, err := loadgen.TargetsAtReplicas(top, em.URLs)
	if err != nil {
		t.Fatal(err)
	}
	targets[0].Rate = 200
	targets[0].Discover = func(ctx context.Context, update func([]string)) error {
		return em.WatchReplicas(ctx, "front", update)
	}
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	stopped := make(chan error, 1)
	go func() {
		defer interrupt()
		requests := func(r int) int64 { return em.ReplicaStats("front")[r].Requests }
		for requests(1) < 20 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		err := em.StopReplica(ctx, "front", 1) // returns once it refuses connections
		after := requests(0)
		for requests(0) < after+40 && ctx.Err() == nil {
			time.Sleep(time.Millisecond)
		}
		stopped <- err
	}()
	res, err := loadgen.Attack(ctx, targets, loadgen.Options{Duration: patience, Seed: 4})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Attack: %v, want its interruption once front[0] had taken the load", err)
	}
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	e := res.Entries[0]
	if len(e.Replicas) != 2 || e.Replicas[1].Left <= 0 || e.Replicas[1].Failed != 0 || e.Replicas[1].Sent != em.ReplicaStats("front")[1].Requests {
		t.Errorf("the attack's replicas %+v; front[1] received %d", e.Replicas, em.ReplicaStats("front")[1].Requests)
	}
}
