package model

import (
	"fmt"
	"math"
	"math/cmplx"

	"github.com/kendallqn/kendall/topology"
)

// station is one service of a topology evaluated at its arrival rate: a
// queue with Servers workers and the service's service-time distribution.
//
// With exponential service times it is an exact M/M/c queue (MMc); with one
// worker an exact M/G/1 (Pollaczek–Khinchine); with deterministic service
// an exact M/D/c (mdc.go). Any other M/G/c queue has no exact solution: its
// wait is approximated (mgc.go), and the station says so (method).
type station struct {
	lambda  float64 // arrival rate
	ca2     float64 // squared coefficient of variation of the interarrival times: 1 for Poisson
	servers int
	service serviceTime
	mmc     MMc // the exponential queue with the same mean, for Erlang C

	stable   bool
	exact    bool    // exponential service: every figure is exact (for Poisson arrivals)
	pWait    float64 // probability an arrival waits
	meanWait float64
	theta    float64 // rate of the exponential wait, given that one waits
	pk       bool    // single server, general service: Pollaczek–Khinchine
	md       *mdc    // the M/D/c queue whose wait's transform gives the shape
	mdExact  bool    // deterministic service, several servers: the exact M/D/c
	mdApprox bool    // ... but too many servers too near saturation to solve (mdc.go)
	approx   string  // how an M/G/c wait is approximated (mgc.go), "" when it is not
	// An approximated M/G/c wait with cs² < 1 (mgc.go) is 0 with
	// probability 1 - pWait, else md's wait given that one waits,
	// stretched by stretch; the exact M/D/c has stretch 1. With cs² > 1 and
	// fast, the wait given that one waits is that of the M/G/1 queue with
	// c times faster service, stretched by stretch.
	stretch float64
	fast    bool
	// scale stretches the wait for non-Poisson arrivals (giScale): the wait
	// is scale times the Poisson one, its probability unchanged. 1 for
	// Poisson arrivals.
	scale float64
	// repl, for a replica of a service of several, is how its balancer
	// splits the service's arrivals (replicas.go), and balanced how its
	// wait is computed as a result; nil and "" for a service of one.
	repl     *replication
	balanced string
	// bal, for a replica behind least-requests or power-of-two, is its
	// approximated wait (balanced.go), whose transform waitLST reads.
	bal *balancedWait
	// hold, for a service that holds its worker across its calls
	// (hold.go), is its own work; service is then the holding time.
	hold *serviceTime
}

// newStation evaluates service s with the given workers at arrival rate
// lambda; ca2 is the squared coefficient of variation of the arrivals'
// interarrival times (1 for Poisson arrivals), for the approximations of
// stations fed by the non-Poisson departures of others.
func newStation(s *topology.Service, lambda float64, servers int, ca2 float64) station {
	return newStationFor(newServiceTime(s.MeanSeconds(), s.Distribution), lambda, servers, ca2)
}

// newStationFor is newStation for a given service time: a service's own,
// or the holding time of a service that holds its worker (hold.go).
func newStationFor(service serviceTime, lambda float64, servers int, ca2 float64) station {
	st := station{
		lambda:  lambda,
		ca2:     ca2,
		servers: servers,
		service: service,
		mmc:     MMc{Lambda: lambda, Mu: 1 / service.mean, C: servers},
		scale:   1,
	}
	if math.IsInf(service.mean, 1) {
		st.stable, st.pWait, st.meanWait = false, 1, math.Inf(1)
		return st
	}
	st.exact = st.service.exponential()
	st.stable = st.mmc.Stable()
	if !st.stable {
		st.pWait, st.meanWait = 1, math.Inf(1)
		return st
	}
	if lambda == 0 {
		return st // never visited: no wait, and the transforms below divide by λ
	}
	c, rho, m, scv := float64(servers), st.mmc.Utilization(), st.service.mean, st.service.scv
	switch {
	case st.exact:
		st.pWait = st.mmc.WaitProbability()
		st.meanWait = st.mmc.MeanWait()
		st.theta = c*st.mmc.Mu - lambda
	case servers == 1:
		// M/G/1: an arrival waits with probability ρ (PASTA), and the mean
		// wait is the Pollaczek–Khinchine formula Wq = ρ·m·(1 + cs²)/(2(1 - ρ))
		// (Kleinrock, Queueing Systems Vol. 1, 1975, ch. 5); the whole wait
		// distribution follows from the P–K transform (waitLST). Exact for a
		// single station; a network of them is still approximate, because
		// what leaves an M/G/1 queue is not Poisson.
		st.pk = true
		st.pWait = rho
		st.meanWait = rho * m * (1 + scv) / (2 * (1 - rho))
	case st.service.kind == topology.Deterministic:
		// M/D/c, solved exactly (mdc.go); its wait's transform up to
		// mdcTransformMax workers, an exponential wait with its mean above.
		d := newMDc(lambda, m, servers, st.mmc.WaitProbability())
		st.pWait, st.meanWait, st.mdExact, st.mdApprox = d.pWait, d.meanWait, true, d.approx
		switch {
		case d.inv != nil:
			st.md, st.stretch = d, 1
		case st.meanWait > 0:
			st.theta = st.pWait / st.meanWait
		}
	default:
		// M/G/c: approximated between the exact M/D/c and M/M/c (mgc.go);
		// the wait is zero with probability 1 - P(wait), else exponential
		// with the mean that gives the approximated Wq.
		a := mgcApprox(st.mmc, m, scv)
		st.pWait, st.meanWait, st.approx = a.pWait, a.meanWait, a.name
		switch {
		case a.md != nil:
			st.md, st.stretch = a.md, a.stretch
		case a.fast:
			st.fast, st.stretch = true, a.stretch
		case st.meanWait > 0:
			st.theta = st.pWait / st.meanWait
		}
	}
	if ca2 != 1 {
		// GI/G/c: the Poisson wait stretched to the arrivals' variability.
		st.scale = giScale(servers, rho, ca2, scv)
		st.meanWait *= st.scale
		st.theta /= st.scale
	}
	return st
}

