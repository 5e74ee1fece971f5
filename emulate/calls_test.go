package emulate

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/internal/random"
)

// The tests of this file assert on order and counts, never on elapsed
// time. Where a callee must be slower than another for the test to say
// anything, it is blocked: the test takes all of its workers (block), so
// that the calls to it queue there until the test gives them back. That
// orders the events without a race against the clock, however loaded the
// machine.

// block takes every worker of the named service, so that requests to it
// queue until unblock gives the workers back.
func block(t *testing.T, em *Emulation, name string) (unblock func()) {
	t.Helper()
	p := em.services[em.Topology().Index(name)].pool
	var held []*worker
	for range p.size {
		g, ok := p.acquire(nil)
		if !ok {
			t.Fatalf("cannot take a worker of %s", name)
		}
		held = append(held, g.w)
	}
	return func() {
		for _, w := range held {
			p.release(w)
		}
		held = nil
	}
}

// stats returns the live state of the named service.
func stats(em *Emulation, name string) ServiceStats {
	return em.services[em.Topology().Index(name)].stats()
}

// waitFor polls until cond holds; it fails the test if it never does. The
// deadline is far beyond anything a loaded machine needs: it is there to
// end a broken test, not to time a working one.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("never: %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

type response struct {
	code int
	body string
	err  error
}

// getAsync sends a request in the background; its response comes on the
// channel returned.
func getAsync(c *http.Client, url string) <-chan response {
	ch := make(chan response, 1)
	go func() {
		resp, err := c.Get(url)
		if err != nil {
			ch <- response{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		ch <- response{code: resp.StatusCode, body: string(body), err: err}
	}()
	return ch
}

// settled reports whether every call of the service's groups has been
// waited for or has finished in the background.
func settled(p ParallelStats) bool {
	return p.BackgroundInFlight == 0 && p.Waited+p.BackgroundCompleted+p.BackgroundFailed == p.Calls
}

// TestParallelWait checks what a group waits for: all of its calls, the
// first (any), or a quorum; the calls not waited for run on in the
// background to the end, and load their callees all the same.
func TestParallelWait(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
		// blocked is a callee the test holds up until the response has
		// come, or "".
		blocked string
		// servedAtResponse is how many requests each callee had served
		// when the caller answered.
		servedAtResponse map[string]int64
		want             ParallelStats // once every call has finished
	}{
		{
			// Deterministic service times suffice here: the caller cannot
			// answer before the slower call has, however the machine runs.
			name: "all",
			doc: `workload: [{entry: front, rate: 1}]
services:
  front:
    service_time: 1ms
    distribution: deterministic
    calls:
      - parallel: [{to: fast}, {to: slow}]
        wait: all
  fast: {service_time: 10ms, distribution: deterministic}
  slow: {service_time: 50ms, distribution: deterministic}
`,
			servedAtResponse: map[string]int64{"fast": 1, "slow": 1},
			want:             ParallelStats{Calls: 2, Waited: 2},
		},
		{
			name: "any",
			doc: `workload: [{entry: front, rate: 1}]
services:
  front:
    service_time: 1ms
    distribution: deterministic
    calls:
      - parallel: [{to: fast}, {to: slow}]
        wait: any
  fast: {service_time: 10ms, distribution: deterministic}
  slow: {service_time: 30ms, distribution: deterministic}
`,
			blocked:          "slow",
			servedAtResponse: map[string]int64{"fast": 1, "slow": 0},
			want:             ParallelStats{Calls: 2, Waited: 1, BackgroundCompleted: 1},
		},
		{
			name: "quorum",
			doc: `workload: [{entry: front, rate: 1}]
services:
  front:
    service_time: 1ms
    distribution: deterministic
    calls:
      - parallel: [{to: a}, {to: b}, {to: c}]
        wait: 2
  a: {service_time: 10ms, distribution: deterministic}
  b: {service_time: 20ms, distribution: deterministic}
  c: {service_time: 30ms, distribution: deterministic}
`,
			blocked:          "c",
			servedAtResponse: map[string]int64{"a": 1, "b": 1, "c": 0},
			want:             ParallelStats{Calls: 3, Waited: 2, BackgroundCompleted: 1},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			em := start(t, tc.doc, Options{})
			c := testClient(t)
			unblock := func() {}
			if tc.blocked != "" {
				unblock = block(t, em, tc.blocked)
			}
			code, body := get(t, c, em.URL("front"))
			// Read at once: what had been served when the answer came.
			served := map[string]int64{}
			for name := range tc.servedAtResponse {
				served[name] = stats(em, name).Served
			}
			if code != http.StatusOK {
				t.Fatalf("front answered %d %q", code, body)
			}
			for name, want := range tc.servedAtResponse {
				if served[name] != want {
					t.Errorf("%s had served %d requests when front answered, want %d", name, served[name], want)
				}
			}
			if tc.blocked != "" {
				if p := stats(em, "front").Parallel; p.BackgroundInFlight != 1 {
					t.Errorf("front's parallel calls when it answered: %+v; want the call to %s under way in the background", p, tc.blocked)
				}
				// It reaches its callee without a request waiting for it.
				waitFor(t, "the call to "+tc.blocked+" queued there", func() bool { return stats(em, tc.blocked).QueueLength == 1 })
			}
			unblock()
			waitFor(t, "every call of the group finished", func() bool { return settled(stats(em, "front").Parallel) })
			if got := stats(em, "front").Parallel; got != tc.want {
				t.Errorf("front's parallel calls: %+v, want %+v", got, tc.want)
			}
			for name := range tc.servedAtResponse {
				if s := stats(em, name); s.Requests != 1 || s.Served != 1 {
					t.Errorf("%s: %d requests, %d served; want the one call, served", name, s.Requests, s.Served)
				}
			}
		})
	}
}

