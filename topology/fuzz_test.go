package topology

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary documents to the parser, seeded with the bundled
// examples. Run it with: go test ./topology -fuzz FuzzParse -fuzztime 60s.
// The parser must never panic; what it accepts must satisfy every
// invariant the model, the simulator and the emulation rely on; and what it
// rejects must be reported against the file.
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

	f.Fuzz(func(t *testing.T, data []byte) {
		topo, err := Parse("fuzz.yaml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error does not name the file: %v", err)
			}
			return
		}
		checkInvariants(t, topo)
	})
}

func checkInvariants(t *testing.T, topo *Topology) {
	t.Helper()
	if len(topo.Services) == 0 || len(topo.Workload) == 0 {
		t.Fatalf("accepted a topology with %d services and %d workload entries", len(topo.Services), len(topo.Workload))
	}
	for _, w := range topo.Workload {
		if topo.Service(w.Entry) == nil || !(w.Rate > 0) {
			t.Fatalf("bad workload entry accepted: %+v", w)
		}
	}
	for _, s := range topo.Services {
		if s.Servers < 1 || s.ServiceTime <= 0 {
			t.Fatalf("bad service accepted: %+v", s)
		}
		switch s.Distribution.Kind {
		case Exponential, Deterministic:
		case Lognormal:
			if !(s.Distribution.CV > 0) {
				t.Fatalf("lognormal without a positive cv accepted: %+v", s)
			}
		case Erlang:
			if s.Distribution.K < 1 {
				t.Fatalf("erlang without k accepted: %+v", s)
			}
		default:
			t.Fatalf("unknown distribution accepted: %+v", s.Distribution)
		}
		for _, c := range s.Calls {
			if topo.Service(c.To) == nil || c.Count < 1 || !(c.Probability >= 0 && c.Probability <= 1) {
				t.Fatalf("bad call accepted: %+v", c)
			}
		}
	}
	order := topo.Order()
	if len(order) != len(topo.Services) {
		t.Fatalf("order has %d services, topology %d", len(order), len(topo.Services))
	}
	pos := make([]int, len(order))
	seen := make([]bool, len(order))
	for i, s := range order {
		if seen[s] {
			t.Fatalf("service %d twice in order %v", s, order)
		}
		seen[s] = true
		pos[s] = i
	}
	for i, s := range topo.Services {
		for _, c := range s.Calls {
			if pos[i] >= pos[topo.Index(c.To)] {
				t.Fatalf("accepted a cycle through %s → %s", s.Name, c.To)
			}
		}
	}
}
