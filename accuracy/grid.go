// Package accuracy measures the queueing model against the simulator: it
// runs both over a grid of service-time distributions, workers, loads and
// network shapes, and reports every figure side by side with its relative
// error and whether the model's label says exact. Its summary, per class
// of approximation (model.AccuracyClasses), is what the model's labels
// quote as their expected error: the tool writes it to the model package
// as Go source (model/accuracy_gen.go) and the whole table as Markdown
// (docs/accuracy.md).
//
// The simulator is the judge: kendall's discrete-event simulator executes
// the topology's semantics request by request (package sim), and each case
// is simulated with a fixed seed in independent replications, so that every
// simulated figure comes with a 95% confidence interval and the table is
// the same on every run.
package accuracy

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// Case is one point of the grid: a network shape whose focal services
// have the given service-time distribution and workers, at the given
// utilization of the focal services.
type Case struct {
	Shape        Shape                 `json:"shape"`
	Distribution topology.Distribution `json:"distribution"`
	Servers      int                   `json:"servers"`
	Load         float64               `json:"load"`
}

// Shape is a network shape of the grid.
type Shape string

// The shapes. Focal services have the case's distribution and workers and a
// mean service time of 10ms; the others (an entry that only fans out, the
// callers of a shared service) are exponential, light and fast, so that
// the figures measure what the shape is about.
const (
	// Single: one service, no calls. Measures the station alone.
	Single Shape = "single"
	// Chain: a → b → c, three focal services in tandem.
	Chain Shape = "chain"
	// FanOut: an entry calls three focal services one after another.
	FanOut Shape = "fan-out"
	// Repeated: an entry calls one focal service six times in a row (the
	// issue's api → db count 6).
	Repeated Shape = "repeated"
	// Shared: an entry calls a, then b; each calls the focal db.
	Shared Shape = "shared"
	// Upstream: a focal front calls an exponential back with the same
	// workers and load: a non-exponential upstream feeding a station that
	// would be exact with Poisson arrivals.
	Upstream Shape = "upstream"
	// Parallel: an entry calls three focal services at once and waits for
	// all of them (a fan-out with goroutines).
	Parallel Shape = "parallel"
	// Quorum: an entry calls three focal services at once and goes on when
	// two have answered (a Raft-style majority write).
	Quorum Shape = "quorum"
	// Hold: a focal front holds its worker across a call to an exponential
	// back of the same mean, light (at most 25% busy) and with at least as
	// many workers, so that it never queues: a thread pool whose holding
	// time is its own work plus the call's, twice the focal time.
	Hold Shape = "hold"
	// Mixed: an entry calls db twice in a row, then a cache, then db again
	// with probability 0.5 (2.5 visits on average): a run the model
	// follows and a visit it treats as independent of it, as in
	// examples/shop.yaml.
	Mixed Shape = "mixed"
	// ReplicasRandom, ReplicasRoundRobin, ReplicasLeastRequests and
	// ReplicasPowerOfTwo: one focal service of four replicas, each of the
	// case's workers, behind that balancer, its one caller the load
	// generator (topology.Balancer).
	ReplicasRandom        Shape = "replicas random"
	ReplicasRoundRobin    Shape = "replicas round-robin"
	ReplicasLeastRequests Shape = "replicas least-requests"
	ReplicasPowerOfTwo    Shape = "replicas power-of-two"
	// ReplicasCallers: a light api of three replicas calls the focal
	// service of four replicas behind least-requests: three balancers,
	// each seeing only its own requests in flight.
	ReplicasCallers Shape = "replicas 3 callers"
)

// Shapes lists the shapes in the table's order.
var Shapes = []Shape{Single, Chain, FanOut, Repeated, Shared, Upstream, Mixed, Parallel, Quorum, Hold,
	ReplicasRandom, ReplicasRoundRobin, ReplicasLeastRequests, ReplicasPowerOfTwo, ReplicasCallers}

// gridReplicas is the replicas of the focal service of the replica shapes.
const gridReplicas = 4

// Distributions are the grid's service-time distributions.
var Distributions = []topology.Distribution{
	{Kind: topology.Exponential},
	{Kind: topology.Deterministic},
	{Kind: topology.Erlang, K: 4},
	{Kind: topology.Lognormal, CV: 0.5},
	{Kind: topology.Lognormal, CV: 2},
	{Kind: topology.Lognormal, CV: 4},
}

// Servers and Loads are the grid's workers and utilizations of the focal
// services.
var (
	Servers = []int{1, 2, 8, 64}
	Loads   = []float64{0.3, 0.7, 0.9}
)

// Grid is every combination of shape, distribution, workers and load.
func Grid() []Case {
	var cases []Case
	for _, sh := range Shapes {
		for _, d := range Distributions {
			for _, c := range Servers {
				for _, l := range Loads {
					cases = append(cases, Case{Shape: sh, Distribution: d, Servers: c, Load: l})
				}
			}
		}
	}
	return cases
}

