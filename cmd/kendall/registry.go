package main

// What serve and attack share to run one topology over several processes
// through a registry (package registry, on etcd): --services, the
// registry's URL as an attack target, and the messages that follow the
// replicas of the services served elsewhere.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/kendallqn/kendall/registry"
	"github.com/kendallqn/kendall/topology"
)

// servicesFlag parses --services: names separated by commas, each a
// service of t. An unknown name is a usage error that suggests the
// nearest, as the topology's own errors do.
func servicesFlag(t *topology.Topology, value string) ([]string, error) {
	var names []string
	for _, n := range strings.Split(value, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			return nil, usagef("--services %q has an empty name; list services separated by commas, such as --services catalog,db", value)
		}
		if t.Index(n) < 0 {
			all := make([]string, len(t.Services))
			for i, s := range t.Services {
				all[i] = s.Name
			}
			return nil, usagef("--services: %q is not a service of %s%s; its services are %s", n, t.Name, topology.Suggest(n, all), strings.Join(all, ", "))
		}
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	return names, nil
}

// openRegistry connects to --registry, with the registry's warnings on
// stderr.
func openRegistry(ctx context.Context, e *env, url string) (*registry.Registry, error) {
	return registry.Open(ctx, url, registry.Options{Warn: func(msg string) { fmt.Fprintf(e.stderr, "warning: %s\n", msg) }})
}

// entryTarget is the registry URL that names one service of a topology,
// for kendall attack: etcd://host:port/prefix/topology/service.
func entryTarget(reg *registry.Registry, topo, service string) string {
	return reg.Target().String() + "/" + topo + "/" + service
}

// parseEntryTarget splits etcd://host:port[/prefix]/topology/service into
// the registry's URL and the names. The prefix is what comes before the
// last two segments, registry.DefaultPrefix when nothing does.
func parseEntryTarget(raw string) (regURL, topo, service string, err error) {
	rest, ok := strings.CutPrefix(raw, "etcd://")
	if !ok {
		return "", "", "", usagef("%s is not an etcd:// URL", raw)
	}
	hosts, path, _ := strings.Cut(rest, "/")
	segs := strings.Split(strings.Trim(path, "/"), "/")
	if len(segs) < 2 || segs[len(segs)-1] == "" || segs[len(segs)-2] == "" {
		return "", "", "", usagef("%s names no topology and service; write etcd://HOST:PORT/kendall/TOPOLOGY/SERVICE, such as etcd://127.0.0.1:2379/kendall/shop/gateway", raw)
	}
	topo, service = segs[len(segs)-2], segs[len(segs)-1]
	prefix := strings.Join(segs[:len(segs)-2], "/")
	if prefix == "" {
		prefix = strings.TrimPrefix(registry.DefaultPrefix, "/")
	}
	regURL = "etcd://" + hosts + "/" + prefix
	if _, err := registry.ParseURL(regURL); err != nil {
		return "", "", "", usagef("%v", err)
	}
	return regURL, topo, service, nil
}

// replicaLog follows the replicas of services through a registry scope,
// and says on w when those of a service it reports change. It is the
// emulation's Discovery (serve) and the source of an entry's replicas
// (attack).
type replicaLog struct {
	scope registry.Scope
	w     io.Writer
	// report says whether a service's changes are written: those served
	// elsewhere, for serve.
	report func(service string) bool

	mu   sync.Mutex
	last map[string][]string // service → its replicas' URLs, as last seen
}

func newReplicaLog(scope registry.Scope, w io.Writer, report func(string) bool) *replicaLog {
	return &replicaLog{scope: scope, w: w, report: report, last: map[string][]string{}}
}

// Publish registers a replica (emulate.Discovery).
func (l *replicaLog) Publish(ctx context.Context, service string, replica int, url string) (io.Closer, error) {
	return l.scope.Publish(ctx, service, replica, url)
}

// Watch follows a service's replicas (emulate.Discovery), saying on w
// when they change after the first list. Once the registry is closed, as
// serve does first when it stops, it waits for ctx's end: the process is
// stopping, and a watch retried would only warn.
func (l *replicaLog) Watch(ctx context.Context, service string, fn func(urls []string)) error {
	err := l.watch(ctx, service, fn)
	if errors.Is(err, registry.ErrClosed) {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func (l *replicaLog) watch(ctx context.Context, service string, fn func(urls []string)) error {
	return l.scope.Watch(ctx, service, func(urls []string) {
		l.mu.Lock()
		prev, seen := l.last[service]
		l.last[service] = urls
		l.mu.Unlock()
		if seen && l.report(service) && !slices.Equal(prev, urls) {
			fmt.Fprintf(l.w, "registry: %s now has %s\n", service, replicasPhrase(urls))
		}
		fn(urls)
	})
}

// known returns the replicas of a service as last seen, and whether it
// has been watched.
func (l *replicaLog) known(service string) ([]string, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	urls, ok := l.last[service]
	return urls, ok
}

// replicasPhrase says "2 replicas: URL, URL", or "no replica registered".
func replicasPhrase(urls []string) string {
	if len(urls) == 0 {
		return "no replica registered"
	}
	return fmt.Sprintf("%d %s: %s", len(urls), plural(len(urls), "replica", "replicas"), strings.Join(urls, ", "))
}
