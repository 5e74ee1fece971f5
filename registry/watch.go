package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// Watch calls fn with the sorted URLs of a service's replicas: once with
// those registered now, then after every change to the list, including to
// an empty one, until ctx ends. fn is called from Watch's goroutine, one
// call at a time, and never after Watch returns; it owns the slice.
//
// Watch returns ctx's error when ctx ends, ErrClosed when the Registry is
// closed, and an error at once if etcd does not answer the first read
// within Options.DialTimeout. Once watching, a lost connection is retried
// by the etcd client, which resumes the watch where it stopped. The watch
// requires a leader: on a member cut off from its cluster's quorum it
// ends, and Watch reads afresh, returning an error if that fails, for the
// caller to retry (as package emulate and kendall attack do), rather than
// watch on silently while the replicas change elsewhere.
func (r *Registry) Watch(ctx context.Context, topology, service string, fn func(urls []string)) error {
	where := fmt.Sprintf("registry %s: watching service %q of topology %q", r.target, service, topology)
	if err := checkName("topology", topology); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	if err := checkName("service", service); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	prefix := r.serviceKey(topology, service) + "/replicas/"
	var last []string
	called := false
	emit := func(replicas map[string]string) {
		urls := make([]string, 0, len(replicas))
		for _, u := range replicas {
			urls = append(urls, u)
		}
		slices.Sort(urls)
		urls = slices.Compact(urls)
		if called && slices.Equal(urls, last) {
			return
		}
		called, last = true, urls
		fn(slices.Clone(urls))
	}

	for {
		// Read, then watch from the revision after the read: no change
		// is lost between the two, and none is seen twice.
		gctx, cancel := context.WithTimeout(ctx, r.opts.DialTimeout)
		resp, err := r.client.Get(gctx, prefix, clientv3.WithPrefix())
		cancel()
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return ctx.Err()
			case r.ctx.Err() != nil:
				return fmt.Errorf("%s: %w", where, ErrClosed)
			}
			return r.requestError(where, err)
		}
		replicas := map[string]string{} // key → URL
		for _, kv := range resp.Kvs {
			r.put(replicas, kv)
		}
		emit(replicas)

		// WithRequireLeader: a member cut off from its cluster's leader
		// ends the watch with an error (rpctypes.ErrNoLeader) rather
		// than leave it open and silent, serving nothing while changes
		// are made elsewhere; the watch is then read afresh, which
		// needs a leader too.
		wctx, wcancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
		wch := r.client.Watch(wctx, prefix, clientv3.WithPrefix(), clientv3.WithRev(resp.Header.Revision+1))
		var werr error
		retry := false
		for wresp := range wch {
			if werr = wresp.Err(); werr != nil {
				retry = wresp.CompactRevision != 0 || errors.Is(werr, rpctypes.ErrNoLeader)
				break
			}
			for _, ev := range wresp.Events {
				switch ev.Type {
				case mvccpb.PUT:
					r.put(replicas, ev.Kv)
				case mvccpb.DELETE:
					delete(replicas, string(ev.Kv.Key))
				}
			}
			emit(replicas)
		}
		wcancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case r.ctx.Err() != nil:
			return fmt.Errorf("%s: %w", where, ErrClosed)
		case werr == nil:
			return fmt.Errorf("%s: the watch ended without an error", where)
		}
		// etcd compacted the revisions the watch had to resume from (it
		// was disconnected that long), or the member lost its leader:
		// read afresh (a read without a leader fails within
		// DialTimeout, and Watch returns its error). Other errors end
		// the watch; the etcd client has retried what can be retried.
		if !retry {
			return fmt.Errorf("%s: %w", where, werr)
		}
	}
}

// put records the URL of a replica key, or warns that its value is not a
// replica and forgets any URL the key had.
func (r *Registry) put(replicas map[string]string, kv *mvccpb.KeyValue) {
	var rep Replica
	err := json.Unmarshal(kv.Value, &rep)
	if err == nil {
		err = checkHTTPURL(rep.URL)
	}
	if err != nil {
		delete(replicas, string(kv.Key))
		r.opts.Warn(fmt.Sprintf("registry %s: key %s: value %q is not a replica (%v); skipped", r.target, kv.Key, kv.Value, err))
		return
	}
	replicas[string(kv.Key)] = rep.URL
}

// WaitFor waits until at least one replica of a service is registered and
// returns the replicas' URLs. After timeout (none if 0 or less) or when ctx
// ends, it returns an error; the timeout's wraps ErrNotServed and says how
// to serve the service.
func (r *Registry) WaitFor(ctx context.Context, topology, service string, timeout time.Duration) ([]string, error) {
	wctx, cancel := ctx, context.CancelFunc(func() {})
	if timeout > 0 {
		wctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	wctx, stop := context.WithCancel(wctx)
	defer stop()
	var found []string
	err := r.Watch(wctx, topology, service, func(urls []string) {
		if len(urls) > 0 && found == nil {
			found = urls
			stop()
		}
	})
	switch {
	case found != nil:
		return found, nil
	case ctx.Err() != nil:
		return nil, fmt.Errorf("registry %s: waiting for service %q of topology %q: %w", r.target, service, topology, ctx.Err())
	case errors.Is(err, context.DeadlineExceeded):
		return nil, fmt.Errorf("registry %s: service %q of topology %q: %w (none registered within %v); start one with kendall serve FILE --services %s --registry %[1]s",
			r.target, service, topology, ErrNotServed, timeout, service)
	}
	return nil, err
}
