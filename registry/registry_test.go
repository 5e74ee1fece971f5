package registry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/kendallqn/kendall/internal/etcdtest"
	"github.com/kendallqn/kendall/internal/leaktest"
)

// patience bounds every wait on etcd: generous, since the machine may be
// busy, and never a timing assertion.
const patience = 30 * time.Second

// open connects to the embedded etcd and closes the Registry at the end
// of the test. Warnings go to the test log unless opts says otherwise.
func open(t *testing.T, opts Options) *Registry {
	t.Helper()
	if opts.Warn == nil {
		opts.Warn = func(msg string) { t.Log("warning:", msg) }
	}
	r, err := Open(context.Background(), etcdURL, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r
}

// watcher runs Watch in the background and hands over each list of URLs.
type watcher struct {
	lists  chan []string
	cancel context.CancelFunc
	done   chan error
}

// watch starts a watcher that ends with the test.
func watch(t *testing.T, r *Registry, topology, service string) *watcher {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	w := &watcher{lists: make(chan []string, 100), cancel: cancel, done: make(chan error, 1)}
	go func() { w.done <- r.Watch(ctx, topology, service, func(urls []string) { w.lists <- urls }) }()
	t.Cleanup(func() {
		cancel()
		if err := <-w.done; !errors.Is(err, context.Canceled) {
			t.Errorf("Watch ended with %v, want context.Canceled", err)
		}
	})
	return w
}

// await waits until the watcher reports want, failing the test after
// patience.
func (w *watcher) await(t *testing.T, want ...string) {
	t.Helper()
	if want == nil {
		want = []string{}
	}
	deadline := time.After(patience)
	var last []string
	for {
		select {
		case urls := <-w.lists:
			if slices.Equal(urls, want) {
				return
			}
			last = urls
		case err := <-w.done:
			t.Fatalf("Watch ended with %v while waiting for %q", err, want)
		case <-deadline:
			t.Fatalf("Watch reported %q last, not %q, within %v", last, want, patience)
		}
	}
}

func register(t *testing.T, r *Registry, topology, service string, replica int, url string) *Registration {
	t.Helper()
	reg, err := r.Register(context.Background(), topology, service, replica, url)
	if err != nil {
		t.Fatal(err)
	}
	return reg
}

func TestRegisterWatch(t *testing.T) {
	leaktest.Check(t)
	serving, calling := open(t, Options{}), open(t, Options{})
	w := watch(t, calling, "shop", "db")
	w.await(t) // the first call reports none

	register(t, serving, "shop", "db", 0, "http://127.0.0.1:9001")
	w.await(t, "http://127.0.0.1:9001")
	second := register(t, serving, "shop", "db", 1, "http://127.0.0.1:9000")
	w.await(t, "http://127.0.0.1:9000", "http://127.0.0.1:9001")

	// Another service of the same topology is not reported.
	register(t, serving, "shop", "cart", 0, "http://127.0.0.1:9002")

	if err := second.Close(); err != nil {
		t.Fatal(err)
	}
	w.await(t, "http://127.0.0.1:9001")
	if err := second.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}

	// A replica whose ctx ends is withdrawn.
	ctx, cancel := context.WithCancel(context.Background())
	if _, err := serving.Register(ctx, "shop", "db", 2, "http://127.0.0.1:9003"); err != nil {
		t.Fatal(err)
	}
	w.await(t, "http://127.0.0.1:9001", "http://127.0.0.1:9003")
	cancel()
	w.await(t, "http://127.0.0.1:9001")

	// A watch started later reads what is registered now.
	watch(t, calling, "shop", "cart").await(t, "http://127.0.0.1:9002")
}

func TestCloseWithdrawsAtOnce(t *testing.T) {
	leaktest.Check(t)
	serving, calling := open(t, Options{TTL: time.Hour}), open(t, Options{})
	w := watch(t, calling, "close", "db")
	w.await(t)
	for i := range 3 {
		register(t, serving, "close", "db", i, fmt.Sprintf("http://127.0.0.1:%d", 9000+i))
	}
	w.await(t, "http://127.0.0.1:9000", "http://127.0.0.1:9001", "http://127.0.0.1:9002")
	// With an hour's TTL, only the lease's revocation can empty the list
	// within the test's patience.
	if err := serving.Close(); err != nil {
		t.Fatal(err)
	}
	w.await(t)

	if _, err := serving.Register(context.Background(), "close", "db", 0, "http://127.0.0.1:9000"); !errors.Is(err, ErrClosed) {
		t.Errorf("Register after Close: %v, want ErrClosed", err)
	}
	// The service is free again: another process claims it.
	other := open(t, Options{})
	register(t, other, "close", "db", 0, "http://127.0.0.1:9100")
	w.await(t, "http://127.0.0.1:9100")
}

