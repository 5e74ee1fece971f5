package emulate

import (
	"math"
	"slices"

	"github.com/kendallqn/kendall/internal/moments"
)

// ServiceStats is the live state of one emulated service, or of one of its
// replicas, and what it has realized so far. Times are in seconds.
//
// That of a service of several replicas (Emulation.Stats) is over all of
// them: its counts and gauges are the sums of the replicas', its realized,
// drawn and held-in-calls figures are of all their requests together, and
// its URL, MetricsURL and Timer are replica 0's; Servers is still each
// replica's, as in the file. Each replica's own is in Replicas.
type ServiceStats struct {
	Name         string  `json:"name"`
	URL          string  `json:"url"`
	MetricsURL   string  `json:"metrics_url"`
	Servers      int     `json:"servers"`
	ServiceTime  float64 `json:"service_time"` // the file's mean
	Distribution string  `json:"distribution"`
	TargetCV     float64 `json:"target_cv"`     // the coefficient of variation of the distribution
	Requests     int64   `json:"requests"`      // received
	Served       int64   `json:"served"`        // service times completed
	Hold         bool    `json:"hold"`          // workers are held across their requests' calls
	Busy         int     `json:"busy"`          // workers holding a request now: InService + HeldInCalls
	InService    int     `json:"in_service"`    // workers doing their request's own work now
	HeldInCalls  int     `json:"held_in_calls"` // workers held while their request's calls are under way now (hold: true)
	QueueLength  int     `json:"queue_length"`
	InFlight     int64   `json:"in_flight"` // requests in the service: queued, in service, or in its calls
	// RealizedMean and RealizedCV are of the service times as realized:
	// how long each request held its worker, from the moment the worker
	// was handed to it to the moment it was released. nil before any.
	RealizedMean *float64 `json:"realized_mean"`
	RealizedCV   *float64 `json:"realized_cv"`
	// DrawnMean and DrawnCV are of the service times as drawn from the
	// distribution: what a perfect emulator would have realized. The
	// difference between drawn and file is sampling; between realized
	// and drawn, emulation. Both are of the requests served: one cut
	// short by Close is in neither, nor in Served.
	DrawnMean *float64 `json:"drawn_mean"`
	DrawnCV   *float64 `json:"drawn_cv"`
	// HeldInCallsMean is how long, on average, a worker stayed held
	// across its request's calls after its service time (hold: true), of
	// the requests whose calls returned. It is not in the service times.
	// nil before any.
	HeldInCallsMean *float64      `json:"held_in_calls_mean"`
	CallErrors      int64         `json:"call_errors"` // calls to callees that failed, groups' included
	Parallel        ParallelStats `json:"parallel"`
	Timer           string        `json:"timer"` // how service times are waited: timerfd, or go
	// Stopped: the replica was stopped by Emulation.StopReplica (or POST
	// /admin/stop); for a service of several, whether every one was.
	Stopped bool `json:"stopped,omitempty"`
	// Callees are, for each service this replica calls, the replicas its
	// balancer routes the calls to now, with how many it sent each; nil
	// in the sum over several replicas.
	Callees []CalleeStats `json:"callees,omitempty"`
	// Replicas is the state of each replica, replica 0 first, for a
	// service of several; nil for one of one replica, and in a replica's.
	Replicas []ServiceStats `json:"replicas,omitempty"`
}

// CalleeStats is what one replica's balancer for a callee knows.
type CalleeStats struct {
	Service  string          `json:"service"`
	Replicas []EndpointStats `json:"replicas"`
}

// EndpointStats is one replica of a callee, as a caller's balancer sees
// it.
type EndpointStats struct {
	URL string `json:"url"`
	// Calls counts the calls sent there since the replica was added to
	// the balancer (a replica withdrawn and registered again starts
	// afresh).
	Calls    int64 `json:"calls"`
	InFlight int   `json:"in_flight"`
}

// ParallelStats counts the calls a service made in groups of parallel
// calls. Each call made (one with a count of k counts once, as one answer)
// is, in the end, either waited for or finished in the background:
// Calls = Waited + BackgroundCompleted + BackgroundFailed +
// BackgroundInFlight.
type ParallelStats struct {
	Calls  int64 `json:"calls"`  // calls of groups made
	Waited int64 `json:"waited"` // their answers the requests received before going on
	// The calls the requests did not wait for, because their groups had
	// the answers they wait for (or could no longer get them) first: they
	// run on to the end, loading their callees.
	BackgroundCompleted int64 `json:"background_completed"` // succeeded
	BackgroundFailed    int64 `json:"background_failed"`    // failed, or were cut short by Close
	BackgroundInFlight  int64 `json:"background_in_flight"` // still under way
	// GroupsFailed counts the groups that could not get the successful
	// answers they wait for: each failed its request with 502.
	GroupsFailed int64 `json:"groups_failed"`
}

