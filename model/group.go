package model

import (
	"math"
	"slices"

	"github.com/kendallqn/kendall/topology"
)

// A group of parallel calls (topology.Group) is made at once: one coin per
// branch, a branch that comes up makes its call count times in a row, and
// the request goes on when Waits(n) of the n branches made have answered
// (the semantics of package topology and of the emulation, emulate/calls.go).
// The group's latency is therefore the k-th smallest of the made branches'
// latencies, k = Waits(n), mixed over which branches the coins make.
//
// Under independence of the branches' latencies its distribution follows
// from theirs: with F_b the CDF of branch b and p_b its coin,
//
//	P(T ≤ t) = Σ_{made sets A} Π_{b∈A} p_b Π_{b∉A} (1 - p_b) · P(at least Waits(|A|) of A done by t),
//
// the k-out-of-n order statistic of independent, not identically
// distributed variables (H. A. David and H. N. Nagaraja, Order Statistics,
// 3rd ed., 2003, §5.2, the Poisson-binomial form of eq. 5.2.1). It is
// computed by one recursion over the branches whose state is (branches
// made, branches made and done by t), O(m³) for m branches, with the
// derivative carried alongside for the density. Each branch's F_b is the
// branch's latency transform (the callee's, to the power count) inverted
// numerically (laplace.go). The group's mean and second moment are
// integrals of its survival function, E[T] = ∫S, E[T²] = ∫2tS, by the
// trapezoidal rule with the end correction that the density gives (the
// Euler–Maclaurin formula, Abramowitz & Stegun 25.4.1 with one correction
// term), on a grid that is fine over the body and geometric in the tail.
//
// Independence is exact when no branch ever waits (each latency is then
// its services' own times, independent of everything); otherwise it is an
// approximation. The branches of a fork-join receive their arrivals at the
// same instants, so their queues, and latencies, are positively
// correlated, and the largest of positively correlated latencies is
// stochastically smaller than under independence. For the mean of the
// homogeneous fork-join (every branch made, one call each to its own
// single-worker exponential service that nothing else calls, the same
// service time, wait all) the known correction is used: for two branches
// the exact R_2 = (12 - ρ)/8 · 1/(μ - λ) (L. Flatto and S. Hahn, "Two
// parallel queues created by arrivals with two demands I", SIAM J. Appl.
// Math. 44(5), 1984; R. Nelson and A. N. Tantawi, "Approximate analysis of
// fork/join synchronization in parallel queues", IEEE Trans. Computers
// 37(6), 1988, eq. 5), and for n branches Nelson and Tantawi's scaling
// approximation R_n ≈ [H_n/H_2 + (4/11)(1 - H_n/H_2)ρ]·R_2 (their eq. 11,
// H_n the harmonic numbers; within about 5% of their simulations for
// n ≤ 32, ρ ≤ 0.9). The independent distribution is then stretched in time
// to that mean, which keeps its shape and its coefficient of variation.
//
// To compose a group with the rest of a request (a sojourn before it,
// calls after it), the end-to-end transform needs the group's transform,
// which order statistics do not have in closed form. The group enters it
// as a mixture of Erlangs fitted to its shape, the way fit.go fits the
// lognormal: each cell of the grid becomes an Erlang-k with the cell's
// probability and mean, and the atoms are drawn towards the mean so that
// the mixture keeps the group's exact first two moments (mixtures of
// Erlangs approximate any distribution on [0, ∞): H. C. Tijms, A First
// Course in Stochastic Models, 2003, Appendix B; the construction is
// ours). Where the request's latency is a constant plus the group alone,
// the group's own survival function is used instead (loneGroup).

// callGroup is one group of parallel calls of a service.
type callGroup struct {
	branches []edge
	spec     *topology.Group
	pos      int // its position among the service's calls
}

// maxGroupBranches is the most branches a group may have for the exact
// recursion; the topology allows any number, the recursion costs m³.
const maxGroupBranches = 64

// groupDist is the latency distribution of one group at the network's
// rates and workers.
type groupDist struct {
	mean, variance float64
	p0             float64   // probability that no branch is made: the group takes no time
	fit            erlangMix // the shape of the latency given that it is not 0
	survival       survivalFunc

	exact     bool // no branch waits: independence is exact
	identical bool // the branches' queues have one sample path (identicalBranches)
	// oneLST, when not nil, is the group's exact transform: one branch's,
	// for identical branches; the fit is not used.
	oneLST    func(z complex128) complex128
	nt        float64 // the Nelson–Tantawi factor on the mean, 0 when not applied
	ntTwo     bool    // ... for two branches first among the calls: exact when the fork's arrivals are Poisson (Flatto–Hahn; groupLabels)
	branches  int     // branches that can be made
	waits     int     // what it waits for when every branch is made
	unstable  bool
	homogName string // the service time the homogeneous fork-join's branches share, for the labels
}

