package registry

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Defaults of Options' zero fields.
const (
	DefaultDialTimeout = 5 * time.Second
	DefaultTTL         = 5 * time.Second
)

// Sentinel errors, for callers that act on the condition. Errors returned
// by this package wrap them and say more.
var (
	// ErrUnreachable: no etcd answered at the registry's address in time.
	ErrUnreachable = errors.New("no etcd answered")
	// ErrOwned: another process serves the service.
	ErrOwned = errors.New("already served by another process")
	// ErrNotServed: no replica of the service appeared in time.
	ErrNotServed = errors.New("no process serves the service")
	// ErrClosed: the Registry was closed.
	ErrClosed = errors.New("registry closed")
)

// Options tune a Registry. The zero value is ready to use.
type Options struct {
	// DialTimeout bounds the first request to etcd in Open, and each
	// request Register and Close make. 0 means DefaultDialTimeout.
	DialTimeout time.Duration
	// TTL is how long the replicas of a process stay registered after the
	// process dies. etcd counts it in whole seconds (rounded up here) and
	// raises it to its own minimum, 2 s with etcd's default timing. 0
	// means DefaultTTL.
	TTL time.Duration
	// Warn receives warnings: values in the registry that are not
	// replicas, a lease that expired. nil writes them to standard error.
	Warn func(msg string)
}

// Registry is a connection to etcd, and the lease under which this
// process's replicas are registered. Its methods may be called from
// several goroutines.
type Registry struct {
	target  Target
	client  *clientv3.Client
	opts    Options
	host    string
	pid     int
	ctx     context.Context // ends at Close; the lease's keep-alive
	cancel  context.CancelFunc
	keepers sync.WaitGroup // the goroutines that drain keep-alive responses

	// mu serializes Register, the bookkeeping of withdrawals and the
	// recovery of a lost lease, so that the count of replicas per service
	// matches the owner key. Register and the recovery hold it across
	// their etcd requests; a withdrawal does not, but marks its keys in
	// withdrawing until its request is done.
	mu          sync.Mutex
	closed      bool
	lease       clientv3.LeaseID // 0 until the first Register, and after the lease was lost
	leaseN      uint64           // counts leases, so that a lost one is told from its successor
	owned       map[string]int   // owner key → this process's registered replicas of it
	regs        map[*Registration]struct{}
	withdrawing map[string]chan struct{} // key → closed once its withdrawal's request is done
	recovering  bool                     // a goroutine registers the replicas of a lost lease again
}

// Open connects to the etcd named by a registry URL (see ParseURL) and
// checks that it answers, within opts.DialTimeout. ctx bounds only the
// connection; the Registry lives until Close.
func Open(ctx context.Context, rawURL string, opts Options) (*Registry, error) {
	t, err := ParseURL(rawURL)
	if err != nil {
		return nil, err
	}
	if opts.DialTimeout <= 0 {
		opts.DialTimeout = DefaultDialTimeout
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.Warn == nil {
		opts.Warn = func(msg string) { fmt.Fprintln(os.Stderr, "warning:", msg) }
	}
	client, err := clientv3.New(clientv3.Config{
		Endpoints:   t.Endpoints,
		DialTimeout: opts.DialTimeout,
		// Notice a dead etcd connection within seconds rather than when
		// TCP gives up; not below etcd's 5 s minimum ping interval.
		DialKeepAliveTime:    10 * time.Second,
		DialKeepAliveTimeout: opts.DialTimeout,
		// The client's own logs repeat what our errors say.
		Logger: zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", t, err)
	}
	r := &Registry{
		target:      t,
		client:      client,
		opts:        opts,
		pid:         os.Getpid(),
		owned:       map[string]int{},
		regs:        map[*Registration]struct{}{},
		withdrawing: map[string]chan struct{}{},
	}
	r.host, _ = os.Hostname()
	r.ctx, r.cancel = context.WithCancel(context.Background())

	// clientv3.New does not wait for a connection: a first request does,
	// and a linearizable read also needs a leader, so a cluster that has
	// lost its quorum is caught here too.
	cctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()
	if _, err := client.Get(cctx, t.Prefix+"/", clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		r.cancel()
		client.Close()
		return nil, r.unreachable(ctx, err)
	}
	return r, nil
}

// unreachable turns a failed request into an error that says what to do.
func (r *Registry) unreachable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("registry %s: %w", r.target, ctx.Err())
	}
	return fmt.Errorf("registry %s: %w at %s within %v (%v); start etcd (etcd --listen-client-urls http://%s --advertise-client-urls http://%[6]s) or check --registry",
		r.target, ErrUnreachable, strings.Join(r.target.Endpoints, ","), r.opts.DialTimeout, err, r.target.Endpoints[0])
}

