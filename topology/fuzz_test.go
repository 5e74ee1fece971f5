package topology

import (
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary documents to the parser, seeded with the bundled
// examples. Run it with: go test ./topology -run XXX -fuzz FuzzParse
// -fuzztime 60s. The parser must never panic; what it accepts must be safe
// to hand to the model, the simulator and the emulation (checkInvariants);
// and what it rejects must be reported against the file, one problem a
// line.
func FuzzParse(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "examples", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join("..", "model", "testdata", "*.yaml"))
	for _, p := range append(paths, more...) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"workload": [{"entry": "a", "rate": 1}], "services": {"a": {"service_time": "1ms"}}}`))
	f.Add([]byte("workload: [{entry: a, rate: 1}]\nservices:\n  a: &x {service_time: 1ms, calls: [{to: b}]}\n  b: *x\n"))
	f.Add([]byte("workload: [{entry: a, rate: 1}]\nservices:\n  a: {service_time: 1ms, hold: true, calls: [{parallel: [{to: b}, {to: c, probability: 0.5}], wait: 1}]}\n  b: {service_time: 1ms}\n  c: {service_time: 2ms}\n"))
	// Replicas behind each balancer, one misspelt, and replicas out of range.
	f.Add([]byte("workload: [{entry: a, rate: 1}]\nservices:\n  a: {replicas: 3, balancer: round-robin, servers: 2, service_time: 1ms, calls: [{to: b}, {parallel: [{to: c}, {to: d}], wait: 1}]}\n  b: {replicas: 2, balancer: least-requests, service_time: 1ms}\n  c: {replicas: 10000, balancer: Power-Of-Two, service_time: 1ms}\n  d: {replicas: 1, balancer: random, service_time: 1ms}\n"))
	f.Add([]byte(`{"workload": [{"entry": "a", "rate": 1}], "services": {"a": {"replicas": 0, "balancer": "round_robin", "service_time": "1ms"}, "b": {"replicas": 1e15, "service_time": "1ms"}}}`))
	// Accepted once, and then crashed the model: an empty entry, an entry
	// that is only a tag, and rates and shapes past what kendall handles.
	f.Add([]byte(`{"workload": [{"entry": "", "rate": 1}], "services": {"a": {"service_time": "1ms"}}}`))
	f.Add([]byte("workload: [{entry: !x , rate: 1}]\nservices: {a: {service_time: 1ms, calls: [{to: !x }]}}\n"))
	f.Add([]byte("workload: [{entry: a, rate: 5e-324}]\nservices: {a: {service_time: 1ms, distribution: lognormal, cv: 1e-300}}\n"))
	f.Add([]byte("workload: [{entry: \"a\\n\", rate: 1e-310}]\nservices: {\"a\\n\": {service_time: 1ms, distribution: erlang, k: 1e15}}\n"))
	// Items that could not be read, before items that could; a name given
	// twice, with a body of its own mistakes.
	f.Add([]byte("workload: [5, {entry: a, rate: 1}]\nservices: {a: {service_time: 1ms, calls: [5, {count: 2}, {to: a}]}, a: {servers: 0}}\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse("fuzz.yaml", data)
		if err != nil {
			// Every line names the file: a line break inside one problem
			// (a name or value from the file printed as it is) would make
			// a line that does not.
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, "fuzz.yaml") {
					t.Fatalf("a line of the error does not name the file: %q in\n%v", line, err)
				}
			}
			if n := strings.Count(err.Error(), "\n") + 1; n > maxErrors+1 {
				t.Fatalf("%d problems reported; the most is %d and a line saying there are more", n, maxErrors)
			}
			return
		}
		checkInvariants(t, topo)
	})
}

// checkInvariants checks that an accepted topology is safe to use: every
// name resolves to a service (the model indexes slices by Index, and -1
// crashed it), every number is in the range kendall handles, every name
// prints on one line of a table, and Order is a topological order of all
// the services.
func checkInvariants(t *testing.T, topo *Topology) {
	t.Helper()
	if len(topo.Services) == 0 || len(topo.Workload) == 0 {
		t.Fatalf("accepted a topology with %d services and %d workload entries", len(topo.Services), len(topo.Workload))
	}
	if topo.Name == "" || nameProblem(topo.Name) != "" {
		t.Fatalf("accepted the topology name %q", topo.Name)
	}
	for i, s := range topo.Services {
		if s.Name == "" || nameProblem(s.Name) != "" {
			t.Fatalf("accepted the service name %q", s.Name)
		}
		if topo.Index(s.Name) != i || topo.Service(s.Name) != s {
			t.Fatalf("service %d, %q, is found at %d", i, s.Name, topo.Index(s.Name))
		}
	}
	entries := map[string]bool{}
	for _, w := range topo.Workload {
		if topo.Index(w.Entry) < 0 || entries[w.Entry] {
			t.Fatalf("accepted a workload entry that is no service or repeats one: %+v", w)
		}
		entries[w.Entry] = true
		if !(w.Rate >= MinRate && w.Rate <= MaxRate) {
			t.Fatalf("accepted a rate out of range: %+v", w)
		}
	}
	for _, s := range topo.Services {
		if s.Servers < 1 || s.Servers > MaxServers || s.ServiceTime <= 0 || s.Replicas < 1 || s.Replicas > MaxReplicas ||
			!slices.Contains(Balancers, s.Balancer) {
			t.Fatalf("bad service accepted: %+v", s)
		}
		switch d := s.Distribution; d.Kind {
		case Exponential, Deterministic:
		case Lognormal:
			if !(d.CV >= MinCV && d.CV <= MaxCV) {
				t.Fatalf("lognormal cv out of range accepted: %+v", s)
			}
		case Erlang:
			if d.K < 1 || d.K > MaxPhases {
				t.Fatalf("erlang k out of range accepted: %+v", s)
			}
		default:
			t.Fatalf("unknown distribution accepted: %+v", s.Distribution)
		}
		if scv := s.Distribution.SCV(); math.IsNaN(scv) || math.IsInf(scv, 0) {
			t.Fatalf("accepted a distribution whose SCV is %v: %+v", scv, s.Distribution)
		}
		for _, c := range s.Calls {
			if g := c.Group; g != nil && (len(g.Calls) == 0 || g.Wait < 0 || g.Wait > len(g.Calls)) {
				t.Fatalf("bad group accepted: %+v", g)
			}
		}
		s.EachCall(func(c *Call) {
			if c.Group != nil || topo.Index(c.To) < 0 || c.Count < 1 || c.Count > MaxCount || !(c.Probability >= 0 && c.Probability <= 1) {
				t.Fatalf("bad call accepted: %+v", c)
			}
		})
	}
	order := topo.Order()
	if len(order) != len(topo.Services) {
		t.Fatalf("order has %d services, topology %d", len(order), len(topo.Services))
	}
	pos := make([]int, len(order))
	seen := make([]bool, len(order))
	for i, s := range order {
		if s < 0 || s >= len(order) || seen[s] {
			t.Fatalf("service %d out of place in order %v", s, order)
		}
		seen[s] = true
		pos[s] = i
	}
	for i, s := range topo.Services {
		s.EachCall(func(c *Call) {
			if pos[i] >= pos[topo.Index(c.To)] {
				t.Fatalf("accepted a cycle through %s → %s", s.Name, c.To)
			}
		})
	}
	// Scaling to either end of the range keeps every rate a positive,
	// finite number.
	for _, total := range []float64{MinRate, MaxRate} {
		scaled, err := topo.WithRate(total)
		if err != nil {
			t.Fatalf("WithRate(%v): %v", total, err)
		}
		for _, w := range scaled.Workload {
			if !(w.Rate > 0) || math.IsInf(w.Rate, 0) {
				t.Fatalf("WithRate(%v) gave %s a rate of %v", total, w.Entry, w.Rate)
			}
		}
	}
}
