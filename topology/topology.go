package topology

import (
	"errors"
	"fmt"
	"time"
)

// Topology is a parsed, validated topology file. Services keep the order of
// the file, so every report lists them the way the user wrote them.
type Topology struct {
	Name     string
	File     string // where it was read from ("" when parsed from memory)
	Workload []Workload
	Services []*Service

	index map[string]int
}

// Workload is one stream of external requests: Poisson arrivals at Entry.
type Workload struct {
	Entry string
	Rate  float64 // requests per second, > 0
	Line  int     // line of the entry in the file, for messages
}

// Service is Replicas stations, each of Servers workers in front of one
// FIFO queue; with the default of one replica, one station.
type Service struct {
	Name    string
	Servers int // concurrent workers of each replica, c in M/M/c; >= 1
	// Replicas is how many independent copies of the service run, from 1
	// to MaxReplicas; 1 unless set. Each replica is a station of its own:
	// Servers workers and one FIFO queue, which the other replicas' idle
	// workers do not serve. So replicas: 3 with servers: 2 is three queues
	// of two workers, a different system from servers: 6, one queue of
	// six, which waits less at the same load. Every request to the service
	// goes to one replica, chosen by Balancer.
	Replicas int
	// Balancer is how each caller of the service routes a request to it,
	// an external one or a call, to one of its replicas; BalancerRandom
	// unless set. It has no effect on a service of one replica, and is
	// allowed there.
	Balancer     Balancer
	ServiceTime  time.Duration // mean service time, > 0
	Distribution Distribution  // shape of the service time around its mean
	Endpoint     string        // optional URL where the live service answers
	Listen       string        // optional host:port for the emulated service
	Calls        []Call        // made in order after this service's own work
	// Hold keeps the worker busy until the service's calls have returned,
	// as a thread-per-request server or a connection pool does; without
	// it the worker is released after the service's own work.
	Hold bool
	Line int // line of the service in the file, for messages
}

// Balancer is the policy by which a caller routes a request to one of a
// service's replicas. The balancing is client-side, as gRPC, Finagle and
// Envoy's sidecar do it: there is no central queue and no shared view of
// the replicas. Every caller keeps its own balancer for each service it
// calls, with its own state, where a caller is
//
//   - for external requests, the workload entry: the load generator is one
//     client of the entry service;
//   - for calls, one replica of the calling service: each replica is a
//     process of its own, with its own client (a gRPC channel) for each
//     service it calls, shared by all of that replica's calls to the
//     service — sequential, repeated (count) and parallel alike.
//
// The policy is the callee's to name (Service.Balancer): every caller of a
// service balances it the same way, each with its own state.
//
// A request is in flight at a replica, from a balancer's view, from the
// moment the balancer sends it there until the reply comes back to it:
// queued, in service, and waiting for the replica's own calls (whether or
// not the replica holds a worker meanwhile). The request of a parallel
// group that the group no longer waits for stays in flight until it
// answers. A balancer counts only its own requests: those of other
// callers, which load the same replica, it cannot see.
type Balancer string

// The balancing policies a topology may use.
const (
	// BalancerRandom sends each request to a replica chosen uniformly at
	// random, independently of every other request. It needs no state;
	// each replica of n receives a Poisson stream at 1/n of a Poisson rate.
	BalancerRandom Balancer = "random"
	// BalancerRoundRobin sends a caller's requests to the replicas in turn,
	// 0, 1, …, n−1, 0, …, with one cursor per caller (see Balancer) that
	// starts at a replica chosen at random, as gRPC's round_robin does so
	// that callers started together do not all begin with the same one. A
	// replica thus receives every n-th request of each caller: from one
	// Poisson caller, Erlang-n interarrival times.
	BalancerRoundRobin Balancer = "round-robin"
	// BalancerLeastRequests sends a request to the replica with the fewest
	// of the caller's requests in flight (see Balancer), ties broken
	// uniformly at random: join the shortest queue, as the caller sees it.
	BalancerLeastRequests Balancer = "least-requests"
	// BalancerPowerOfTwo chooses two distinct replicas uniformly at random
	// and sends the request to the one with fewer of the caller's requests
	// in flight, ties broken at random (Mitzenmacher's power of two
	// choices; Envoy's least_request with its default choice_count 2).
	// With two replicas it is least-requests.
	BalancerPowerOfTwo Balancer = "power-of-two"
)

