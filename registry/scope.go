package registry

import (
	"context"
	"io"
)

// Scope is a Registry seen from one topology: the replicas of its services
// published and watched by service name alone. It is what package emulate
// needs of a registry (emulate.Discovery) to serve part of a topology and
// find the rest, and what package loadgen needs to follow an entry's
// replicas.
type Scope struct {
	r        *Registry
	topology string
}

// Scope returns the Registry seen from the named topology.
func (r *Registry) Scope(topology string) Scope { return Scope{r: r, topology: topology} }

// Topology is the scope's topology.
func (s Scope) Topology() string { return s.topology }

// Registry is the scope's Registry.
func (s Scope) Registry() *Registry { return s.r }

// Publish registers a replica of a service (Registry.Register) and returns
// what withdraws it.
func (s Scope) Publish(ctx context.Context, service string, replica int, url string) (io.Closer, error) {
	reg, err := s.r.Register(ctx, s.topology, service, replica, url)
	if err != nil {
		return nil, err
	}
	return reg, nil
}

// Watch follows the replicas of a service (Registry.Watch).
func (s Scope) Watch(ctx context.Context, service string, fn func(urls []string)) error {
	return s.r.Watch(ctx, s.topology, service, fn)
}