// TestParallelFailures checks the failure rule: a group succeeds when
// Waits(n) of its n calls made have succeeded, and fails its request with
// 502 at once when so many have failed that it no longer can.
func TestParallelFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		calls string // the group of front, in flow style
		down  []string
		// late are callees held up until front has received one answer
		// (the failure of a callee down); blocked is one held up until
		// front has answered.
		late    []string
		blocked string
		code    int
		body    []string
		want    ParallelStats // once every call has finished
		errors  int64         // front's call errors, then
		served  map[string]int64
	}{
		{
			name:  "all fail, wait all",
			calls: "{parallel: [{to: a}, {to: b}], wait: all}",
			down:  []string{"a", "b"},
			code:  http.StatusBadGateway,
			// The first failure settles it: both can no longer succeed.
			body:   []string{"front: 1 calls failed", "the parallel calls to a, b need 2 of 2 to succeed, and 1 failed"},
			want:   ParallelStats{Calls: 2, Waited: 1, BackgroundFailed: 1, GroupsFailed: 1},
			errors: 2,
		},
		{
			name:   "all fail, wait any",
			calls:  "{parallel: [{to: a}, {to: b}], wait: any}",
			down:   []string{"a", "b"},
			code:   http.StatusBadGateway,
			body:   []string{"front: 2 calls failed", "need 1 of 2 to succeed, and 2 failed"},
			want:   ParallelStats{Calls: 2, Waited: 2, GroupsFailed: 1},
			errors: 2,
		},
		{
			// b and c are held up until the failure of a is received,
			// d until front has answered: two successes of four calls,
			// one of which failed, meet the quorum.
			name:    "quorum met with one failure",
			calls:   "{parallel: [{to: a}, {to: b}, {to: c}, {to: d}], wait: 2}",
			down:    []string{"a"},
			late:    []string{"b", "c"},
			blocked: "d",
			code:    http.StatusOK,
			body:    []string{"front\n"},
			want:    ParallelStats{Calls: 4, Waited: 3, BackgroundCompleted: 1},
			errors:  1,
			served:  map[string]int64{"b": 1, "c": 1, "d": 1},
		},
		{
			// The answer comes while c is still held up: at once, not
			// when the last call has answered.
			name:    "quorum lost",
			calls:   "{parallel: [{to: a}, {to: b}, {to: c}], wait: 2}",
			down:    []string{"a", "b"},
			blocked: "c",
			code:    http.StatusBadGateway,
			body:    []string{"front: 2 calls failed", "the parallel calls to a, b, c need 2 of 3 to succeed, and 2 failed"},
			want:    ParallelStats{Calls: 3, Waited: 2, BackgroundCompleted: 1, GroupsFailed: 1},
			errors:  2,
			served:  map[string]int64{"c": 1},
		},
		{
			name:   "no call made",
			calls:  "{parallel: [{to: a, probability: 0}, {to: b, probability: 0}], wait: all}",
			code:   http.StatusOK,
			body:   []string{"front\n"},
			served: map[string]int64{"a": 0, "b": 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			leaktest.Check(t)
			doc := `workload: [{entry: front, rate: 1}]
services:
  front:
    service_time: 1ms
    calls: [` + tc.calls + `]
  a: {service_time: 1ms}
  b: {service_time: 1ms}
  c: {service_time: 1ms}
  d: {service_time: 1ms}
`
			em := start(t, doc, Options{})
			for _, name := range tc.down {
				em.services[em.Topology().Index(name)].srv.Close()
			}
			var unblockLate []func()
			for _, name := range tc.late {
				unblockLate = append(unblockLate, block(t, em, name))
			}
			unblock := func() {}
			if tc.blocked != "" {
				unblock = block(t, em, tc.blocked)
			}
			answer := getAsync(testClient(t), em.URL("front"))
			if len(unblockLate) > 0 {
				waitFor(t, "front received the failure", func() bool { return stats(em, "front").Parallel.Waited == 1 })
				for _, u := range unblockLate {
					u()
				}
			}
			r := <-answer
			if r.err != nil {
				t.Fatal(r.err)
			}
			code, body := r.code, r.body
			if tc.blocked != "" {
				if s := stats(em, tc.blocked); s.Served != 0 {
					t.Errorf("%s had served %d requests when front answered; it is held up", tc.blocked, s.Served)
				}
			}
			if code != tc.code {
				t.Errorf("front answered %d %q, want %d", code, body, tc.code)
			}
			for _, want := range tc.body {
				if !strings.Contains(body, want) {
					t.Errorf("front answered %q, want it to say %q", body, want)
				}
			}
			unblock()
			waitFor(t, "every call of the group finished", func() bool { return settled(stats(em, "front").Parallel) })
			front := stats(em, "front")
			if front.Parallel != tc.want || front.CallErrors != tc.errors {
				t.Errorf("front's parallel calls %+v and call errors %d, want %+v and %d", front.Parallel, front.CallErrors, tc.want, tc.errors)
			}
			for name, want := range tc.served {
				if s := stats(em, name); s.Requests != want || s.Served != want {
					t.Errorf("%s: %d requests, %d served; want %d", name, s.Requests, s.Served, want)
				}
			}
		})
	}
}