// Balancers lists the policies in the order the documentation gives them.
var Balancers = []Balancer{BalancerRandom, BalancerRoundRobin, BalancerLeastRequests, BalancerPowerOfTwo}

// Call is one call a service makes to another after its own work, or a
// group of calls made at once (Parallel).
type Call struct {
	To          string
	Probability float64 // the call is made with this probability, in [0, 1]
	Count       int     // made this many times in a row, >= 1
	// Group, when not nil, makes the call a group of parallel calls; To,
	// Probability and Count are then unused.
	Group *Group
	Line  int
}

// Group is a group of parallel calls: its calls (each to a service, with
// its own probability and count, none a group) are made at once, as a Go
// handler makes them with goroutines, and the request goes on when Wait of
// the calls made have answered; the others still run to the end and load
// their callees (a follower still applies the write).
type Group struct {
	Calls []Call
	// Wait is how many of the calls made to wait for: WaitAll for every
	// one, 1 for the first (any), k for k of them (a quorum).
	Wait int
}

// WaitAll is the Wait of a group that waits for every call it made.
const WaitAll = 0

// Waits is how many of n calls made the group waits for: Wait, or all n,
// and never more than were made.
func (g *Group) Waits(n int) int {
	if g.Wait == WaitAll || g.Wait > n {
		return n
	}
	return g.Wait
}

// EachCall calls fn for every call s makes to a service: its calls, and
// the calls of its groups.
func (s *Service) EachCall(fn func(c *Call)) {
	for i := range s.Calls {
		c := &s.Calls[i]
		if c.Group == nil {
			fn(c)
			continue
		}
		for j := range c.Group.Calls {
			fn(&c.Group.Calls[j])
		}
	}
}

// MaxServers is the most workers a service may have. Erlang C costs time in
// proportion to the workers, and a million is far beyond any real pool.
const MaxServers = 1_000_000

// MaxReplicas is the most replicas a service may have. The emulation
// serves every replica on a port of its own, and a host has 65,535 ports
// for all the services; a balancer's state (a count in flight for each
// replica, in each caller's view) grows with callers × replicas in the
// simulator. Ten thousand is past the largest deployments of one service
// (a few thousand pods).
const MaxReplicas = 10_000

// The ranges of the other numbers kendall handles. Each is far beyond any
// real system; outside it a figure overflows, underflows, or takes for ever
// to compute or simulate.
const (
	// MinRate is the smallest arrival rate, in requests per second: one
	// request every 11.6 days. The simulator's mean gap between arrivals is
	// 1/rate seconds, which for a rate of 1e-310 is +Inf, so its clock never
	// moves; at 5e-324 the model's figures overflow too.
	MinRate = 1e-6
	// MaxRate is the largest arrival rate, a billion requests per second:
	// all that one worker serves at the shortest service time there is,
	// 1ns. A larger rate is a mistake in the unit rather than a workload.
	MaxRate = 1e9

	// MinCV is the smallest coefficient of variation of a lognormal
	// service time. Below it the standard deviation is under 1% of the
	// mean, and the lognormal is within 3.2% of its mean up to its p99.9
	// (its quantile is m·exp(σz − σ²/2) with σ² = ln(1 + cv²); Johnson,
	// Kotz & Balakrishnan, Continuous Univariate Distributions Vol. 1, 2nd
	// ed., 1994, §14.3): the deterministic, for every figure kendall
	// reports. The model's percentiles also need it: they invert the
	// transform of a mixed Erlang with ⌈1/cv²⌉ phases (Tijms 2003, App. B),
	// 10,000 at cv 0.01 but 10¹² at cv 1e-6, where the inversion gave a
	// p99.9 of 1.37 s for a 2.65 ms service.
	MinCV = 0.01
	// MaxCV is the largest coefficient of variation of a lognormal service
	// time. The mean of n draws has a relative standard error of cv/√n, so
	// at cv 100 a simulation of a million service times pins even their
	// mean only to 10%; far beyond it (cv² overflows at 1.3e154) the
	// figures are infinite and cannot be written as JSON.
	MaxCV = 100
	// MaxPhases is the most phases k of an Erlang service time. Its
	// coefficient of variation is 1/√k, so beyond 10,000 phases it is under
	// MinCV and deterministic for every figure kendall reports; and the
	// simulator draws k exponentials for every service time, so k = 1e15
	// would never finish (at 10,000, a million requests take two minutes
	// on two cores).
	MaxPhases = 10_000
	// MaxCount is the most times in a row a call may be made. The
	// simulator makes each call in turn, and keeps the count in 32 bits:
	// a count of 2³² + 1 was simulated as 1, six orders of magnitude from
	// the model's figures. A million is far beyond any loop of calls.
	MaxCount = 1_000_000
	// MaxVisits is the most visits a request may make, on average, to the
	// services it calls (counts multiply along a chain of calls). The
	// simulator makes every visit, a few million a second, and beyond it
	// the model's visit ratios leave float64 altogether (a chain of sixty
	// calls with count 1,000,000 is 1e360 visits).
	MaxVisits = 10_000_000
)