func (st *station) meanResponse() float64 { return st.meanWait + st.service.mean }

// method says how a station's figures are computed, for the labels on
// them (labels.go). Exact means exact for this station fed by Poisson
// arrivals; whether its arrivals are Poisson is the network's question.
type method struct {
	queue      string // the queue the station is taken to be, e.g. "M/M/c"
	wait       string // how P(wait) and the mean wait are computed
	waitExact  bool
	shape      string // how the sojourn's distribution (the percentiles) is computed
	shapeExact bool
}

// method describes how st's figures are computed. It must change with the
// formulas above: the labels on every figure rest on it.
func (st *station) method() method {
	var m method
	switch {
	case st.exact:
		m = method{
			queue: "M/M/c",
			wait:  "Erlang C, M/M/c", waitExact: true,
			shape: "the M/M/c sojourn distribution", shapeExact: true,
		}
	case st.pk:
		m = method{queue: "M/G/1 (Pollaczek–Khinchine)", wait: "Pollaczek–Khinchine, M/G/1", waitExact: true,
			shape: "the Pollaczek–Khinchine transform, inverted numerically", shapeExact: true}
		if st.service.kind == topology.Lognormal {
			m.shape, m.shapeExact = "the Pollaczek–Khinchine transform of "+st.service.fitName(), false
		}
	case st.mdExact && st.mdApprox:
		m = method{queue: "M/D/c", wait: fmt.Sprintf("half the M/M/c wait, the heavy-traffic limit of M/D/c (Kingman), for more than %d workers this close to saturation", mdcRootsMax),
			shape: "an exponential wait with the approximated mean"}
	case st.mdExact:
		m = method{queue: "M/D/c (Crommelin's exact solution)", wait: "the exact M/D/c solution (Crommelin)", waitExact: true,
			shape: "the exact M/D/c waiting time transform (Crommelin, Franx), inverted numerically", shapeExact: true}
		if st.md == nil {
			m.shape, m.shapeExact = fmt.Sprintf("an exponential wait with the exact M/D/c mean (the exact transform is used up to %d workers)", mdcTransformMax), false
		}
	default:
		switch {
		case st.md != nil:
			m = method{wait: st.approx, shape: "the exact M/D/c wait's shape, stretched to the approximated mean"}
		case st.fast:
			m = method{wait: st.approx, shape: "the M/G/1 wait's shape with c times faster service (Pollaczek–Khinchine), stretched to the approximated mean"}
		default:
			m = method{wait: st.approx, shape: "an exponential wait with the approximated mean"}
		}
		m.queue = "M/G/c"
		if st.service.kind == topology.Lognormal {
			m.shape += ", with " + st.service.fitName()
		}
	}
	if st.scale != 1 || st.ca2 != 1 {
		m.wait += ", scaled to the arrivals' variability (Whitt's QNA)"
		m.shape += ", scaled to the arrivals' variability (Whitt's QNA)"
		m.waitExact, m.shapeExact = false, false
	}
	return m
}

