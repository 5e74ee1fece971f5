package sim

import (
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/result"
)

// Result is a simulation's answer in kendall's JSON shape (package result):
// the object predict --json prints, with the simulated figures in place of
// the model's, each with its 95% confidence half-width under "ci95", and a
// "run" that says how the figures were obtained.
//
// The embedded Summary carries the topology-wide fields (topology, stable,
// rate, max_rate, bottleneck, headroom), which depend on the file alone and
// are computed, not simulated.
type Result struct {
	result.Summary
	Services []ServiceResult `json:"services"` // in file order
	Entries  []EntryResult   `json:"entries"`  // in workload order
	// Partial is set when the run was interrupted: the figures are from the
	// replications gathered so far.
	Partial bool    `json:"partial"`
	Run     RunInfo `json:"run"`
}

// ServiceResult is one service as simulated: the per-visit figures (wait
// and own service, not the calls it makes) and the time averages, with the
// model's names. Utilization is measured: busy-worker time over workers ×
// time. Figures that no visit measured are nil.
//
// Its CI95 is nil with fewer than two replications.
type ServiceResult struct {
	result.Service

	// With Options.Force on an unstable topology: the requests in the
	// service at the end of a replication, and how fast that backlog grew
	// (requests per second), averaged over the replications.
	Backlog       *float64 `json:"backlog,omitempty"`
	BacklogGrowth *float64 `json:"backlog_growth,omitempty"`

	Counts Counts `json:"-"` // summed over the replications

	est    [nServiceFigs]moments.Moments
	hist   *hdrhistogram.Histogram
	pooled [nLevels]float64 // the percentiles, from hist
}

// EntryResult is the simulated end-to-end latency of the requests arriving
// at one workload entry.
//
// Its CI95 is nil with fewer than two replications.
type EntryResult struct {
	result.EndToEnd

	Counts Counts `json:"-"` // summed over the replications

	est    [nEntryFigs]moments.Moments
	hist   *hdrhistogram.Histogram
	pooled [nLevels]float64 // the percentiles, from hist
}

// RunInfo says how a Result was obtained.
type RunInfo struct {
	// Requests is the number of measured external requests, over all the
	// replications: those after the warm-up.
	Requests     int64 `json:"requests"`
	Replications int   `json:"replications"`
	// WarmupRequests is the number of external requests deleted from the
	// start of each replication, and WarmupRule how it was chosen: "MSER-5",
	// "fixed" (Options.Warmup) or "none".
	WarmupRequests int64  `json:"warmup_requests"`
	WarmupRule     string `json:"warmup_rule"`
	// WarmupConverged is false when the longest pilot showed no steady
	// state (what MSER-5 keeps of it still drifts; warmup.go): the topology
	// is close to saturation, half of that pilot is deleted, and the
	// figures may still carry start-up bias.
	WarmupConverged bool   `json:"warmup_converged"`
	Seed            uint64 `json:"seed"`
	Workers         int    `json:"workers"`
	// Seconds is the wall-clock time of the run; SimulatedRequests the
	// external requests simulated in it: the measured ones, and those of the
	// warm-up pilot, the warm-ups, the drains and any replication started
	// and then dropped once a precision target was met; RequestsPerSecond
	// the one over the other. These three depend on the machine and the
	// workers; every other figure depends on the seed alone.
	Seconds           float64 `json:"seconds"`
	RequestsPerSecond float64 `json:"requests_per_second"`
	SimulatedRequests int64   `json:"simulated_requests"`
	// Precision is the target of Options.Precision (0 when none);
	// PrecisionReached whether every entry's mean met it, and
	// MaxRequestsReached whether the run stopped at Options.MaxRequests
	// instead.
	Precision          float64 `json:"precision,omitempty"`
	PrecisionReached   bool    `json:"precision_reached"`
	MaxRequestsReached bool    `json:"max_requests_reached"`
	// Forced is set when an unstable topology was simulated with
	// Options.Force: there is no steady state, so the figures describe the
	// run, not the topology, and grow with its length.
	Forced bool `json:"forced"`
	// Clamped counts latencies longer than the histograms' range, recorded
	// as that limit. The histograms grow to the longest latency recorded, up
	// to 2^63 − 1 ns (about 292 years), so a run that ends has none.
	Clamped int64 `json:"clamped,omitempty"`
}