// TestParallelCoins checks that a seed fixes the calls a request makes in
// a group: its coins are flipped in call order, with those of the
// sequential calls, before any call goes, and a call that comes up is made
// count times.
func TestParallelCoins(t *testing.T) {
	leaktest.Check(t)
	const seed, n = 7, 60
	em := start(t, `workload: [{entry: front, rate: 1}]
services:
  front:
    servers: 2
    service_time: 100us
    calls:
      - {to: a, probability: 0.5, count: 2}
      - parallel:
          - {to: b, probability: 0.5, count: 3}
          - {to: c}
          - {to: d, probability: 0.3}
        wait: any
  a: {service_time: 100us}
  b: {service_time: 100us}
  c: {service_time: 100us}
  d: {service_time: 100us}
`, Options{Seed: seed})
	c := testClient(t)
	for range n {
		if code, body := get(t, c, em.URL("front")); code != http.StatusOK {
			t.Fatalf("front answered %d %q", code, body)
		}
	}
	coin := random.Labelled(seed, coinStreams, em.Topology().Index("front"))
	want := map[string]int64{"c": n}
	var groupCalls int64
	for range n {
		for range 2 {
			if coin.Float64() < 0.5 {
				want["a"]++
			}
		}
		groupCalls++ // c
		if coin.Float64() < 0.5 {
			want["b"] += 3
			groupCalls++
		}
		if coin.Float64() < 0.3 {
			want["d"]++
			groupCalls++
		}
	}
	waitFor(t, "every call of the groups finished", func() bool { return settled(stats(em, "front").Parallel) })
	if p := stats(em, "front").Parallel; p.Calls != groupCalls || p.Waited != n {
		t.Errorf("front's parallel calls %+v; want %d made, %d waited for (one a request)", p, groupCalls, n)
	}
	for name, w := range want {
		if s := stats(em, name); s.Requests != w || s.Served != w {
			t.Errorf("%s: %d requests, %d served; want %d", name, s.Requests, s.Served, w)
		}
	}
}