// sojournVariance is the variance of wait plus service, which are
// independent. For the M/G/1 wait it uses Takács's second moment,
// E[Wq²] = 2·E[Wq]² + λE[S³]/(3(1 - ρ)) (L. Takács, Introduction to the
// Theory of Queues, 1962, ch. 2; Kleinrock Vol. 1, ch. 5, exercise);
// for the M/D/c wait and the stretched shapes of mgc.go, where it serves
// only as a scale for the numerical inversion and the first guess of a
// percentile, the exponential's E[Wq²] = 2·Wq²/P(wait); otherwise the
// wait is 0 or exponential with rate θ, so E[Wq²] = 2C/θ². A scaled wait
// (GI/G/c) has scale² times the second moment.
func (st *station) sojournVariance() float64 {
	m := st.service.mean
	v := st.service.scv * m * m
	var w2 float64
	switch {
	case !st.stable:
		return math.Inf(1)
	case st.pk:
		rho := st.lambda * m
		w2 = 2*st.meanWait*st.meanWait + st.scale*st.scale*st.lambda*st.service.thirdMoment()/(3*(1-rho))
	case st.md != nil || st.fast:
		if st.pWait > 0 {
			w2 = 2 * st.meanWait * st.meanWait / st.pWait
		}
	case st.theta > 0:
		w2 = 2 * st.pWait / (st.theta * st.theta)
	}
	return v + w2 - st.meanWait*st.meanWait
}

// waitLST is the Laplace–Stieltjes transform of the wait in queue. A wait
// scaled by k (GI/G/c) has the transform W*(kz).
func (st *station) waitLST(z complex128) complex128 {
	if st.bal != nil {
		return st.bal.lst(z)
	}
	if st.scale != 1 {
		z *= complex(st.scale, 0)
	}
	if st.md != nil {
		v := st.md.waitLST(z * complex(st.stretch, 0))
		if st.approx == "" {
			return v // the exact M/D/c
		}
		// (1 - P) + P·(conditional M/D/c wait): W_D*(v) = (1 - P_D) + P_D·cond.
		pD := st.md.pWait
		return complex(1-st.pWait, 0) + complex(st.pWait/pD, 0)*(v-complex(1-pD, 0))
	}
	if st.pk {
		// The Pollaczek–Khinchine transform equation for the M/G/1 wait,
		// W*(z) = (1 - ρ)z / (z - λ(1 - B*(z))) (Kleinrock, Queueing
		// Systems Vol. 1, 1975, ch. 5).
		rho := complex(st.lambda*st.service.mean, 0)
		lam := complex(st.lambda, 0)
		return (1 - rho) * z / (z - lam*(1-st.service.lst(z)))
	}
	if st.fast {
		// (1 - P) + P·(the M/G/1 wait with service S/c, given that one
		// waits, stretched): W_f*(v) = (1 - ρ) + ρ·cond.
		c := complex(float64(st.servers), 0)
		rho := st.mmc.Utilization()
		v := z * complex(st.stretch, 0)
		lam := complex(st.lambda, 0)
		wf := complex(1-rho, 0) * v / (v - lam*(1-st.service.lst(v/c)))
		return complex(1-st.pWait, 0) + complex(st.pWait/rho, 0)*(wf-complex(1-rho, 0))
	}
	if st.pWait == 0 || st.theta == 0 {
		return 1
	}
	// Wq = 0 with probability 1 - C, else Exp(θ): (1 - C) + C·θ/(θ + z).
	// θ is already the scaled wait's, so z is not scaled again.
	if st.scale != 1 {
		z /= complex(st.scale, 0)
	}
	return complex(1-st.pWait, 0) + complex(st.pWait, 0)*expLST(st.theta, z)
}

// sojournLST is the transform of the sojourn, wait plus own service, which
// are independent under FIFO.
func (st *station) sojournLST(z complex128) complex128 {
	return st.waitLST(z) * st.service.lst(z)
}

// shift is the constant part of the sojourn: the whole service time when it
// is deterministic, else 0.
func (st *station) shift() float64 {
	if st.hold != nil {
		return st.service.shift // the holding time's constant part (hold.go)
	}
	if st.service.kind == topology.Deterministic {
		return st.service.mean
	}
	return 0
}