// Target is the registry's parsed URL.
func (r *Registry) Target() Target { return r.target }

// Close withdraws every replica this process registered, at once, by
// revoking its lease, and closes the connection. Watches on this Registry
// end with ErrClosed. Close is idempotent.
func (r *Registry) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	lease := r.lease
	for reg := range r.regs {
		reg.stop()
	}
	r.regs = nil
	r.mu.Unlock()

	var err error
	if lease != 0 {
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.DialTimeout)
		if _, rerr := r.client.Revoke(ctx, lease); rerr != nil {
			err = fmt.Errorf("registry %s: revoking lease %x: %w; this process's replicas stay registered until it expires (%v)",
				r.target, int64(lease), rerr, r.opts.TTL)
		}
		cancel()
	}
	r.cancel()
	r.keepers.Wait()
	if cerr := r.client.Close(); cerr != nil && err == nil && !errors.Is(cerr, context.Canceled) {
		err = fmt.Errorf("registry %s: %w", r.target, cerr)
	}
	return err
}

// abandon stops keeping the lease alive and closes the connection without
// revoking the lease, as a process that dies would: its keys stay until
// the lease expires. For tests.
func (r *Registry) abandon() {
	r.mu.Lock()
	r.closed = true
	for reg := range r.regs {
		reg.stop()
	}
	r.regs = nil
	r.mu.Unlock()
	r.cancel()
	r.keepers.Wait()
	r.client.Close()
}

// leaseLocked returns this process's lease, granting it and starting its
// keep-alive on first use. r.mu is held.
func (r *Registry) leaseLocked(ctx context.Context) (clientv3.LeaseID, error) {
	if r.lease != 0 {
		return r.lease, nil
	}
	ttl := int64((r.opts.TTL + time.Second - 1) / time.Second)
	grant, err := r.client.Grant(ctx, ttl)
	if err != nil {
		return 0, err
	}
	ch, err := r.client.KeepAlive(r.ctx, grant.ID)
	if err != nil {
		ctx, cancel := context.WithTimeout(context.Background(), r.opts.DialTimeout)
		r.client.Revoke(ctx, grant.ID)
		cancel()
		return 0, err
	}
	r.lease = grant.ID
	r.leaseN++
	n := r.leaseN
	r.keepers.Add(1)
	go r.keep(ch, grant.ID, n)
	return r.lease, nil
}

// Backoff of the recovery of a lost lease: the first attempt is at once,
// the next after recoverRetry, doubled after each failure up to
// recoverRetryMax.
var (
	recoverRetry    = 500 * time.Millisecond
	recoverRetryMax = 10 * time.Second
)