// TestHold checks that a worker of a service with hold: true stays busy
// while its request's calls are under way, so that a second request waits
// in the queue for it; without hold the worker serves the second request
// meanwhile. The callee is held up until the test has looked.
func TestHold(t *testing.T) {
	for _, hold := range []bool{true, false} {
		t.Run("hold="+strconv.FormatBool(hold), func(t *testing.T) {
			leaktest.Check(t)
			em := start(t, `workload: [{entry: front, rate: 1}]
services:
  front:
    servers: 1
    service_time: 1ms
    distribution: deterministic
    hold: `+strconv.FormatBool(hold)+`
    calls: [{to: slow}]
  slow: {servers: 1, service_time: 20ms, distribution: deterministic}
`, Options{})
			c := testClient(t)
			unblock := block(t, em, "slow")
			first := getAsync(c, em.URL("front"))
			waitFor(t, "the first request's call queued at slow", func() bool { return stats(em, "slow").QueueLength == 1 })
			// The first request's service time is over, and counted as
			// such, while its worker may still be held: the hold is not
			// in the service times.
			f := stats(em, "front")
			if f.Served != 1 || f.RealizedMean == nil || f.InService != 0 {
				t.Errorf("front while the first request is in its call: %+v; want its service time done and counted", f)
			}
			second := getAsync(c, em.URL("front"))
			if hold {
				waitFor(t, "the second request queued at front", func() bool { return stats(em, "front").QueueLength == 1 })
				f := stats(em, "front")
				if f.Busy != 1 || f.HeldInCalls != 1 || f.InService != 0 || f.Served != 1 || stats(em, "slow").QueueLength != 1 {
					t.Errorf("front with hold while the first request is in its call: %+v", f)
				}
				m := scrape(t, c, em.URL("front")+"metrics")
				if m["kendall_workers_held_in_calls"] != 1 || m["kendall_workers_in_service"] != 0 || m["kendall_busy_workers"] != 1 || m["kendall_queue_length"] != 1 {
					t.Errorf("/metrics while the first request is in its call: %v", m)
				}
			} else {
				waitFor(t, "the second request's call queued at slow", func() bool { return stats(em, "slow").QueueLength == 2 })
				f := stats(em, "front")
				if f.Busy != 0 || f.HeldInCalls != 0 || f.QueueLength != 0 || f.Served != 2 || f.InFlight != 2 {
					t.Errorf("front without hold while both requests are in their calls: %+v", f)
				}
			}
			unblock()
			for i, ch := range []<-chan response{first, second} {
				if r := <-ch; r.err != nil || r.code != http.StatusOK {
					t.Errorf("request %d: %d %v", i+1, r.code, r.err)
				}
			}
			f = stats(em, "front")
			if f.Served != 2 || f.Busy != 0 || f.HeldInCalls != 0 || f.QueueLength != 0 || (f.HeldInCallsMean != nil) != hold {
				t.Errorf("front after: %+v", f)
			}
			if m := scrape(t, c, em.URL("front")+"metrics"); hold != (m["kendall_held_in_calls_seconds_total"] > 0) {
				t.Errorf("/metrics after, hold %v: held in calls %v s", hold, m["kendall_held_in_calls_seconds_total"])
			}
		})
	}
}