// lst is the transform of the group's latency: 0 with probability p0,
// else the fit.
func (g *groupDist) lst(z complex128) complex128 {
	if g.unstable {
		return 0
	}
	if g.oneLST != nil {
		return g.oneLST(z)
	}
	return complex(g.p0, 0) + complex(1-g.p0, 0)*g.fit.lst(z)
}

// branchDist is the latency distribution of one branch: count calls in a
// row to one callee, the calls' constant part taken out.
type branchDist struct {
	p     float64
	shift float64
	surv  survivalFunc
	mean  float64
	sd    float64
}

// groupsOf computes the distribution of every group of service s; its
// callees must be built.
func (n *Network) groupsOf(s int) []*groupDist {
	out := make([]*groupDist, len(n.groups[s]))
	for gi := range n.groups[s] {
		out[gi] = n.groupOf(s, &n.groups[s][gi])
	}
	return out
}

func (n *Network) groupOf(s int, g *callGroup) *groupDist {
	d := &groupDist{branches: len(g.branches), waits: g.spec.Waits(len(g.branches))}
	var bs []branchDist
	d.p0 = 1
	for _, b := range g.branches {
		if b.p == 0 {
			continue
		}
		d.p0 *= 1 - b.p
		if !n.stations[b.to].stable || math.IsInf(n.latMean[b.to], 1) {
			d.unstable = true
			d.mean, d.variance = math.Inf(1), math.Inf(1)
			return d
		}
		bs = append(bs, n.branchOf(b))
	}
	if len(bs) == 0 {
		d.p0 = 1
		d.survival = func(float64) (float64, float64) { return 0, 0 }
		return d
	}
	if len(bs) > maxGroupBranches {
		bs = bs[:maxGroupBranches] // beyond any real fan-out; the rest are dropped from the latency
	}
	waits := g.spec.Waits
	surv := func(t float64) (float64, float64) { return orderStat(bs, waits, t) }
	d.exact = n.branchesNeverWait(g)
	if n.identicalBranches(s, g) {
		// Every branch's queue has the same sample path: the group's
		// latency is any one branch's, whatever it waits for.
		d.identical = true
		to := g.branches[0].to
		d.oneLST = func(z complex128) complex128 { return n.latencyLST(to, z) }
		one := bs[0]
		surv = func(t float64) (float64, float64) { return one.surv(t) }
	}
	grid := groupGrid(bs, surv)
	m1, m2, cells := integrate(surv, grid)
	d.mean, d.variance = m1, max(m2-m1*m1, 0)
	if d.identical {
		to := g.branches[0].to
		d.mean, d.variance = n.latMean[to], n.latVar[to] // one branch's, not the grid's integral
	}
	if f, name, exact := n.nelsonTantawi(s, g, m1); f > 0 && !d.identical {
		d.nt, d.ntTwo, d.homogName = f, exact, name
		d.mean *= f
		d.variance *= f * f
		for i := range cells {
			cells[i].t *= f
		}
		surv = stretched(surv, f)
	}
	d.survival = surv
	d.fit = shapeFit(cells, d.p0, d.mean, d.variance)
	return d
}

// stretched is the survival function of f·T.
func stretched(s survivalFunc, f float64) survivalFunc {
	return func(t float64) (float64, float64) {
		v, dens := s(t / f)
		return v, dens / f
	}
}

// branchOf inverts the latency of one branch: count calls in a row to the
// callee, as independent copies (runs.go follows consecutive visits only
// for sequential calls; a branch's repetitions are treated as independent).
func (n *Network) branchOf(b edge) branchDist {
	k := float64(b.count)
	shift := k * n.shift[b.to]
	st := &n.stations[b.to]
	lst := func(z complex128) complex128 {
		v := pow(n.latencyLST(b.to, z), b.count)
		if shift != 0 {
			v *= detLST(-shift, z) // e^{zΔ}: the constant part out
		}
		return v
	}
	if len(n.calls[b.to]) == 0 && st.hold == nil && st.shift() == n.shift[b.to] {
		// A callee that makes no calls: its sojourn's own transform less
		// its constant part, which never multiplies e^{-zΔ} by e^{zΔ}
		// (at the large z of the inversion near the shift, 0·∞).
		lst = func(z complex128) complex128 { return pow(st.residualLST(z), b.count) }
	}
	sd := math.Sqrt(k * n.latVar[b.to])
	rough := n.roughBelow(b.to)
	return branchDist{
		p:     b.p,
		shift: shift,
		surv:  eulerInverter.invert(shift, sd, rough, lst),
		mean:  k * n.latMean[b.to],
		sd:    sd,
	}
}

