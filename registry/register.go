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
	r        *Registry
	key      string // P/T/S/replicas/<replica>
	ownerKey string // P/T/S/owner
	lease    clientv3.LeaseID
	stopCtx  func() bool // stops the withdrawal at ctx's end
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

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, fmt.Errorf("%s: %w", where, ErrClosed)
	}
	svc := r.serviceKey(topology, service)
	reg := &Registration{r: r, key: svc + "/replicas/" + strconv.Itoa(replica), ownerKey: svc + "/owner"}
	for other := range r.regs {
		if other.key == reg.key {
			return nil, fmt.Errorf("%s: already registered by this process (key %s)", where, reg.key)
		}
	}

	rctx, cancel := context.WithTimeout(context.Background(), r.opts.DialTimeout)
	defer cancel()
	lease, err := r.leaseLocked(rctx)
	if err != nil {
		return nil, r.requestError(where, err)
	}
	reg.lease = lease
	ownerVal, _ := json.Marshal(Owner{Host: r.host, PID: r.pid, Since: time.Now().UTC().Truncate(time.Second)})
	replicaVal, _ := json.Marshal(Replica{URL: rawURL, Replica: replica, PID: r.pid, Host: r.host})
	putReplica := clientv3.OpPut(reg.key, string(replicaVal), clientv3.WithLease(lease))

	// Claim the service if nobody has; else register under our own claim;
	// else read whose claim it is. One transaction, so that two processes
	// starting together cannot both win.
	resp, err := r.client.Txn(rctx).
		If(clientv3.Compare(clientv3.CreateRevision(reg.ownerKey), "=", 0)).
		Then(clientv3.OpPut(reg.ownerKey, string(ownerVal), clientv3.WithLease(lease)), putReplica).
		Else(clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(reg.ownerKey), "=", lease)},
			[]clientv3.Op{putReplica},
			[]clientv3.Op{clientv3.OpGet(reg.ownerKey)},
		)).Commit()
	if err != nil {
		return nil, r.requestError(where, err)
	}
	if !resp.Succeeded {
		inner := resp.Responses[0].GetResponseTxn()
		if !inner.Succeeded {
			return nil, r.ownedError(rctx, where, inner.Responses[0].GetResponseRange().Kvs)
		}
	}

	r.owned[reg.ownerKey]++
	r.regs[reg] = struct{}{}
	reg.stopCtx = context.AfterFunc(ctx, func() { reg.Close() })
	return reg, nil
}

// ownedError names the process that owns a service, from its owner key
// (absent if it expired in the meantime), and says how long its lease
// outlives it.
func (r *Registry) ownedError(ctx context.Context, where string, kvs []*mvccpb.KeyValue) error {
	who := "a process whose owner key just expired; try again"
	ttl := r.opts.TTL // the owner's own, if etcd tells
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
	return fmt.Errorf("%s: %w: %s; serve each service from one process only (--services), or, if that process has died, wait up to %v for its lease to expire",
		where, ErrOwned, who, ttl)
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
// withdrawn every replica already.
func (g *Registration) Close() error {
	r := g.r
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.regs[g]; !ok {
		return nil
	}
	delete(r.regs, g)
	g.stop()
	r.owned[g.ownerKey]--
	ops := []clientv3.Op{clientv3.OpTxn(
		[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(g.key), "=", g.lease)},
		[]clientv3.Op{clientv3.OpDelete(g.key)}, nil)}
	if r.owned[g.ownerKey] == 0 {
		delete(r.owned, g.ownerKey)
		ops = append(ops, clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.LeaseValue(g.ownerKey), "=", g.lease)},
			[]clientv3.Op{clientv3.OpDelete(g.ownerKey)}, nil))
	}
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
