package model

import "math"

// STAND-IN, to be deleted when the station-level GI/G/c wait lands.
//
// newStation takes the arrival SCV ca2 but, on this branch, ignores it: the
// GI/G/c wait that uses it is being written in station.go on another
// branch (i10-mgc). Until then, so that the QNA arrival SCVs (qna.go) reach
// the figures and can be checked against the simulator, build applies the
// textbook two-moment wait below to every station whose ca2 is not 1. When
// station.go's newStation uses ca2 itself, TestStandInStillNeeded fails:
// then set standInGIGc to false, or delete this file and its one call in
// network.go, and rerun the accuracy table (go run ./cmd/kendall-accuracy).
const standInGIGc = true

// standInWait replaces the mean wait of st, a station fed by arrivals of
// SCV ca2 ≠ 1, by the QNA approximation of the GI/G/m wait (Whitt 1983,
// the congestion at each node):
//
//	Wq ≈ (ca² + cs²)/2 · g · Wq(M/M/m),
//	g = exp(-2(1 - ρ)(1 - ca²)² / (3ρ(ca² + cs²)))  if ca² < 1, else 1,
//
// the Allen–Cunneen scaling of the M/M/m wait (A. O. Allen, Probability,
// Statistics, and Queueing Theory, 2nd ed., 1990, §6) with the correction
// for smooth arrivals of W. Krämer and M. Langenbach-Belz ("Approximate
// formulae for the delay in the queueing system GI/G/1", 8th International
// Teletraffic Congress, 1976), which QNA adopts for every node. At ca² = 1
// it is the station's own wait (Pollaczek–Khinchine for one server), so the
// stand-in changes nothing there.
//
// The shape stays the one the station uses for M/G/c: zero with the Erlang C
// probability, else exponential with the mean that gives Wq; a
// Pollaczek–Khinchine station gives up its exact transform for it, since
// that transform is for Poisson arrivals.
func standInWait(st *station) {
	if !st.stable || st.lambda == 0 || st.ca2 == 1 {
		return
	}
	ca2, cs2 := st.ca2, st.service.scv
	rho := st.mmc.Utilization()
	g := 1.0
	if ca2 >= 0 && ca2 < 1 { // below 0 only as folded feedback (arrivalSCVs): no smooth-arrival correction
		g = math.Exp(-2 * (1 - rho) * (1 - ca2) * (1 - ca2) / (3 * rho * (ca2 + cs2)))
	}
	st.pk = false
	st.pWait = st.mmc.WaitProbability()
	st.meanWait = (ca2 + cs2) / 2 * g * st.mmc.MeanWait()
	st.theta = 0
	if st.meanWait > 0 {
		st.theta = st.pWait / st.meanWait
	}
}

// The labels' names for the stand-in's wait and shape.
const (
	standInBasis = "stand-in GI/G/c wait: Allen–Cunneen's scaling of the M/M/c wait by (ca² + cs²)/2, with Krämer and Langenbach-Belz's correction for smooth arrivals"
	standInShape = "an exponential wait with the stand-in's mean"
)