// Kind names the family of a service-time distribution.
type Kind string

// The service-time distributions a topology may use.
const (
	Exponential   Kind = "exponential"
	Deterministic Kind = "deterministic"
	Lognormal     Kind = "lognormal"
	Erlang        Kind = "erlang"
)

// Kinds lists the distributions in the order the documentation gives them.
var Kinds = []Kind{Exponential, Deterministic, Lognormal, Erlang}

// Distribution is the shape of a service time; the mean is the service's
// ServiceTime. The zero value is exponential.
type Distribution struct {
	Kind Kind
	CV   float64 // coefficient of variation, for Lognormal (> 0)
	K    int     // number of phases, for Erlang (>= 1)
}

// IsExponential reports whether the distribution is the exponential, the one
// for which the M/M/c model is exact.
func (d Distribution) IsExponential() bool {
	return d.Kind == "" || d.Kind == Exponential || (d.Kind == Erlang && d.K == 1)
}

// SCV is the squared coefficient of variation, Var[S]/E[S]^2: 1 for the
// exponential, 0 for the deterministic, cv^2 for the lognormal and 1/k for
// the Erlang-k (Kleinrock, Queueing Systems Vol. 1, §4.3, for the Erlang).
func (d Distribution) SCV() float64 {
	switch d.Kind {
	case Deterministic:
		return 0
	case Lognormal:
		return d.CV * d.CV
	case Erlang:
		return 1 / float64(d.K)
	default:
		return 1
	}
}

func (d Distribution) String() string {
	switch d.Kind {
	case Lognormal:
		return fmt.Sprintf("lognormal(cv=%g)", d.CV)
	case Erlang:
		return fmt.Sprintf("erlang(k=%d)", d.K)
	case "":
		return string(Exponential)
	default:
		return string(d.Kind)
	}
}

// MeanSeconds is the mean service time in seconds, the unit of all the math.
func (s *Service) MeanSeconds() float64 { return s.ServiceTime.Seconds() }

// Workers is the service's workers over all its replicas: what its
// utilization is a fraction of, whichever replica serves a request.
func (s *Service) Workers() int { return s.Servers * s.Replicas }

// ScalesOut reports whether capacity is added to the service a replica at
// a time, each of Servers workers, rather than a worker at a time: when it
// runs as several replicas. A capacity plan keeps the file's choice, as a
// team does: a service of one replica gets more workers (scaled up), one
// of several gets more replicas (scaled out).
func (s *Service) ScalesOut() bool { return s.Replicas > 1 }

// Units is the service's capacity in the units a plan adds: its replicas
// when it scales out, its workers otherwise.
func (s *Service) Units() int {
	if s.ScalesOut() {
		return s.Replicas
	}
	return s.Servers
}