// roughBelow reports whether a deterministic service time lies in the
// subtree of s: the inversion then needs its many terms.
func (n *Network) roughBelow(s int) bool {
	if n.stations[s].rough() {
		return true
	}
	for _, c := range n.calls[s] {
		if n.roughBelow(c.to) {
			return true
		}
	}
	return false
}

// latencyLST is the transform T*_s(z) of the latency of a request at s,
// its own sojourn and its calls, evaluated on its own (the end-to-end
// transform evaluates every service in one pass; a branch or a holding
// time needs one subtree at points of its own). Visits are independent
// but for runs, as in endToEnd.
func (n *Network) latencyLST(s int, z complex128) complex128 {
	st := &n.stations[s]
	x := st.sojournLST(z)
	if st.hold != nil {
		return x // the holding time has the calls in it
	}
	return x * n.callsLST(s, z)
}

// callsLST is the transform of the latency of s's calls, one after
// another.
func (n *Network) callsLST(s int, z complex128) complex128 {
	x := complex(1, 0)
	for _, it := range n.items[s] {
		switch {
		case it.run != nil:
			r := it.run
			v := n.runSt[r.to].lst(r, z, n.runs)
			if d := float64(r.fixed) * n.stations[r.to].shift(); d != 0 {
				v *= detLST(d, z) // the constant part of its sure visits
			}
			x *= v
		case it.grp >= 0:
			if gd := n.groupD[s]; gd != nil {
				x *= gd[it.grp].lst(z)
			}
		default:
			c := it.edge
			f := n.latencyLST(c.to, z)
			if c.p != 1 {
				f = complex(1-c.p, 0) + complex(c.p, 0)*f
			}
			x *= pow(f, c.count)
		}
	}
	return x
}

// orderStat is the survival function and density at t of the group's
// latency: the recursion over branches of the probability of (a made,
// d made and done by t), and its derivative in t.
func orderStat(bs []branchDist, waits func(int) int, t float64) (float64, float64) {
	if t <= 0 {
		return 1, 0
	}
	m := len(bs)
	// P[a][d] and its derivative; a made, d of them done.
	p := make([][]float64, m+1)
	dp := make([][]float64, m+1)
	for a := range p {
		p[a] = make([]float64, m+1)
		dp[a] = make([]float64, m+1)
	}
	p[0][0] = 1
	for i, b := range bs {
		s, f := b.surv(t)
		s = min(max(s, 0), 1)
		F := 1 - s
		for a := i + 1; a >= 0; a-- {
			for d := a; d >= 0; d-- {
				v, dv := p[a][d]*(1-b.p), dp[a][d]*(1-b.p)
				if a > 0 {
					v += b.p * p[a-1][d] * s
					dv += b.p * (dp[a-1][d]*s - p[a-1][d]*f)
					if d > 0 {
						v += b.p * p[a-1][d-1] * F
						dv += b.p * (dp[a-1][d-1]*F + p[a-1][d-1]*f)
					}
				}
				p[a][d], dp[a][d] = v, dv
			}
		}
	}
	var surv, dsurv float64
	for a := 1; a <= m; a++ {
		for d := 0; d < waits(a); d++ {
			surv += p[a][d]
			dsurv += dp[a][d]
		}
	}
	return surv, -dsurv
}