// keep drains the keep-alive responses of a lease (the client blocks on a
// full channel otherwise) until the channel closes: at Close, or when the
// lease ended (it expired because etcd could not be reached for a TTL, or
// was revoked). Then every replica registered under it is registered
// again, under a new lease, as soon as etcd answers (recover).
func (r *Registry) keep(ch <-chan *clientv3.LeaseKeepAliveResponse, id clientv3.LeaseID, n uint64) {
	defer r.keepers.Done()
	for range ch {
	}
	if r.ctx.Err() != nil {
		return
	}
	r.mu.Lock()
	if r.closed || r.leaseN != n {
		r.mu.Unlock()
		return
	}
	// The lease is gone, and with it every key under it: the next
	// request takes a new one.
	r.lease = 0
	lost := len(r.regs)
	start := !r.recovering && lost > 0
	if start {
		r.recovering = true
	}
	r.mu.Unlock()
	if lost == 0 {
		return
	}
	r.opts.Warn(fmt.Sprintf("registry %s: lease %x of this process ended (etcd unreachable for longer than the TTL, %v?); its %d %s no longer registered: registering them again under a new lease as soon as etcd answers",
		r.target, int64(id), r.opts.TTL, lost, plural(lost, "replica is", "replicas are")))
	if start {
		r.recover()
	}
}

// recover registers again, under a new lease, every replica whose lease
// was lost, retrying with backoff until it has or the Registry is closed.
// A service that another process has claimed meanwhile is left to it:
// its replicas here are dropped, with a warning that names the process.
// It runs in a keeper's goroutine, with r.recovering set.
func (r *Registry) recover() {
	delay := recoverRetry
	for failures := 0; ; failures++ {
		done, err := r.recoverOnce()
		if done {
			return
		}
		if failures == 0 {
			r.opts.Warn(fmt.Sprintf("registry %s: registering this process's replicas again: %v; retrying until etcd answers", r.target, err))
		}
		select {
		case <-r.ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, recoverRetryMax)
	}
}

// recoverOnce tries once to register again the replicas whose lease was
// lost. done is true when none is left to register (or the Registry is
// closed); r.recovering is then cleared.
func (r *Registry) recoverOnce() (done bool, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		r.recovering = false
		return true, nil
	}
	ctx, cancel := context.WithTimeout(r.ctx, r.opts.DialTimeout)
	defer cancel()
	lease, err := r.leaseLocked(ctx)
	if err != nil {
		return false, err
	}
	stale := map[string][]*Registration{} // owner key → its replicas to register again
	for g := range r.regs {
		if g.lease != lease {
			stale[g.ownerKey] = append(stale[g.ownerKey], g)
		}
	}
	owners := make([]string, 0, len(stale))
	for k := range stale {
		owners = append(owners, k)
	}
	slices.Sort(owners)
	var again []string
	for _, ownerKey := range owners {
		regs := stale[ownerKey]
		slices.SortFunc(regs, func(a, b *Registration) int { return strings.Compare(a.key, b.key) })
		owner, err := r.claimLocked(ctx, lease, ownerKey, regs...)
		if err != nil {
			return false, err
		}
		g := regs[0]
		if owner != nil {
			// Claimed by another process while the lease was lost: its
			// claim stands, and this process's replicas of it are
			// dropped.
			who, _ := r.owner(ctx, owner)
			for _, g := range regs {
				delete(r.regs, g)
				g.stop()
			}
			r.owned[ownerKey] -= len(regs)
			if r.owned[ownerKey] <= 0 {
				delete(r.owned, ownerKey)
			}
			r.opts.Warn(fmt.Sprintf("registry %s: service %q of topology %q was claimed by another process while this one's lease was lost: %s. It is left to that process: this one's %d %s of it %s no longer registered, and its callers do not find %s; stop one of the two processes",
				r.target, g.service, g.topology, who, len(regs), plural(len(regs), "replica", "replicas"), plural(len(regs), "is", "are"), plural(len(regs), "it", "them")))
			continue
		}
		for _, g := range regs {
			g.lease = lease
		}
		again = append(again, fmt.Sprintf("%d of %s", len(regs), g.service))
	}
	if r.lease != lease {
		return false, fmt.Errorf("lease %x ended too", int64(lease)) // lost again meanwhile: keep() has left it to this loop
	}
	r.recovering = false
	if len(again) > 0 {
		r.opts.Warn(fmt.Sprintf("registry %s: registered again under lease %x: %s; callers find them again", r.target, int64(lease), strings.Join(again, ", ")))
	}
	return true, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