// TestLeaseExpiry simulates a process that dies: it stops renewing its
// lease without revoking it. Its replicas and its claim go when the lease
// expires.
func TestLeaseExpiry(t *testing.T) {
	leaktest.Check(t)
	calling := open(t, Options{})
	dying, err := Open(context.Background(), etcdURL, Options{TTL: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	w := watch(t, calling, "crash", "db")
	w.await(t)
	register(t, dying, "crash", "db", 0, "http://127.0.0.1:9000")
	w.await(t, "http://127.0.0.1:9000")

	dying.abandon()
	w.await(t)

	successor := open(t, Options{})
	register(t, successor, "crash", "db", 0, "http://127.0.0.1:9001")
	w.await(t, "http://127.0.0.1:9001")
}

// TestLeaseLost: a lease that etcd ends (here revoked by another client,
// as expiry would) is reported, and the replicas registered under it are
// registered again under a new lease, which the next Register uses too.
func TestLeaseLost(t *testing.T) {
	leaktest.Check(t)
	warnings := make(chan string, 10)
	serving := open(t, Options{Warn: func(msg string) { warnings <- msg }})
	calling := open(t, Options{})
	w := watch(t, calling, "lost", "db")
	w.await(t)
	register(t, serving, "lost", "db", 0, "http://127.0.0.1:9000")
	register(t, serving, "lost", "cart", 0, "http://127.0.0.1:9100")
	w.await(t, "http://127.0.0.1:9000")

	lease := leaseOf(serving)
	revoke(t, calling, lease)
	w.await(t)
	w.await(t, "http://127.0.0.1:9000") // back, under a new lease
	awaitWarning(t, warnings, fmt.Sprintf("lease %x of this process ended (etcd unreachable for longer than the TTL, 5s?); its 2 replicas are no longer registered: registering them again under a new lease as soon as etcd answers", int64(lease)))
	awaitWarning(t, warnings, "registered again under lease ")
	serving.mu.Lock()
	renewed := serving.lease
	serving.mu.Unlock()
	if renewed == 0 || renewed == lease {
		t.Errorf("lease %x after recovery, lost %x", renewed, lease)
	}
	watch(t, calling, "lost", "cart").await(t, "http://127.0.0.1:9100")

	register(t, serving, "lost", "db", 1, "http://127.0.0.1:9001")
	w.await(t, "http://127.0.0.1:9000", "http://127.0.0.1:9001")
	// Under the new lease, a Close withdraws at once.
	if err := serving.Close(); err != nil {
		t.Fatal(err)
	}
	w.await(t)
}

// TestLeaseLostClaimed: a service that another process claims while this
// one's lease is lost is left to it, with a warning that names it; this
// process's other services are registered again.
func TestLeaseLostClaimed(t *testing.T) {
	leaktest.Check(t)
	warnings := make(chan string, 10)
	serving := open(t, Options{Warn: func(msg string) { warnings <- msg }})
	calling, other := open(t, Options{}), open(t, Options{})
	db, cart := watch(t, calling, "claimed", "db"), watch(t, calling, "claimed", "cart")
	register(t, serving, "claimed", "db", 0, "http://127.0.0.1:9000")
	register(t, serving, "claimed", "cart", 0, "http://127.0.0.1:9100")
	db.await(t, "http://127.0.0.1:9000")
	cart.await(t, "http://127.0.0.1:9100")

	// The recovery waits for serving.mu: the other process claims db
	// first.
	lease := leaseOf(serving)
	serving.mu.Lock()
	revoke(t, calling, lease)
	db.await(t)
	register(t, other, "claimed", "db", 0, "http://127.0.0.1:9200")
	db.await(t, "http://127.0.0.1:9200")
	serving.mu.Unlock()

	host, _ := os.Hostname()
	awaitWarning(t, warnings, fmt.Sprintf(`service "db" of topology "claimed" was claimed by another process while this one's lease was lost: pid %d on host %q`, os.Getpid(), host))
	awaitWarning(t, warnings, "registered again under lease ")
	cart.await(t, "http://127.0.0.1:9100")
	serving.mu.Lock()
	n := len(serving.regs)
	serving.mu.Unlock()
	if n != 1 {
		t.Errorf("%d replicas registered after the recovery, want cart's", n)
	}
	if err := serving.Close(); err != nil {
		t.Fatal(err)
	}
	cart.await(t)
	select {
	case urls := <-db.lists:
		t.Errorf("db's replicas changed to %q: the recovery took the other process's claim", urls)
	default:
	}
}

// leaseOf is the lease of a Registry.
func leaseOf(r *Registry) clientv3.LeaseID {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.lease
}

// revoke revokes a lease through another client, as etcd would end it on
// expiry.
func revoke(t *testing.T, calling *Registry, lease clientv3.LeaseID) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, err := calling.client.Revoke(ctx, lease); err != nil {
		t.Fatal(err)
	}
}

// awaitWarning waits for a warning that contains want.
func awaitWarning(t *testing.T, warnings <-chan string, want string) {
	t.Helper()
	deadline := time.After(patience)
	var seen []string
	for {
		select {
		case msg := <-warnings:
			if strings.Contains(msg, want) {
				return
			}
			seen = append(seen, msg)
		case <-deadline:
			t.Fatalf("no warning says %q within %v; warnings: %q", want, patience, seen)
		}
	}
}

func TestOwnership(t *testing.T) {
	leaktest.Check(t)
	first, second := open(t, Options{TTL: 7 * time.Second}), open(t, Options{})
	reg := register(t, first, "owned", "db", 0, "http://127.0.0.1:9000")

	_, err := second.Register(context.Background(), "owned", "db", 1, "http://127.0.0.1:9001")
	if !errors.Is(err, ErrOwned) {
		t.Fatalf("second process's Register: %v, want ErrOwned", err)
	}
	host, _ := os.Hostname()
	for _, want := range []string{
		`service "db" of topology "owned"`,
		fmt.Sprintf("pid %d on host %q", os.Getpid(), host),
		"serve each service from one process only",
		"wait up to 7s for its lease to expire", // the owner's TTL
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	// The owner registers more replicas; other services are free.
	register(t, first, "owned", "db", 1, "http://127.0.0.1:9001")
	register(t, second, "owned", "cart", 0, "http://127.0.0.1:9002")

	// The same replica twice in one process is a mistake.
	if _, err := first.Register(context.Background(), "owned", "db", 1, "http://127.0.0.1:9003"); err == nil || !strings.Contains(err.Error(), "already registered") {
		t.Errorf("registering replica 1 twice: %v", err)
	}

	// Once the owner has withdrawn its last replica, the service is free.
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Register(context.Background(), "owned", "db", 0, "http://127.0.0.1:9000"); !errors.Is(err, ErrOwned) {
		t.Fatalf("with one replica left, the second process's Register: %v, want ErrOwned", err)
	}
	first.Close()
	register(t, second, "owned", "db", 0, "http://127.0.0.1:9000")
}

// TestOwnershipRace starts processes that claim one service together:
// exactly one wins.
func TestOwnershipRace(t *testing.T) {
	leaktest.Check(t)
	const n = 4
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		r := open(t, Options{})
		wg.Go(func() {
			_, errs[i] = r.Register(context.Background(), "race", "db", 0, fmt.Sprintf("http://127.0.0.1:%d", 9000+i))
		})
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, ErrOwned):
			t.Error(err)
		}
	}
	if won != 1 {
		t.Errorf("%d processes claimed the service, want 1: %v", won, errs)
	}
}

