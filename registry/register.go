package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Replica is the value of a replica's key.
type Replica struct {
	URL     string `json:"url"`
	Replica int    `json:"replica"`
	PID     int    `json:"pid"`
	Host    string `json:"host"`
}

// Owner is the value of a service's owner key: the process that serves
// the service.
type Owner struct {
	Host  string    `json:"host"`
	PID   int       `json:"pid"`
	Since time.Time `json:"since"`
}

// serviceKey is the prefix of every key of one service.
func (r *Registry) serviceKey(topology, service string) string {
	return r.target.Prefix + "/" + topology + "/" + service
}

// Registration is one replica registered by this process. Close withdraws
// it.
type Registration struct {
	r                 *Registry
	topology, service string
	key               string           // P/T/S/replicas/<replica>
	ownerKey          string           // P/T/S/owner
	value             string           // the key's: a Replica, in JSON
	lease             clientv3.LeaseID // the lease its keys are under; r.mu
	stopCtx           func() bool      // stops the withdrawal at ctx's end
}

// Register makes a replica of a service, served at rawURL, known to the
// processes that watch the service, until ctx ends or the Registration (or
// the Registry) is closed. ctx is the registration's lifetime, not a
// timeout: the etcd requests Register makes are bounded by
// Options.DialTimeout.
//
// The first replica this process registers for a service claims the
// service (see the package comment). When another process has claimed it,
// Register returns an error that wraps ErrOwned and names that process.
func (r *Registry) Register(ctx context.Context, topology, service string, replica int, rawURL string) (*Registration, error) {
	where := fmt.Sprintf("registry %s: registering replica %d of service %q of topology %q", r.target, replica, service, topology)
	if err := checkName("topology", topology); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := checkName("service", service); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if replica < 0 {
		return nil, fmt.Errorf("%s: negative replica index", where)
	}
	if err := checkHTTPURL(rawURL); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}

	svc := r.serviceKey(topology, service)
	reg := &Registration{r: r, topology: topology, service: service, key: svc + "/replicas/" + strconv.Itoa(replica), ownerKey: svc + "/owner"}
	replicaVal, _ := json.Marshal(Replica{URL: rawURL, Replica: replica, PID: r.pid, Host: r.host})
	reg.value = string(replicaVal)

	rctx, cancel := context.WithTimeout(context.Background(), r.opts.DialTimeout)
	defer cancel()
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if r.closed {
			return nil, fmt.Errorf("%s: %w", where, ErrClosed)
		}
		// A withdrawal of this key, or of the service's claim, still
		// under way would delete what this writes: wait for it.
		busy := r.withdrawing[reg.key]
		if busy == nil {
			busy = r.withdrawing[reg.ownerKey]
		}
		if busy == nil {
			break
		}
		r.mu.Unlock()
		select {
		case <-busy:
		case <-rctx.Done():
		}
		r.mu.Lock()
		if rctx.Err() != nil {
			return nil, r.requestError(where, rctx.Err())
		}
	}
	for other := range r.regs {
		if other.key == reg.key {
			return nil, fmt.Errorf("%s: already registered by this process (key %s)", where, reg.key)
		}
	}

	lease, err := r.leaseLocked(rctx)
	if err != nil {
		return nil, r.requestError(where, err)
	}
	owner, err := r.claimLocked(rctx, lease, reg.ownerKey, reg)
	if err != nil {
		return nil, r.requestError(where, err)
	}
	if owner != nil {
		return nil, r.ownedError(rctx, where, owner)
	}
	reg.lease = lease
	r.owned[reg.ownerKey]++
	r.regs[reg] = struct{}{}
	reg.stopCtx = context.AfterFunc(ctx, func() { reg.Close() })
	return reg, nil
}

// claimLocked puts the replica keys of regs, all of the service whose
// owner key is ownerKey, under lease, claiming the service if nobody has:
// else under our own claim; else it returns the owner key, whose claim it
// is. One transaction, so that two processes starting together cannot
// both win. r.mu is held.
func (r *Registry) claimLocked(ctx context.Context, lease clientv3.LeaseID, ownerKey string, regs ...*Registration) ([]*mvccpb.KeyValue, error) {
	ownerVal, _ := json.Marshal(Owner{Host: r.host, PID: r.pid, Since: time.Now().UTC().Truncate(time.Second)})
	puts := make([]clientv3.Op, len(regs))
	for i, g := range regs {
		puts[i] = clientv3.OpPut(g.key, g.value, clientv3.WithLease(lease))
	}
	resp, err := r.client.Txn(ctx).
		If(clientv3.Compare(clientv3.CreateRevision(ownerKey), "=", 0)).
		Then(append([]clientv3.Op{clientv3.OpPut(ownerKey, string(ownerVal), clientv3.WithLease(lease))}, puts...)...).
		Else(clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(ownerKey), "=", lease)},
			puts,
			[]clientv3.Op{clientv3.OpGet(ownerKey)},
		)).Commit()
	if err != nil {
		return nil, err
	}
	if !resp.Succeeded {
		if inner := resp.Responses[0].GetResponseTxn(); !inner.Succeeded {
			kvs := inner.Responses[0].GetResponseRange().Kvs
			if kvs == nil {
				kvs = []*mvccpb.KeyValue{} // expired in the meantime: not nil, still not ours
			}
			return kvs, nil
		}
	}
	return nil, nil
}