// TestParallelClose closes an emulation with calls of groups under way:
// one that no request waits for any more, and one a request holding its
// worker waits for. Close returns, the request waiting fails with 503, the
// call not waited for is counted as failed, and no goroutine is left.
func TestParallelClose(t *testing.T) {
	leaktest.Check(t)
	em, err := Start(t.Context(), parseTopology(t, `workload: [{entry: any, rate: 1}, {entry: all, rate: 1}]
services:
  any:
    service_time: 1ms
    calls: [{parallel: [{to: fast}, {to: slow}], wait: any}]
  all:
    service_time: 1ms
    hold: true
    calls: [{parallel: [{to: fast}, {to: slow}], wait: all}]
  fast: {service_time: 1ms}
  slow: {servers: 1, service_time: 1ms}
`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	c := testClient(t)
	block(t, em, "slow")
	if code, body := get(t, c, em.URL("any")); code != http.StatusOK {
		t.Fatalf("any answered %d %q", code, body)
	}
	waiting := getAsync(c, em.URL("all"))
	waitFor(t, "both calls to slow queued", func() bool { return stats(em, "slow").QueueLength == 2 })
	if s := stats(em, "any"); s.Parallel.BackgroundInFlight != 1 {
		t.Errorf("any: %+v; want one call in the background", s.Parallel)
	}
	if s := stats(em, "all"); s.HeldInCalls != 1 || s.InFlight != 1 {
		t.Errorf("all: %+v; want its request in its calls, holding its worker", s)
	}
	if err := em.Close(); err != nil {
		t.Error(err)
	}
	if r := <-waiting; r.err == nil && r.code != http.StatusServiceUnavailable {
		t.Errorf("the request waiting for its group got %d, want 503 or a closed connection", r.code)
	}
	if p := stats(em, "any").Parallel; p.BackgroundInFlight != 0 || p.BackgroundFailed != 1 || p.BackgroundCompleted != 0 {
		t.Errorf("any after Close: %+v; want its call in the background failed", p)
	}
	if s := stats(em, "all"); s.Busy != 0 || s.HeldInCallsMean != nil {
		t.Errorf("all after Close: %+v; want its worker released, and no hold counted", s)
	}
}

// scrape reads a service's /metrics into a map from metric name to value.
func scrape(t *testing.T, c *http.Client, url string) map[string]float64 {
	t.Helper()
	code, body := get(t, c, url)
	if code != http.StatusOK {
		t.Fatalf("%s: %d", url, code)
	}
	m := map[string]float64{}
	for line := range strings.Lines(body) {
		if strings.HasPrefix(line, "#") {
			continue
		}
		name, rest, ok := strings.Cut(strings.TrimSpace(line), "{")
		_, value, ok2 := strings.Cut(rest, "} ")
		if !ok || !ok2 {
			t.Fatalf("%s: sample line %q", url, line)
		}
		v, err := strconv.ParseFloat(value, 64)
		if err != nil {
			t.Fatalf("%s: sample line %q: %v", url, line, err)
		}
		m[name] = v
	}
	return m
}
