package loadgen

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/leaktest"
	"github.com/kendallqn/kendall/topology"
)

// TestAttackDiscover attacks a target whose replicas are discovered: two
// at first, one of them failing every request with 503, which leaves
// after it has received 40. It receives nothing after that; every request
// is counted once, as sent to one replica, and its failures as failures
// of the entry, though the replica has left.
func TestAttackDiscover(t *testing.T) {
	leaktest.Check(t)
	servers, urls := replicaServers(t, 2, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	bad := newCountingServer(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	badURL := bad.URL + "/"
	var atLeave int64
	discover := func(ctx context.Context, update func([]string)) error {
		update([]string{urls[0], badURL})
		for bad.total.Load() < 40 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Millisecond):
			}
		}
		update([]string{urls[0]})
		atLeave = bad.total.Load()
		update([]string{urls[0], urls[1]}) // a replica that joins
		<-ctx.Done()
		return ctx.Err()
	}
	const rate, duration = 400, 500 * time.Millisecond
	opts := Options{Duration: duration, Arrivals: Constant, Seed: 3}
	res, err := Attack(t.Context(), []Target{{Name: "front", Discover: discover, Balancer: topology.BalancerRoundRobin, Rate: rate}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	e := res.Entries[0]
	if e.URL != urls[0] || len(e.Replicas) != 3 {
		t.Fatalf("entry URL %s, replicas %+v", e.URL, e.Replicas)
	}
	a, b, c := e.Replicas[0], e.Replicas[1], e.Replicas[2]
	if a.URL != urls[0] || b.URL != badURL || c.URL != urls[1] {
		t.Fatalf("replicas %+v", e.Replicas)
	}
	if a.Left != 0 || a.Joined != 0 || b.Left <= 0 || c.Joined <= 0 || c.Left != 0 {
		t.Errorf("joined and left: %+v", e.Replicas)
	}
	if got := bad.total.Load(); b.Sent != got || b.Failed != got || got < 40 || got > atLeave+int64(opts.maxInFlight()) {
		t.Errorf("the replica that left: %+v, its server received %d, %d when it left", b, got, atLeave)
	}
	if a.Sent != servers[0].total.Load() || c.Sent != servers[1].total.Load() || a.Failed != 0 || c.Failed != 0 || c.Sent == 0 {
		t.Errorf("replicas %+v; servers received %d, %d", e.Replicas, servers[0].total.Load(), servers[1].total.Load())
	}
	if due := scheduledConstant(opts.Pacer(0, rate), duration); a.Sent+b.Sent+c.Sent+e.NotSent != due {
		t.Errorf("sent %d+%d+%d and %d not sent; %d were due", a.Sent, b.Sent, c.Sent, e.NotSent, due)
	}
	if e.Requests != e.Successes+e.StatusCodes["503"] || e.StatusCodes["503"] != b.Failed {
		t.Errorf("requests %d, successes %d, status codes %v; the replica that left failed %d", e.Requests, e.Successes, e.StatusCodes, b.Failed)
	}
}

// TestAttackDiscoverNone: a target none of whose replicas is found fails
// before anything is sent, and says so.
func TestAttackDiscoverNone(t *testing.T) {
	leaktest.Check(t)
	opts := Options{Duration: time.Second}
	for _, tc := range []struct {
		discover func(context.Context, func([]string)) error
		want     string
	}{
		{func(ctx context.Context, update func([]string)) error { update(nil); <-ctx.Done(); return ctx.Err() }, "front: no replica registered"},
		{func(ctx context.Context, update func([]string)) error { return errors.New("etcd is down") }, "finding the replicas of front: etcd is down"},
		// A first list none of whose URLs is valid names no replica.
		{func(ctx context.Context, update func([]string)) error {
			update([]string{"not a URL", "ftp://127.0.0.1:1/"})
			<-ctx.Done()
			return ctx.Err()
		}, `front: no replica to attack: none of the 2 listed has an http(s) URL`},
	} {
		_, err := Attack(t.Context(), []Target{{Name: "front", Discover: tc.discover, Rate: 10}}, opts)
		if !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want ErrUnreachable with %q", err, tc.want)
		}
	}
	_, err := Attack(t.Context(), []Target{{Discover: func(context.Context, func([]string)) error { return nil }, Rate: 10}}, opts)
	if err == nil || !strings.Contains(err.Error(), "needs a Name") {
		t.Errorf("error %v", err)
	}
}

// TestAttackDiscoverRetried: a Discover that fails during the attack is
// started again, with a warning, and the replicas it then lists get the
// requests; the result counts the failure.
func TestAttackDiscoverRetried(t *testing.T) {
	leaktest.Check(t)
	servers, urls := replicaServers(t, 2, func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("ok\n")) })
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	var calls atomic.Int32
	discover := func(ctx context.Context, update func([]string)) error {
		switch calls.Add(1) {
		case 1:
			update(urls[:1])
			for servers[0].total.Load() < 5 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			return errors.New("the watch broke")
		default:
			update(urls) // a replica that joined while the watch was down
			for servers[1].total.Load() < 5 && ctx.Err() == nil {
				time.Sleep(time.Millisecond)
			}
			interrupt() // seen: the attack may end
			<-ctx.Done()
			return ctx.Err()
		}
	}
	var warnings []string
	var mu sync.Mutex
	opts := Options{Duration: 2 * patienceDiscover, Seed: 5, Warn: func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	}}
	res, err := Attack(ctx, []Target{{Name: "front", Discover: discover, Rate: 200}}, opts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Attack: %v, want the interruption the test made once the new replica had requests", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("Discover called %d times, want 2", n)
	}
	e := res.Entries[0]
	if len(e.Replicas) != 2 || e.Replicas[1].URL != urls[1] || e.Replicas[1].Sent < 5 || e.Replicas[1].Joined <= 0 {
		t.Errorf("replicas %+v", e.Replicas)
	}
	mu.Lock()
	if len(warnings) != 1 || !strings.Contains(warnings[0], "front: following its replicas failed (the watch broke)") {
		t.Errorf("warnings as they came: %q", warnings)
	}
	mu.Unlock()
	if !slices.ContainsFunc(res.Run.Warnings, func(w string) bool {
		return strings.Contains(w, "front: following its replicas failed 1 time during the attack (last: the watch broke), and was started again")
	}) {
		t.Errorf("result's warnings %q", res.Run.Warnings)
	}
}

// patienceDiscover bounds the attacks of the tests of Discover: they end
// long before, when the test has seen what it waits for.
const patienceDiscover = 30 * time.Second