// groupGrid is the grid the group's moments are integrated on: the
// branches' constant parts as breakpoints, 192 points over the body (up to
// where the group is done but with probability 10⁻³), 96 geometric
// points from there to where it is done but with probability 10⁻¹³.
func groupGrid(bs []branchDist, surv survivalFunc) []float64 {
	tail := func(t float64) float64 {
		v, _ := surv(t)
		return max(v, 0)
	}
	scale := math.Inf(1)
	for _, b := range bs {
		scale = min(scale, b.shift+b.mean+b.sd)
	}
	if !(scale > 0) {
		scale = 1e-9
	}
	find := func(level float64) float64 {
		t := scale
		for range 200 {
			if tail(t) <= level {
				break
			}
			t *= 1.5
		}
		return t
	}
	body := find(1e-3)
	end := max(find(1e-13), body*1.0001)
	breaks := []float64{0, body}
	for _, b := range bs {
		if b.shift > 0 && b.shift < body {
			breaks = append(breaks, b.shift)
		}
	}
	slices.Sort(breaks)
	breaks = slices.Compact(breaks)
	var grid []float64
	per := max(192/(len(breaks)-1), 16)
	for i := 0; i+1 < len(breaks); i++ {
		a, b := breaks[i], breaks[i+1]
		for j := range per {
			grid = append(grid, a+(b-a)*float64(j)/float64(per))
		}
	}
	r := math.Pow(end/body, 1.0/96)
	for j := range 97 {
		grid = append(grid, body*math.Pow(r, float64(j)))
	}
	return grid
}

// cell is one interval of the grid as an atom: its probability and mean.
type cell struct{ w, t float64 }

// integrate returns E[T], E[T²] and the grid's cells for survival function
// s on grid: the trapezoidal rule on S and 2tS with the first
// Euler–Maclaurin correction -h²/12·(g'(b) - g'(a)), g' from the density.
// Each interval is evaluated just inside its ends, so that a jump of S at
// a breakpoint (a deterministic branch) falls between intervals.
func integrate(s survivalFunc, grid []float64) (m1, m2 float64, cells []cell) {
	const in = 1e-9
	for i := 0; i+1 < len(grid); i++ {
		a, b := grid[i], grid[i+1]
		h := b - a
		if h <= 0 {
			continue
		}
		ta, tb := a+in*h, b-in*h
		sa, fa := s(ta)
		sb, fb := s(tb)
		m1 += h/2*(sa+sb) - h*h/12*(-fb+fa)
		ga, gb := 2*ta*sa, 2*tb*sb
		dga, dgb := 2*sa-2*ta*fa, 2*sb-2*tb*fb
		m2 += h/2*(ga+gb) - h*h/12*(dgb-dga)
		if w := sa - sb; w > 0 {
			cells = append(cells, cell{w: w, t: (a + b) / 2})
		}
	}
	return m1, m2, cells
}

// shapeFit is the mixture of Erlang-k's, one per cell, with the group's
// conditional mean and variance given that it is not 0: the cells' means
// drawn towards the mean by a, so that the atoms' variance plus the
// kernels' (E[X²]/k) is the group's.
func shapeFit(cells []cell, p0, mean, variance float64) erlangMix {
	if p0 >= 1 || len(cells) == 0 {
		return erlangMix{k: 1, w: []float64{1}, rate: []float64{1}}
	}
	mc := mean / (1 - p0)
	ex2 := (variance + mean*mean) / (1 - p0)
	vc := max(ex2-mc*mc, 0)
	var tw, tm float64
	for _, c := range cells {
		tw += c.w
		tm += c.w * c.t
	}
	am := tm / tw
	var va float64
	for _, c := range cells {
		va += c.w * (c.t - am) * (c.t - am)
	}
	va /= tw
	// The kernel's relative spread 1/√k: narrow beside the distribution
	// (k ≥ 64), and narrower still when the distribution is concentrated.
	k := 64
	if vc > 0 {
		k = max(k, int(math.Ceil(4*mc*mc/vc)))
	}
	k = min(k, topology.MaxPhases)
	kf := float64(k)
	a := 0.0
	if va > 0 {
		a = math.Sqrt(max(vc-mc*mc/kf, 0) / (va * (1 + 1/kf)))
	}
	f := erlangMix{k: k}
	for _, c := range cells {
		x := mc + a*(c.t-am)
		if x <= 0 || c.w/tw < 1e-15 {
			continue
		}
		f.w = append(f.w, c.w/tw)
		f.rate = append(f.rate, kf/x)
	}
	var sw float64
	for _, w := range f.w {
		sw += w
	}
	for i := range f.w {
		f.w[i] /= sw
	}
	return f
}

// branchesNeverWait reports whether no branch of g waits anywhere: every
// service in every branch's subtree has no chance of waiting (its P(wait)
// is 0 to the precision of a float64), holds no worker, and has a service
// time whose transform is exact (not the lognormal's fit). The branches'
// latencies are then sums of independent service times, and independent.
func (n *Network) branchesNeverWait(g *callGroup) bool {
	var ok func(s int) bool
	ok = func(s int) bool {
		st := &n.stations[s]
		if st.pWait != 0 || st.hold != nil || st.service.kind == topology.Lognormal || len(n.groups[s]) > 0 {
			return false
		}
		for _, c := range n.calls[s] {
			if !ok(c.to) {
				return false
			}
		}
		return true
	}
	for _, b := range g.branches {
		if b.p > 0 && !ok(b.to) {
			return false
		}
	}
	return true
}