// MaxUnits is the most Units a service may have: MaxReplicas or
// MaxServers.
func (s *Service) MaxUnits() int {
	if s.ScalesOut() {
		return MaxReplicas
	}
	return MaxServers
}

// WithUnits is a copy of s with n Units: n replicas when it scales out, n
// workers otherwise. A service scaled out to one replica keeps the
// balancer, which changes nothing there.
func (s *Service) WithUnits(n int) *Service {
	c := *s
	if s.ScalesOut() {
		c.Replicas = n
	} else {
		c.Servers = n
	}
	return &c
}

// Service returns the service with the given name, or nil.
func (t *Topology) Service(name string) *Service {
	i, ok := t.index[name]
	if !ok {
		return nil
	}
	return t.Services[i]
}

// Index returns the position of the named service in Services, or -1.
func (t *Topology) Index(name string) int {
	if i, ok := t.index[name]; ok {
		return i
	}
	return -1
}

// TotalRate is the sum of the workload's rates, in requests per second.
func (t *Topology) TotalRate() float64 {
	var sum float64
	for _, w := range t.Workload {
		sum += w.Rate
	}
	return sum
}

// WithRate returns a copy of t whose workload has the given total rate and
// the same mix: each entry keeps its share of the total. Services are shared
// with t, not copied; treat them as read-only.
func (t *Topology) WithRate(total float64) (*Topology, error) {
	if msg := checkRate(total); msg != "" {
		return nil, errors.New(msg)
	}
	scale := total / t.TotalRate()
	c := *t
	c.Workload = make([]Workload, len(t.Workload))
	for i, w := range t.Workload {
		w.Rate *= scale
		c.Workload[i] = w
	}
	return &c, nil
}

// Order returns the indexes of the services in a topological order of the
// call graph: every caller before all of its callees. Parse guarantees the
// graph is acyclic.
func (t *Topology) Order() []int {
	order := make([]int, 0, len(t.Services))
	state := make([]uint8, len(t.Services)) // 0 new, 1 done
	var visit func(i int)
	visit = func(i int) {
		if state[i] != 0 {
			return
		}
		state[i] = 1
		t.Services[i].EachCall(func(c *Call) { visit(t.index[c.To]) })
		order = append(order, i) // post-order: callees first
	}
	for i := range t.Services {
		visit(i)
	}
	// Reverse the post-order to put callers first.
	for l, r := 0, len(order)-1; l < r; l, r = l+1, r-1 {
		order[l], order[r] = order[r], order[l]
	}
	return order
}

// New builds a topology from values and validates it with the same rules as
// Parse. It is for programs that generate topologies; the file name in its
// errors is name. Zero Servers, Replicas, Balancer, Distribution.Kind and
// Call.Count take their defaults (1, 1, random, exponential, 1), set in the
// services given; a call's Probability is taken as written, so set it to 1
// for a call always made.
func New(name string, workload []Workload, services []*Service) (*Topology, error) {
	t := &Topology{Name: name, Workload: workload, Services: services}
	for _, s := range services {
		if s.Servers == 0 {
			s.Servers = 1
		}
		if s.Replicas == 0 {
			s.Replicas = 1
		}
		if s.Balancer == "" {
			s.Balancer = BalancerRandom
		}
		if s.Distribution.Kind == "" {
			s.Distribution.Kind = Exponential
		}
		for i := range s.Calls {
			c := &s.Calls[i]
			if c.Count == 0 {
				c.Count = 1
			}
			if c.Group != nil {
				for j := range c.Group.Calls {
					if c.Group.Calls[j].Count == 0 {
						c.Group.Calls[j].Count = 1
					}
				}
			}
		}
	}
	src := &source{} // no file, so no places: validate reports at the Line fields
	if errs, more := t.validate(name, src); len(errs) > 0 {
		return nil, finish(name, errs, more)
	}
	if e := t.checkVisits(name, src); e != nil {
		return nil, ErrorList{e}
	}
	return t, nil
}