// residualLST is the transform of the sojourn less its shift.
func (st *station) residualLST(z complex128) complex128 {
	switch {
	case st.exact && st.bal == nil:
		// The hot case, in one division: (1 - C + Cθ/(θ+z))·μ/(μ+z)
		// = μ(θ + (1-C)z) / ((θ+z)(μ+z)).
		mu, theta := st.mmc.Mu, st.theta
		num := complex(mu, 0) * (complex(theta, 0) + complex(1-st.pWait, 0)*z)
		return quo(num, (complex(theta, 0)+z)*(complex(mu, 0)+z))
	case st.hold != nil:
		v := st.sojournLST(z)
		if d := st.service.shift; d != 0 {
			v *= cmplx.Exp(z * complex(d, 0)) // e^{zΔ}: the constant part taken out
		}
		return v
	case st.service.kind == topology.Deterministic:
		return st.waitLST(z)
	default:
		return st.sojournLST(z)
	}
}

// quo is a/b by a·conj(b)/|b|²: the transforms' values are of moderate
// size, so the overflow guards of Go's complex division are not needed,
// and it is the inner loop of every end-to-end inversion.
func quo(a, b complex128) complex128 {
	br, bi := real(b), imag(b)
	d := br*br + bi*bi
	return complex((real(a)*br+imag(a)*bi)/d, (imag(a)*br-real(a)*bi)/d)
}

// rough reports whether the sojourn's distribution has kinks, which the
// Laplace inversion needs many terms for: deterministic service does that.
func (st *station) rough() bool {
	return st.service.kind == topology.Deterministic || st.service.shift > 0
}

// survival returns P(sojourn > t) and the sojourn's density: in closed form
// for the exact M/M/c, by numerical inversion of the transform otherwise.
func (st *station) survival() survivalFunc {
	if st.exact && st.bal == nil {
		mu, theta, c := st.mmc.Mu, st.theta, st.pWait
		if st.lambda == 0 {
			theta = float64(st.servers) * mu // nobody waits; θ only has to be positive
		}
		return func(t float64) (float64, float64) {
			return sojournSurvival(mu, theta, c, t), sojournDensity(mu, theta, c, t)
		}
	}
	return eulerInverter.invert(st.shift(), math.Sqrt(st.sojournVariance()), st.rough(), st.residualLST)
}

// serviceTime is a service-time distribution with its transform. The
// lognormal's transform is that of a mixture of Erlangs fitted to its
// shape (fit.go); only the percentiles depend on it, every mean is
// computed from the exact first two moments.
type serviceTime struct {
	kind topology.Kind
	mean float64 // seconds
	scv  float64 // squared coefficient of variation
	k    int     // Erlang phases
	fit  erlangMix

	// A holding time (hold.go), of kind held: its transform, its third
	// moment and its constant part.
	lstFn func(z complex128) complex128
	m3    float64
	shift float64
}

func newServiceTime(mean float64, d topology.Distribution) serviceTime {
	s := serviceTime{kind: d.Kind, mean: mean, scv: d.SCV(), k: d.K}
	if d.IsExponential() {
		s.kind = topology.Exponential
	}
	if s.kind == topology.Lognormal {
		s.fit = lognormalFit(mean, s.scv)
	}
	return s
}

// fitName names the phase-type stand-in of a lognormal, for the labels.
func (s serviceTime) fitName() string {
	return "a mixture-of-Erlangs fit to the lognormal's shape"
}

func (s serviceTime) exponential() bool { return s.kind == topology.Exponential }

// thirdMoment is E[S³]: 6m³ for the exponential, m³ for the deterministic,
// m³(k+1)(k+2)/k² for the Erlang-k, and for the lognormal that of its
// fit.
func (s serviceTime) thirdMoment() float64 {
	m3 := s.mean * s.mean * s.mean
	switch s.kind {
	case topology.Deterministic:
		return m3
	case topology.Erlang:
		k := float64(s.k)
		return m3 * (k + 1) * (k + 2) / (k * k)
	case topology.Lognormal:
		// The fitted distribution's, not the lognormal's own m³(1+cv²)³:
		// the variance it enters is that of what is inverted.
		return s.fit.m3
	case kindHeld:
		return s.m3
	default:
		return 6 * m3
	}
}

// lst is the Laplace–Stieltjes transform E[e^{-zS}] of the service time.
func (s serviceTime) lst(z complex128) complex128 {
	switch s.kind {
	case topology.Deterministic:
		return detLST(s.mean, z)
	case topology.Erlang:
		return erlangLST(s.k, float64(s.k)/s.mean, z)
	case topology.Lognormal:
		return s.fit.lst(z)
	case kindHeld:
		return s.lstFn(z)
	default:
		return expLST(1/s.mean, z)
	}
}
