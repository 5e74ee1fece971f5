package model

import (
	"path/filepath"
	"testing"

	"github.com/kendallqn/kendall/topology"
)

// TestFlowsConserve checks the flows between consecutive visits against
// what every route must satisfy: each station's visits end once each
// (its outflows, leaving included, sum to its arrival rate) and begin once
// each (its inflows and external arrivals sum to it too), on networks with
// probabilistic, repeated and shared calls.
func TestFlowsConserve(t *testing.T) {
	five, err := topology.Load(filepath.Join("testdata", "five.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, topo := range []*topology.Topology{five, generate(t, 200, 3)} {
		n := Analyze(topo)
		in := make([]float64, len(topo.Services))
		for i, outs := range n.flows.out {
			var sum float64
			for _, o := range outs {
				sum += o.rate
				if o.to >= 0 {
					in[o.to] += o.rate
				}
			}
			checkRel(t, topo.Services[i].Name+" outflow", sum, n.lambda[i], 1e-12)
		}
		for i := range topo.Services {
			checkRel(t, topo.Services[i].Name+" inflow", in[i]+n.flows.external[i], n.lambda[i], 1e-12)
		}
	}
}

// TestFlowsByHand holds the flows of five.yaml to its routes worked out by
// hand. A request's route is front, auth, db (auth's call), then, with
// probability 0.6, search, whose call to db is made twice in a row, each
// time with probability 0.5, before its call to cache; then db three times.
func TestFlowsByHand(t *testing.T) {
	topo, err := topology.Load(filepath.Join("testdata", "five.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	n := Analyze(topo)
	rate := func(from, to string) float64 {
		i := topo.Index(from)
		j := -1
		if to != "" {
			j = topo.Index(to)
		}
		for _, o := range n.flows.out[i] {
			if o.to == j {
				return o.rate
			}
		}
		return 0
	}
	const r = 150.0
	// search is visited 0.6·r = 90/s. Its first call to db is made with
	// probability 0.5, then its second with 0.5: search → db 0.5, and the
	// db visit after it goes to db 0.5 (the second call made) or to cache.
	// cache is reached from search (both calls skipped, 0.25) or from db.
	want := map[[2]string]float64{
		{"front", "auth"}: r,
		{"auth", "db"}:    r,
		{"db", "search"}:  0.6 * r,
		// search calls db at least once with probability 1 - 0.5², else
		// goes straight to cache; cache follows search's last db visit
		// whenever there was one.
		{"search", "db"}:    0.75 * 0.6 * r,
		{"search", "cache"}: 0.25 * 0.6 * r,
		{"db", "cache"}:     0.75 * 0.6 * r,
		{"cache", "db"}:     0.6 * r,
		// db → db: auth's db to front's first db when search is skipped
		// (0.4·r), search's two db calls both made (0.25·0.6·r), and
		// front's three in a row (2·r).
		{"db", "db"}: 0.4*r + 0.25*0.6*r + 2*r,
		{"db", ""}:   r,
	}
	for k, w := range want {
		checkRel(t, k[0]+" → "+k[1], rate(k[0], k[1]), w, 1e-12)
	}
}