func TestOpenBadURL(t *testing.T) {
	for _, raw := range []string{"", "http://127.0.0.1:2379", "etcd://127.0.0.1", "etcd://127.0.0.1:2379?x"} {
		_, err := Open(context.Background(), raw, Options{})
		if err == nil || !strings.HasSuffix(err.Error(), "expected etcd://127.0.0.1:2379") {
			t.Errorf("Open(%q): %v", raw, err)
		}
	}
}

func TestOpenUnreachable(t *testing.T) {
	leaktest.Check(t)
	// A port that was free a moment ago: nothing listens on it.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	start := time.Now()
	_, err = Open(context.Background(), "etcd://"+addr, Options{DialTimeout: time.Second})
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("Open: %v, want ErrUnreachable", err)
	}
	for _, want := range []string{"etcd://" + addr + "/kendall", "no etcd answered at " + addr + " within 1s", "start etcd (etcd --listen-client-urls http://" + addr + " --advertise-client-urls http://" + addr + ")", "check --registry"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	// Bounded, not timed: the timeout is 1 s, the bound the test's patience.
	if d := time.Since(start); d > patience {
		t.Errorf("Open took %v with a 1 s dial timeout", d)
	}
	t.Logf("Open failed after %v: %v", time.Since(start).Round(time.Millisecond), err)
}