// ownedError names the process that owns a service, from its owner key
// (absent if it expired in the meantime), and says how long its lease
// outlives it.
func (r *Registry) ownedError(ctx context.Context, where string, kvs []*mvccpb.KeyValue) error {
	who, ttl := r.owner(ctx, kvs)
	return fmt.Errorf("%s: %w: %s; serve each service from one process only (--services), or, if that process has died, wait up to %v for its lease to expire",
		where, ErrOwned, who, ttl)
}

// owner says who holds a service's owner key, from the key (none if it
// expired in the meantime), and the TTL of its lease.
func (r *Registry) owner(ctx context.Context, kvs []*mvccpb.KeyValue) (who string, ttl time.Duration) {
	who = "a process whose owner key just expired; try again"
	ttl = r.opts.TTL // the owner's own, if etcd tells
	if len(kvs) == 1 {
		if l, err := r.client.TimeToLive(ctx, clientv3.LeaseID(kvs[0].Lease)); err == nil && l.GrantedTTL > 0 {
			ttl = time.Duration(l.GrantedTTL) * time.Second
		}
		var o Owner
		if err := json.Unmarshal(kvs[0].Value, &o); err == nil {
			who = fmt.Sprintf("pid %d on host %q, since %s", o.PID, o.Host, o.Since.Format(time.RFC3339))
			if o.PID == r.pid && o.Host == r.host {
				who += " (this same process, through another Registry)"
			}
		} else {
			who = fmt.Sprintf("an unknown process (key %s holds %q)", kvs[0].Key, kvs[0].Value)
		}
	}
	return who, ttl
}

// requestError says what a failed etcd request means to the user.
func (r *Registry) requestError(where string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w at %s within %v; check that etcd runs, and --registry",
			where, ErrUnreachable, strings.Join(r.target.Endpoints, ","), r.opts.DialTimeout)
	}
	return fmt.Errorf("%s: %w", where, err)
}

// Close withdraws the replica: its key is deleted, and the service's
// owner key too when this was the process's last replica of it. Close is
// idempotent, and does nothing after the Registry's Close, which has
// withdrawn every replica already. Withdrawals run at once, each bounded
// by Options.DialTimeout: closing every replica of a process whose etcd
// is gone takes one timeout, not one each.
func (g *Registration) Close() error {
	r := g.r
	r.mu.Lock()
	if _, ok := r.regs[g]; !ok {
		r.mu.Unlock()
		return nil
	}
	delete(r.regs, g)
	g.stop()
	r.owned[g.ownerKey]--
	last := r.owned[g.ownerKey] == 0
	if last {
		delete(r.owned, g.ownerKey)
	}
	if g.lease != r.lease {
		// Its lease was lost, and its keys with it; not registered
		// again yet.
		r.mu.Unlock()
		return nil
	}
	ops := []clientv3.Op{clientv3.OpTxn(
		[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(g.key), "=", g.lease)},
		[]clientv3.Op{clientv3.OpDelete(g.key)}, nil)}
	keys := []string{g.key}
	if last {
		ops = append(ops, clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(g.ownerKey), "=", g.lease)},
			[]clientv3.Op{clientv3.OpDelete(g.ownerKey)}, nil))
		keys = append(keys, g.ownerKey)
	}
	// The request is made without r.mu, so that withdrawals run at once;
	// a Register of these keys meanwhile waits for it (withdrawing).
	done := make(chan struct{})
	for _, k := range keys {
		r.withdrawing[k] = done
	}
	r.mu.Unlock()
	defer func() {
		r.mu.Lock()
		for _, k := range keys {
			if r.withdrawing[k] == done {
				delete(r.withdrawing, k)
			}
		}
		r.mu.Unlock()
		close(done)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), r.opts.DialTimeout)
	defer cancel()
	if _, err := r.client.Txn(ctx).Then(ops...).Commit(); err != nil {
		return r.requestError("registry "+r.target.String()+": withdrawing "+g.key, err)
	}
	return nil
}

// stop cancels the withdrawal at the end of Register's ctx.
func (g *Registration) stop() {
	if g.stopCtx != nil {
		g.stopCtx()
	}
}

// checkHTTPURL accepts the absolute http and https URLs that a caller can
// send requests to.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("URL %q is not an http:// or https:// URL with a host", raw)
	}
	return nil
}
