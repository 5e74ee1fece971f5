package model

import "math"

// A service reached by several paths of the call tree (a database that
// both auth and orders call) is visited more than once by one request, not
// in a run, but often close together: the queue the second visit meets is
// much the one the first left, and their sojourns are positively
// correlated like a run's. Treated as independent, the end-to-end p99 of
// such a request was 18% to 27% low in the accuracy table (an entry
// calling a, then b, each calling one db at 50% to 90% load).
//
// For a service that makes no calls and that every request of an entry
// visits a fixed number m ≥ 2 of times (every call on the way made for
// sure; runs.go treats runs), the model takes the m visits out of the call
// tree and puts back the transform of their sum: the mixture of runs.go,
// its waits independent with probability 1 - α and all equal with
// probability α, the services independent, with α set by the covariance of
// successive visits, Cov(T_i, T_{i+d}) ≈ cov1·ρ^(d-1)·δ^d. The factor δ
// is what is left of the correlation across the time D between two
// visits: δ = exp(-D/τ), τ the relaxation time of the queue,
// τ = 1/(cμ(1 - √ρ)²) (P. M. Morse, "Stochastic properties of waiting
// lines", Operations Research 3(3), 1955, for the M/M/1 queue, whose
// transient decays like e^{-t/τ}; its queue, with c workers busy, decays
// at the rate of one worker c times as fast), and D the mean time the
// request spends elsewhere between visits. Without the time between them
// (δ = 1) the visits are a run's.
//
// A heuristic, between the visits independent and all equal; the accuracy
// table measures it on its "shared" shape.

// sharedLeaf is a service visited a fixed number of times by every request
// of an entry, by different calls, every visit sure.
type sharedLeaf struct {
	s int
	m int
}

// newSharedLeaves finds, for entry e, the services that make no calls and
// that every request visits m ≥ 2 times for sure, not all of them in one
// run; services that runs visit are left to runs.go.
func (n *Network) newSharedLeaves(e int) []sharedLeaf {
	for _, s := range n.reach[e] {
		if n.held[s] || len(n.groups[s]) > 0 {
			// A held worker's holding time and a group's latency are
			// evaluated with their subtrees (hold.go, group.go), so a
			// leaf cannot be taken out of the tree; its visits are
			// treated as independent.
			return nil
		}
	}
	sure := make([]float64, len(n.calls)) // visits along calls made for sure
	sure[n.entries[e]] = 1
	inRun := make([]bool, len(n.calls))
	for _, s := range n.order { // callers first
		if sure[s] == 0 {
			continue
		}
		for _, c := range n.calls[s] {
			if c.p == 1 {
				sure[c.to] += sure[s] * float64(c.count)
			}
		}
	}
	for _, s := range n.reach[e] {
		for _, it := range n.items[s] {
			if it.run != nil {
				inRun[it.run.to] = true
			}
		}
	}
	var out []sharedLeaf
	for _, s := range n.reach[e] {
		v := n.visits[e][s]
		m := math.Round(v)
		if len(n.calls[s]) > 0 || inRun[s] || v < 2-1e-9 || math.Abs(v-m) > 1e-9 || math.Abs(sure[s]-v) > 1e-9 || m > maxRunVisits {
			continue
		}
		out = append(out, sharedLeaf{s: s, m: int(m)})
	}
	return out
}

// sharedVisits is a shared leaf at the network's rates and workers.
type sharedVisits struct {
	sharedLeaf
	rs    *runStation
	decay float64 // δ
}

// sharedAt sets up the shared leaves of entry e: the mixture's constants
// of each, and the decay over the mean time between its visits, taken as
// the request's mean latency outside them divided among the m visits.
func (n *Network) sharedAt(e int, mean []float64) []sharedVisits {
	var out []sharedVisits
	for _, l := range n.shared[e] {
		st := &n.stations[l.s]
		rs := newRunStation(st, n.flows.self(l.s))
		rs.setMixture() // whatever the workers
		other := max(mean[n.entries[e]]-float64(l.m)*st.meanResponse(), 0)
		gap := other / float64(l.m)
		rho := st.mmc.Utilization()
		relax := 1 / (float64(st.servers) * st.mmc.Mu * (1 - math.Sqrt(rho)) * (1 - math.Sqrt(rho)))
		out = append(out, sharedVisits{sharedLeaf: l, rs: &rs, decay: math.Exp(-gap / relax)})
	}
	return out
}

// lst is the transform of the m visits' sum, less their constant part.
func (v *sharedVisits) lst(z complex128) complex128 {
	rs := v.rs
	a := rs.mixtureAlpha(v.m, v.decay)
	x := complex(1-a, 0) * pow(rs.st.waitLST(z), v.m)
	if a > 0 {
		x += complex(a, 0) * rs.st.waitLST(complex(float64(v.m), 0)*z)
	}
	return x * pow(rs.serviceResidual(z), v.m)
}

// excess is what the correlation adds to the variance of the m visits'
// sum, over that of m independent visits: α(m² - m)σ_W².
func (v *sharedVisits) excess() float64 {
	rs := v.rs
	a := rs.mixtureAlpha(v.m, v.decay)
	m := float64(v.m)
	return a * (m*m - m) * rs.varW
}