// TestBadValue: keys under a service's replicas that were not written by
// Register are skipped with a warning that names them.
func TestBadValue(t *testing.T) {
	leaktest.Check(t)
	var mu sync.Mutex
	var warnings []string
	calling := open(t, Options{Warn: func(msg string) {
		mu.Lock()
		defer mu.Unlock()
		warnings = append(warnings, msg)
	}})
	serving := open(t, Options{})
	register(t, serving, "bad", "db", 0, "http://127.0.0.1:9000")

	put := func(key, value string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), patience)
		defer cancel()
		if _, err := calling.client.Put(ctx, key, value); err != nil {
			t.Fatal(err)
		}
	}
	prefix := "/kendall/bad/db/replicas/"
	put(prefix+"7", "not json")
	w := watch(t, calling, "bad", "db")
	w.await(t, "http://127.0.0.1:9000")
	put(prefix+"8", `{"url":"ftp://127.0.0.1:21"}`)
	put(prefix+"9", `{"url":"http://127.0.0.1:9009"}`)
	w.await(t, "http://127.0.0.1:9000", "http://127.0.0.1:9009")
	// A good key that turns bad is dropped.
	put(prefix+"9", `{"url":""}`)
	w.await(t, "http://127.0.0.1:9000")

	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{
		`key /kendall/bad/db/replicas/7: value "not json" is not a replica`,
		`key /kendall/bad/db/replicas/8: value "{\"url\":\"ftp://127.0.0.1:21\"}" is not a replica`,
		`key /kendall/bad/db/replicas/9: value "{\"url\":\"\"}" is not a replica`,
	} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, want) }) {
			t.Errorf("no warning says %q; warnings: %q", want, warnings)
		}
	}
}

func TestWaitFor(t *testing.T) {
	leaktest.Check(t)
	serving, calling := open(t, Options{}), open(t, Options{})

	_, err := calling.WaitFor(context.Background(), "wait", "db", 500*time.Millisecond)
	if !errors.Is(err, ErrNotServed) {
		t.Fatalf("WaitFor with nothing registered: %v, want ErrNotServed", err)
	}
	for _, want := range []string{`service "db" of topology "wait": no process serves the service`, "kendall serve FILE --services db --registry etcd://"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(200 * time.Millisecond)
		register(t, serving, "wait", "db", 0, "http://127.0.0.1:9000")
	}()
	urls, err := calling.WaitFor(context.Background(), "wait", "db", patience)
	<-done
	if err != nil || !slices.Equal(urls, []string{"http://127.0.0.1:9000"}) {
		t.Errorf("WaitFor = %q, %v", urls, err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := calling.WaitFor(ctx, "wait", "cart", patience); !errors.Is(err, context.Canceled) {
		t.Errorf("WaitFor with a canceled ctx: %v", err)
	}
}

func TestWatchEndsAtClose(t *testing.T) {
	leaktest.Check(t)
	r, err := Open(context.Background(), etcdURL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	first := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		var once sync.Once
		done <- r.Watch(context.Background(), "closing", "db", func([]string) { once.Do(func() { close(first) }) })
	}()
	<-first
	r.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrClosed) {
			t.Errorf("Watch ended with %v, want ErrClosed", err)
		}
	case <-time.After(patience):
		t.Fatal("Watch did not end at Close")
	}
}