// nelsonTantawi returns the factor by which the homogeneous fork-join's
// mean corrects the independent mean m of group g of service s, 0 when
// the group is not one: wait all, n ≥ 2 branches all made once, each to
// its own single-worker exponential service that makes no calls, holds
// nothing and has no arrivals but this group's, all with one service
// time. two says the group has two branches and is s's first call: the
// mean is then Flatto and Hahn's exact result if s is an M/M/c queue with
// Poisson arrivals, whose departures are Poisson by Burke's theorem
// (groupLabels decides).
func (n *Network) nelsonTantawi(s int, g *callGroup, m float64) (f float64, name string, two bool) {
	k := len(g.branches)
	if k < 2 || g.spec.Wait != topology.WaitAll || m <= 0 {
		return 0, "", false
	}
	seen := map[int]bool{}
	var mu, lambda float64
	for i, b := range g.branches {
		st := &n.stations[b.to]
		if b.p != 1 || b.count != 1 || seen[b.to] || !st.exact || st.servers != 1 || len(n.calls[b.to]) > 0 ||
			math.Abs(n.lambda[b.to]-n.lambda[s]) > 1e-9*n.lambda[s] || st.ca2 != 1 {
			return 0, "", false
		}
		seen[b.to] = true
		if i == 0 {
			mu, lambda = st.mmc.Mu, st.lambda
		} else if math.Abs(st.mmc.Mu-mu) > 1e-12*mu {
			return 0, "", false
		}
	}
	rho := lambda / mu
	r2 := (12 - rho) / 8 / (mu - lambda)
	hn, h2 := harmonic(k), 1.5
	rn := (hn/h2 + 4.0/11*(1-hn/h2)*rho) * r2
	// Whether the fork's arrivals are Poisson needs s's own station,
	// which is built after its groups: the labels decide (groupLabels).
	return rn / m, n.topo.Services[g.branches[0].to].ServiceTime.String(), k == 2 && g.pos == 0
}

// harmonic is H_n = 1 + 1/2 + … + 1/n.
func harmonic(k int) float64 {
	var h float64
	for i := 1; i <= k; i++ {
		h += 1 / float64(i)
	}
	return h
}

// loneGroup returns the group whose latency, plus a constant, is the whole
// latency of a request at s: s never waits, its own service time is
// constant, it holds no worker, and it makes one group and no other call.
// nil otherwise.
func (n *Network) loneGroup(s int) *groupDist {
	st := &n.stations[s]
	if len(n.items[s]) != 1 || n.items[s][0].grp < 0 || st.hold != nil || st.pWait != 0 || st.service.kind != topology.Deterministic {
		return nil
	}
	g := n.groupD[s][n.items[s][0].grp]
	if g.unstable {
		return nil
	}
	return g
}

// identicalBranches reports whether the branches of group g of service s
// are sure calls, made once each, to distinct services with deterministic
// service times of one length and the same workers, which make no calls,
// hold nothing and have no arrivals but this group's. Their queues then
// see the same arrivals at the same instants and serve them in the same
// constant times: the same sample path, so every branch answers at the
// same instant, and the group's latency is any one branch's — exactly, for
// any k, whatever the arrivals (a sample-path fact; independence would
// take the k-th of n independent copies, too late for k > 1).
func (n *Network) identicalBranches(s int, g *callGroup) bool {
	if len(g.branches) < 2 {
		return false
	}
	t := n.topo
	first := t.Services[g.branches[0].to]
	seen := map[int]bool{}
	for _, b := range g.branches {
		svc := t.Services[b.to]
		if b.p != 1 || b.count != 1 || seen[b.to] || n.held[b.to] || len(n.calls[b.to]) > 0 ||
			svc.Distribution.Kind != topology.Deterministic || svc.ServiceTime != first.ServiceTime ||
			n.stations[b.to].servers != n.stations[g.branches[0].to].servers || n.flows.external[b.to] > 0 {
			return false
		}
		seen[b.to] = true
		callers := 0
		for j := range n.calls {
			for _, e := range n.calls[j] {
				if e.to == b.to {
					callers++
				}
			}
		}
		if callers != 1 {
			return false
		}
	}
	return true
}