// serviceStats is the state of a service of the given replicas: the one
// replica's, or the sum over several, with each one's in Replicas.
func serviceStats(reps []*service) ServiceStats {
	if len(reps) == 1 {
		return reps[0].stats()
	}
	st := reps[0].stats()
	st.Replicas = []ServiceStats{st}
	st.Callees = nil
	realized, drawn, heldInCalls := reps[0].moments()
	for _, s := range reps[1:] {
		r := s.stats()
		st.Replicas = append(st.Replicas, r)
		st.Requests += r.Requests
		st.Busy += r.Busy
		st.InService += r.InService
		st.HeldInCalls += r.HeldInCalls
		st.QueueLength += r.QueueLength
		st.InFlight += r.InFlight
		st.CallErrors += r.CallErrors
		st.Stopped = st.Stopped && r.Stopped
		p, q := &st.Parallel, r.Parallel
		p.Calls += q.Calls
		p.Waited += q.Waited
		p.BackgroundCompleted += q.BackgroundCompleted
		p.BackgroundFailed += q.BackgroundFailed
		p.BackgroundInFlight += q.BackgroundInFlight
		p.GroupsFailed += q.GroupsFailed
		// The figures of each replica's stats() were taken a moment
		// before these, and may lag them by a request: Served, the means
		// and the CVs of the sum are all of these moments, so that they
		// agree with one another.
		rr, rd, rh := s.moments()
		realized.Merge(rr)
		drawn.Merge(rd)
		heldInCalls.Merge(rh)
	}
	st.Served = realized.N()
	st.RealizedMean, st.RealizedCV = meanCV(realized)
	st.DrawnMean, st.DrawnCV = meanCV(drawn)
	st.HeldInCallsMean, _ = meanCV(heldInCalls)
	return st
}

// moments returns a copy of the replica's moments of its service times,
// realized and drawn, and of its workers' time held in calls.
func (s *service) moments() (realized, drawn, heldInCalls moments.Moments) {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.realized, s.drawn, s.heldInCalls
}

func (s *service) stats() ServiceStats {
	pool := s.pool.state()
	st := ServiceStats{
		Name:         s.spec.Name,
		URL:          s.url,
		MetricsURL:   s.url + "metrics",
		Servers:      s.spec.Servers,
		ServiceTime:  s.spec.MeanSeconds(),
		Distribution: s.spec.Distribution.String(),
		Requests:     s.requests.Load(),
		Hold:         s.spec.Hold,
		Busy:         pool.busy,
		InService:    pool.busy - pool.inCalls,
		HeldInCalls:  pool.inCalls,
		QueueLength:  pool.queued,
		InFlight:     s.inFlight.Load(),
		CallErrors:   s.callErrs.Load(),
		Timer:        s.timer,
		Parallel: ParallelStats{
			Calls:               s.parallel.calls.Load(),
			Waited:              s.parallel.waited.Load(),
			BackgroundCompleted: s.parallel.backgroundCompleted.Load(),
			BackgroundFailed:    s.parallel.backgroundFailed.Load(),
			BackgroundInFlight:  s.parallel.backgroundInFlight.Load(),
			GroupsFailed:        s.parallel.groupsFailed.Load(),
		},
	}
	st.TargetCV = math.Sqrt(s.spec.Distribution.SCV())
	st.Stopped = s.stopped.Load()
	st.Callees = s.callees()
	realized, drawn, heldInCalls := s.moments()
	st.Served = realized.N()
	st.RealizedMean, st.RealizedCV = meanCV(realized)
	st.DrawnMean, st.DrawnCV = meanCV(drawn)
	st.HeldInCallsMean, _ = meanCV(heldInCalls)
	return st
}

func meanCV(m moments.Moments) (mean, cv *float64) {
	if m.N() > 0 {
		v := m.Mean()
		mean = &v
	}
	if m.N() > 1 {
		v := m.CV()
		cv = &v
	}
	return mean, cv
}

// callees is what the replica's balancers know, by callee name.
func (s *service) callees() []CalleeStats {
	if len(s.balancers) == 0 {
		return nil
	}
	names := make([]string, 0, len(s.balancers))
	for name := range s.balancers {
		names = append(names, name)
	}
	slices.Sort(names)
	out := make([]CalleeStats, len(names))
	for i, name := range names {
		eps := s.balancers[name].Endpoints()
		c := CalleeStats{Service: name, Replicas: make([]EndpointStats, len(eps))}
		for j, ep := range eps {
			c.Replicas[j] = EndpointStats{URL: ep.Addr, Calls: ep.Picks, InFlight: ep.InFlight}
		}
		out[i] = c
	}
	return out
}