func TestRegisterRejects(t *testing.T) {
	r := open(t, Options{})
	for _, c := range []struct {
		topology, service string
		replica           int
		url, says         string
	}{
		{"", "db", 0, "http://127.0.0.1:1", "empty topology name"},
		{"shop", "a/b", 0, "http://127.0.0.1:1", "contains a slash"},
		{"shop", "db", -1, "http://127.0.0.1:1", "negative replica index"},
		{"shop", "db", 0, "127.0.0.1:1", "is not an http:// or https:// URL"},
		{"shop", "db", 0, "http://", "is not an http:// or https:// URL"},
	} {
		_, err := r.Register(context.Background(), c.topology, c.service, c.replica, c.url)
		if err == nil || !strings.Contains(err.Error(), c.says) {
			t.Errorf("Register(%q, %q, %d, %q): %v, want an error that says %q", c.topology, c.service, c.replica, c.url, err, c.says)
		}
	}
}

// throughProxy opens a Registry that reaches the embedded etcd through a
// proxy the test can freeze, as an etcd that stops answering.
func throughProxy(t *testing.T, opts Options) (*Registry, *etcdtest.Proxy) {
	t.Helper()
	proxy, err := etcdtest.NewProxy(strings.TrimPrefix(etcdURL, "etcd://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proxy.Close)
	if opts.Warn == nil {
		opts.Warn = func(msg string) { t.Log("warning:", msg) }
	}
	r, err := Open(context.Background(), "etcd://"+proxy.Addr(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		proxy.Thaw()
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	})
	return r, proxy
}

// TestWithdrawAtOnce: with etcd not answering, the withdrawals of several
// replicas wait for their timeouts together, not one after another: all
// are under way at once.
func TestWithdrawAtOnce(t *testing.T) {
	leaktest.Check(t)
	calling := open(t, Options{})
	serving, proxy := throughProxy(t, Options{DialTimeout: 3 * time.Second})
	w := watch(t, calling, "atonce", "db")
	var regs []*Registration
	for i := range 4 {
		regs = append(regs, register(t, serving, "atonce", "db", i, fmt.Sprintf("http://127.0.0.1:%d", 9000+i)))
	}
	w.await(t, "http://127.0.0.1:9000", "http://127.0.0.1:9001", "http://127.0.0.1:9002", "http://127.0.0.1:9003")

	proxy.Freeze()
	errs := make(chan error, len(regs))
	for _, g := range regs {
		go func() { errs <- g.Close() }()
	}
	deadline := time.Now().Add(patience)
	for {
		serving.mu.Lock()
		n := len(serving.withdrawing)
		serving.mu.Unlock()
		if n == len(regs)+1 { // every replica key, and the owner key
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d keys withdrawn at once, want %d", n, len(regs)+1)
		}
		time.Sleep(time.Millisecond)
	}
	for range regs {
		if err := <-errs; !errors.Is(err, ErrUnreachable) {
			t.Errorf("Close with etcd frozen: %v, want ErrUnreachable", err)
		}
	}
	proxy.Thaw()
	// The replicas are still registered: the lease's revocation at
	// Close withdraws them.
	if err := serving.Close(); err != nil {
		t.Fatal(err)
	}
	w.await(t)
}

// TestLeaseExpiredWhileUnreachable: a process cut off from etcd for
// longer than its TTL loses its lease and its replicas; once etcd answers
// again, they are registered again, and callers find them.
func TestLeaseExpiredWhileUnreachable(t *testing.T) {
	leaktest.Check(t)
	warnings := make(chan string, 10)
	calling := open(t, Options{})
	serving, proxy := throughProxy(t, Options{TTL: 2 * time.Second, DialTimeout: time.Second, Warn: func(msg string) { warnings <- msg }})
	w := watch(t, calling, "cutoff", "db")
	register(t, serving, "cutoff", "db", 0, "http://127.0.0.1:9000")
	w.await(t, "http://127.0.0.1:9000")

	proxy.Freeze()
	w.await(t) // expired
	awaitWarning(t, warnings, "its 1 replica is no longer registered")
	proxy.Thaw()
	w.await(t, "http://127.0.0.1:9000")
	awaitWarning(t, warnings, "registered again under lease ")
}
