package topology

import (
	"fmt"
	"math"
	"strings"
)

// validate checks what the parser cannot see field by field: that calls and
// entries name services that exist, that calls form no cycle, and that the
// numbers are in range (for topologies built with New). It also builds the
// name index.
func (t *Topology) validate(file string) ErrorList {
	var errs ErrorList
	add := func(line int, field, format string, args ...any) {
		errs = append(errs, &Error{File: file, Line: line, Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	t.index = make(map[string]int, len(t.Services))
	names := make([]string, 0, len(t.Services))
	for i, s := range t.Services {
		if _, dup := t.index[s.Name]; dup {
			add(s.Line, "services."+s.Name, "appears twice; service names must be unique")
			continue
		}
		t.index[s.Name] = i
		names = append(names, s.Name)
	}
	if len(t.Services) == 0 {
		add(0, "services", "none defined; add at least one service with a service_time")
	}
	if len(t.Workload) == 0 {
		add(0, "workload", "no entries; add one such as {entry: %s, rate: 100} to say where requests arrive", firstServiceName(t))
	}

	for _, s := range t.Services {
		path := "services." + s.Name
		if s.Servers < 1 {
			add(s.Line, path+".servers", "%d workers; a service needs at least 1", s.Servers)
		} else if s.Servers > MaxServers {
			add(s.Line, path+".servers", "%d workers; kendall handles up to %d per service", s.Servers, MaxServers)
		}
		if s.ServiceTime <= 0 {
			add(s.Line, path+".service_time", "%v is not positive; a service time must be more than zero", s.ServiceTime)
		}
		switch d := s.Distribution; d.Kind {
		case Exponential, Deterministic:
		case Lognormal:
			if !(d.CV > 0) || math.IsInf(d.CV, 0) {
				add(s.Line, path+".cv", "%v; a lognormal distribution needs a positive coefficient of variation", d.CV)
			}
		case Erlang:
			if d.K < 1 {
				add(s.Line, path+".k", "%d phases; an Erlang distribution needs k of at least 1", d.K)
			}
		default:
			add(s.Line, path+".distribution", "unknown distribution %q", d.Kind)
		}
		for i, c := range s.Calls {
			cpath := fmt.Sprintf("%s.calls[%d]", path, i)
			if _, ok := t.index[c.To]; !ok {
				add(c.Line, cpath+".to", "unknown service %q%s; the services are %s", c.To, suggest(c.To, names), strings.Join(names, ", "))
			}
			if !(c.Probability >= 0 && c.Probability <= 1) {
				add(c.Line, cpath+".probability", "%v is not a probability; use a number from 0 to 1", c.Probability)
			}
			if c.Count < 1 {
				add(c.Line, cpath+".count", "%d; a call is made at least once (to skip it, remove it or use probability)", c.Count)
			}
		}
	}

	seen := map[string]bool{}
	for i, w := range t.Workload {
		path := fmt.Sprintf("workload[%d]", i)
		if w.Entry == "" {
			continue // the parser has reported it
		}
		if _, ok := t.index[w.Entry]; !ok && len(t.Services) > 0 {
			add(w.Line, path+".entry", "unknown service %q%s; the services are %s", w.Entry, suggest(w.Entry, names), strings.Join(names, ", "))
		} else if seen[w.Entry] {
			add(w.Line, path+".entry", "%q has a workload already; merge the two into one entry whose rate is their sum", w.Entry)
		}
		seen[w.Entry] = true
		if !(w.Rate > 0) || math.IsInf(w.Rate, 0) {
			add(w.Line, path+".rate", "%v is not a positive rate; requests per second must be more than zero", w.Rate)
		}
	}

	if e := t.findCycle(file); e != nil {
		errs = append(errs, e)
	}
	return errs
}

// findCycle returns an error naming one cycle of calls, or nil if the call
// graph is acyclic. It is a depth-first search that keeps its path, so the
// cycle can be named in the order the calls are made.
func (t *Topology) findCycle(file string) *Error {
	const (
		unvisited = iota
		onPath
		done
	)
	state := make([]uint8, len(t.Services))
	var path []int // service indexes on the current DFS path
	var found *Error
	var visit func(i int) bool
	visit = func(i int) bool {
		state[i] = onPath
		path = append(path, i)
		s := t.Services[i]
		for ci, c := range s.Calls {
			j, ok := t.index[c.To]
			if !ok {
				continue // reported as an unknown service
			}
			switch state[j] {
			case onPath:
				start := 0
				for k, p := range path {
					if p == j {
						start = k
					}
				}
				var names []string
				for _, p := range path[start:] {
					names = append(names, t.Services[p].Name)
				}
				names = append(names, c.To)
				found = &Error{
					File:  file,
					Line:  c.Line,
					Field: fmt.Sprintf("services.%s.calls[%d].to", s.Name, ci),
					Msg: fmt.Sprintf("calls form a cycle: %s; calls must form a directed acyclic graph, so remove one of these calls",
						strings.Join(names, " → ")),
				}
				return true
			case unvisited:
				if visit(j) {
					return true
				}
			}
		}
		path = path[:len(path)-1]
		state[i] = done
		return false
	}
	for i := range t.Services {
		if state[i] == unvisited && visit(i) {
			return found
		}
	}
	return nil
}