// focalTime is the mean service time of a focal service.
const focalTime = 10 * time.Millisecond

// Name identifies the case in the table and seeds its simulation.
func (c Case) Name() string {
	return fmt.Sprintf("%s %s c=%d ρ=%.1f", c.Shape, distName(c.Distribution), c.Servers, c.Load)
}

// distName is a distribution in the table's words.
func distName(d topology.Distribution) string {
	switch d.Kind {
	case topology.Lognormal:
		return fmt.Sprintf("lognormal cv %g", d.CV)
	case topology.Erlang:
		return fmt.Sprintf("Erlang-%d", d.K)
	case "":
		return string(topology.Exponential)
	}
	return string(d.Kind)
}

// Topology builds the case's topology.
func (c Case) Topology() (*topology.Topology, error) {
	focal := func(name string, calls ...topology.Call) *topology.Service {
		return &topology.Service{Name: name, Servers: c.Servers, ServiceTime: focalTime, Distribution: c.Distribution, Calls: calls}
	}
	call := func(to string, count int) topology.Call { return topology.Call{To: to, Probability: 1, Count: count} }
	// rate is the external rate at which focal services visited v times
	// per request run at the case's load.
	rate := func(v float64) float64 {
		return c.Load * float64(c.Servers) / (v * focalTime.Seconds())
	}
	// light is a fast exponential service with enough workers to stay
	// below 30% utilization at the given rate.
	light := func(name string, r float64, calls ...topology.Call) *topology.Service {
		const t = 200 * time.Microsecond
		servers := max(2, int(math.Ceil(r*t.Seconds()/0.3)))
		return &topology.Service{Name: name, Servers: servers, ServiceTime: t, Calls: calls}
	}
	var services []*topology.Service
	var r float64
	entry := "api"
	switch c.Shape {
	case Single:
		r, entry = rate(1), "s"
		services = []*topology.Service{focal("s")}
	case Chain:
		r, entry = rate(1), "a"
		services = []*topology.Service{focal("a", call("b", 1)), focal("b", call("c", 1)), focal("c")}
	case FanOut:
		r = rate(1)
		services = []*topology.Service{light("api", r, call("x", 1), call("y", 1), call("z", 1)), focal("x"), focal("y"), focal("z")}
	case Repeated:
		r = rate(6)
		services = []*topology.Service{light("api", r, call("db", 6)), focal("db")}
	case Shared:
		r = rate(2)
		services = []*topology.Service{light("api", r, call("a", 1), call("b", 1)), light("a", r, call("db", 1)), light("b", r, call("db", 1)), focal("db")}
	case Mixed:
		r = rate(2.5)
		again := topology.Call{To: "db", Probability: 0.5, Count: 1}
		services = []*topology.Service{light("api", r, call("db", 2), call("cache", 1), again), light("cache", r), focal("db")}
	case Parallel, Quorum:
		r = rate(1)
		wait := topology.WaitAll
		if c.Shape == Quorum {
			wait = 2
		}
		group := topology.Call{Group: &topology.Group{Calls: []topology.Call{call("x", 1), call("y", 1), call("z", 1)}, Wait: wait}}
		services = []*topology.Service{light("api", r, group), focal("x"), focal("y"), focal("z")}
	case Hold:
		// The front's holding time is about twice the focal time: its own
		// work and the call's, which waits little.
		r, entry = rate(2), "front"
		front := focal("front", call("back", 1))
		front.Hold = true
		// As many workers as the front at least: the front's held
		// workers can then never queue at the back (the model knows it,
		// model.boundedByHolders), and the front is at the case's load.
		backServers := max(2, c.Servers, int(math.Ceil(r*focalTime.Seconds()/0.25)))
		back := &topology.Service{Name: "back", Servers: backServers, ServiceTime: focalTime}
		services = []*topology.Service{front, back}
	case ReplicasRandom, ReplicasRoundRobin, ReplicasLeastRequests, ReplicasPowerOfTwo:
		r, entry = gridReplicas*rate(1), "s"
		s := focal("s")
		s.Replicas, s.Balancer = gridReplicas, topology.Balancer(strings.TrimPrefix(string(c.Shape), "replicas "))
		services = []*topology.Service{s}
	case ReplicasCallers:
		r = gridReplicas * rate(1)
		api := light("api", r, call("s", 1))
		api.Replicas = 3
		s := focal("s")
		s.Replicas, s.Balancer = gridReplicas, topology.BalancerLeastRequests
		services = []*topology.Service{api, s}
	case Upstream:
		r, entry = rate(1), "front"
		back := focal("back")
		back.Distribution = topology.Distribution{Kind: topology.Exponential}
		services = []*topology.Service{focal("front", call("back", 1)), back}
	default:
		return nil, fmt.Errorf("unknown shape %q", c.Shape)
	}
	name := strings.NewReplacer(" ", "-", "=", "", "ρ", "rho").Replace(c.Name())
	return topology.New(name, []topology.Workload{{Entry: entry, Rate: r}}, services)
}
