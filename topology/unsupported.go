package topology

import "fmt"

// Unsupported reports the settings a topology may hold that predict,
// simulate, capacity, validate, serve and attack cannot yet honour, one
// problem per service, in the form of the file's other problems; nil when
// there are none. Every command calls it after loading a topology, so that
// no view silently treats a setting as absent.
//
// Today that is a service of more than one replica (issue 12): the field
// is read and checked, so that the model, the simulator and the emulation
// can be built on it, but none of them routes requests to replicas yet. A
// balancer on a service of one replica changes nothing and is accepted.
func (t *Topology) Unsupported() error {
	file := t.File
	if file == "" {
		file = t.Name
	}
	var errs ErrorList
	for i, s := range t.Services {
		if s.Replicas <= 1 {
			continue
		}
		line := s.Line
		if i < len(t.replicasLines) {
			line = t.replicasLines[i]
		}
		what := fmt.Sprintf("%d replicas", s.Replicas)
		if s.Balancer != "" && s.Balancer != BalancerRandom {
			what += fmt.Sprintf(" with balancer: %s", s.Balancer)
		}
		fix := "set replicas: 1"
		if total := s.Replicas * s.Servers; total <= MaxServers {
			fix += fmt.Sprintf(", or servers: %d for one queue shared by the %d workers (a different system, which waits less than %d queues of %d)",
				total, total, s.Replicas, s.Servers)
		}
		errs = append(errs, &Error{File: file, Line: line, Field: servicePath(s.Name) + ".replicas",
			Msg: fmt.Sprintf("%s: parsed, but predict, simulate, capacity, validate, serve and attack do not support replicas yet (issue 12); %s",
				what, fix)})
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}
