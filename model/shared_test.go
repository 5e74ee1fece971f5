package model

import (
	"math/cmplx"
	"testing"

	"github.com/kendallqn/kendall/topology"
)

// sharedShape is the accuracy table's shared service: an entry calls a,
// then b, and each calls db, a single worker at 90% load.
func sharedShape(t *testing.T) *topology.Topology {
	t.Helper()
	topo, err := topology.Parse("shared", []byte(`
name: shared
workload: [{entry: api, rate: 45}]
services:
  api: {servers: 64, service_time: 200us, calls: [{to: a}, {to: b}]}
  a: {servers: 64, service_time: 200us, calls: [{to: db}]}
  b: {servers: 64, service_time: 200us, calls: [{to: db}]}
  db: {servers: 1, service_time: 10ms}
`))
	if err != nil {
		t.Fatal(err)
	}
	return topo
}

// TestSharedVisits checks the treatment of a service visited by several
// paths: it is found (db, twice); with no correlation left across the time
// between the visits (δ = 0) the mixture is the visits independent, the
// tree's own transform; with the visits close together (δ = 1) it is the
// run's; and the end-to-end p99 lies between the visits independent and
// all equal.
func TestSharedVisits(t *testing.T) {
	topo := sharedShape(t)
	n := Analyze(topo)
	if len(n.shared[0]) != 1 || n.shared[0][0].s != topo.Index("db") || n.shared[0][0].m != 2 {
		t.Fatalf("shared leaves %+v", n.shared[0])
	}
	mean, _ := n.moments()
	v := n.sharedAt(0, mean)[0]
	if v.decay < 0.99 {
		t.Errorf("visits 0.2ms apart at a queue that relaxes in seconds: decay %v", v.decay)
	}
	st := &n.stations[topo.Index("db")]
	for _, z := range []complex128{complex(10, 0), complex(3, 40), complex(50, -200)} {
		ind := v
		ind.decay = 0
		want := pow(st.residualLST(z), 2)
		if got := ind.lst(z); cmplxRel(got, want) > 1e-12 {
			t.Errorf("δ = 0 at z = %v: %v, want the independent %v", z, got, want)
		}
	}
	if a := v.rs.mixtureAlpha(2, 1); !(a > 0 && a <= 1) {
		t.Errorf("α = %v", a)
	}
	model := n.EndToEndQuantile(0, 0.99)
	n.shared[0] = nil // the visits independent
	independent := n.EndToEndQuantile(0, 0.99)
	if !(independent < model) {
		t.Errorf("p99 %.4g not above the independent visits' %.4g", model, independent)
	}
	// All equal, db's two visits are twice one; the rest of the request
	// (three fast services) adds well under 2ms to the p99.
	if comonotone := 2 * st.mmc.ResponseQuantile(0.99); !(model < comonotone+0.002) {
		t.Errorf("p99 %.4g above the visits all equal, %.4g plus the rest", model, comonotone)
	}
}

func cmplxRel(a, b complex128) float64 { return cmplx.Abs(a-b) / cmplx.Abs(b) }