// Interval returns the half-widths of the confidence interval at level (0.95
// for 95%) of the service's figures; nil with fewer than two replications.
// Means and time averages have Student t intervals from the replications'
// estimates, percentiles sectioning intervals around the pooled
// percentile (the package comment, Confidence intervals, says how, and
// what they are worth).
func (s *ServiceResult) Interval(level float64) *result.ServiceCI {
	hw := func(i int) float64 { return s.est[i].HalfWidth(level) }
	if s.est[figUtilization].N() < 2 || math.IsNaN(hw(figMeanResponse)) {
		return nil
	}
	ci := &result.ServiceCI{
		ArrivalRate:     hw(figArrivalRate),
		Utilization:     hw(figUtilization),
		WaitProbability: hw(figWaitProbability),
		MeanWait:        hw(figMeanWait),
		MeanResponse:    hw(figMeanResponse),
		MeanQueueLength: hw(figMeanQueueLength),
		MeanInSystem:    hw(figMeanInSystem),
	}
	for j, l := range result.Levels {
		ci.Percentiles.Set(l.Name, sectionHalfWidth(&s.est[figServiceP50+j], s.pooled[j], level))
	}
	if anyNaN(ci.ArrivalRate, ci.Utilization, ci.WaitProbability, ci.MeanWait, ci.MeanQueueLength, ci.MeanInSystem,
		ci.P50, ci.P90, ci.P95, ci.P99, ci.P999) {
		return nil // some figure had fewer than two estimates: no interval
	}
	return ci
}

// sectionHalfWidth is the half-width of the sectioning interval at level
// of a percentile whose pooled estimate is centre and whose replications'
// estimates are m: t_{n−1,(1+level)/2}·s/√n with s² = Σ(X_i − centre)²/(n −
// 1), the replications' spread about the pooled estimate rather than about
// their own mean, so that their small-sample bias widens the interval
// instead of going unseen (Asmussen & Glynn 2007, §III.5a; Nakayama 2014).
// NaN below two estimates.
func sectionHalfWidth(m *moments.Moments, centre, level float64) float64 {
	n := m.N()
	if n < 2 {
		return math.NaN()
	}
	d := m.Mean() - centre
	s2 := m.Variance() + float64(n)/float64(n-1)*d*d // Σ(X_i − X̄)² + n(X̄ − centre)², over n − 1
	return moments.StudentT(n-1, (1+level)/2) * math.Sqrt(s2/float64(n))
}

func anyNaN(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) {
			return true
		}
	}
	return false
}

// Interval returns the half-widths of the confidence interval at level of
// the entry's figures; nil with fewer than two replications.
func (e *EntryResult) Interval(level float64) *result.EntryCI {
	if e.est[figMean].N() < 2 {
		return nil
	}
	ci := &result.EntryCI{Mean: e.est[figMean].HalfWidth(level)}
	for j, l := range result.Levels {
		ci.Percentiles.Set(l.Name, sectionHalfWidth(&e.est[figEntryP50+j], e.pooled[j], level))
	}
	if anyNaN(ci.Mean, ci.P50, ci.P90, ci.P95, ci.P99, ci.P999) {
		return nil
	}
	return ci
}

// Histogram is the end-to-end latency, in integer nanoseconds, of every
// measured request at the entry, merged over the replications, to three
// significant digits. It is shared; do not record into it.
func (e *EntryResult) Histogram() *hdrhistogram.Histogram { return e.hist }

// Survival returns the empirical complementary CDF of the end-to-end
// latency at the given times (seconds): for each, the fraction of measured
// requests that took longer. NaN when no request was measured.
func (e *EntryResult) Survival(times ...float64) []float64 { return latency.Survival(e.hist, times) }

// Histogram is the per-visit response time (wait and own service), in
// integer nanoseconds, of every measured visit, merged over the
// replications, to two significant digits (serviceDigits says why). It is
// shared; do not record into it.
func (s *ServiceResult) Histogram() *hdrhistogram.Histogram { return s.hist }

// Survival returns the empirical complementary CDF of the per-visit
// response time at the given times (seconds).
func (s *ServiceResult) Survival(times ...float64) []float64 { return latency.Survival(s.hist, times) }
