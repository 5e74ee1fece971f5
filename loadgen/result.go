package loadgen

import (
	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/result"
)

// Result is what an attack measured, in kendall's JSON shape: the entries
// of predict --json, measured, and how the run itself went. Times are in
// seconds, rates in requests per second.
type Result struct {
	Entries []EntryResult `json:"entries"` // in the order of the targets
	Run     RunStats      `json:"run"`
}

// AllFailed reports whether every request sent during the window failed:
// some were sent (Run.Requests > 0) and none succeeded (Run.Successes ==
// 0). A command that attacks exits non-zero on it. Per entry, the same is
// e.Requests > 0 && e.Successes == 0.
//
// A window in which no request was sent at all (Run.Requests == 0) is not
// reported as all failed: it measured nothing, because the rate was too
// low for the window, the run was interrupted before it, or every request
// due was not sent (Run.NotSent, Trustworthy false); a command should fail
// on that too.
func (r *Result) AllFailed() bool { return r.Run.Requests > 0 && r.Run.Successes == 0 }

// EntryResult is the measured latency of the requests sent to one target
// during the measurement window (after the warm-up). It embeds the model's
// EntryResult, so a measured entry has the same fields as a predicted one:
// Rate is the arrival rate achieved, and Mean and Percentiles are of the
// successful requests (nil when none succeeded). The latency of a request is
// from the moment it was sent to the end of its response.
type EntryResult struct {
	result.EndToEnd
	URL           string  `json:"url"`
	RateRequested float64 `json:"rate_requested"`
	Requests      int64   `json:"requests"`      // sent during the window
	Successes     int64   `json:"successes"`     // of them, status 2xx or 3xx, and no error
	SuccessRatio  float64 `json:"success_ratio"` // Successes / Requests; 0 when none was sent
	Throughput    float64 `json:"throughput"`    // successful requests per second
	// NotSent counts the requests due during the window that were not
	// sent: the generator was more than Options.SkipAfter behind them, or
	// Options.MaxInFlight requests were in flight when they came due.
	// Requests + NotSent are the requests due (up to the few sent at the
	// window's edges). Any makes the run not trustworthy.
	NotSent int64 `json:"not_sent"`
	// StatusCodes counts the responses by status; "0" counts requests
	// that got none (connection errors, timeouts), as vegeta reports.
	StatusCodes map[string]int64 `json:"status_codes"`
	// Errors counts the requests of the window that failed, by class
	// (errclass.go), largest first, with one message of each: a few
	// classes, whatever the number of failures and however their messages
	// differ.
	Errors []ErrorClass `json:"errors"`
	// InterarrivalCV is the coefficient of variation of the gaps between
	// the requests actually sent: about 1 for Poisson arrivals, 0 for
	// constant ones; nil with fewer than three requests.
	InterarrivalCV *float64 `json:"interarrival_cv"`
	MaxLag         float64  `json:"max_lag"` // how far a send fell behind its schedule, at worst
	// MeanCI95 is the 95% confidence half-width of Mean, by batch means
	// over the seconds of the window; nil with fewer than two seconds.
	MeanCI95 *float64 `json:"mean_ci95"`
	// Series is the run second by second, warm-up included.
	Series []Point `json:"series"`
	// Replicas is, for a target of several replicas (Target.Replicas),
	// how many requests went to each, in the order of the target's; nil
	// for a target of one URL.
	Replicas []ReplicaResult `json:"replicas,omitempty"`

	hist *hdrhistogram.Histogram
}

// Histogram is the HDR histogram of the latencies of the successful
// requests, in nanoseconds. It must not be modified.
func (e *EntryResult) Histogram() *hdrhistogram.Histogram { return e.hist }

// Survival returns the empirical complementary CDF of the latency of the
// successful requests at the given times, in seconds: the fraction of them
// that took longer than each time. It is NaN when none succeeded.
func (e *EntryResult) Survival(times []float64) []float64 { return latency.Survival(e.hist, times) }

// Quantile returns the p-quantile (0 < p < 1) of the latency of the
// successful requests, in seconds; NaN when none succeeded.
func (e *EntryResult) Quantile(p float64) float64 { return latency.Quantile(e.hist, p) }

// ReplicaResult is what an attack sent to one replica of a target.
type ReplicaResult struct {
	URL string `json:"url"`
	// Sent counts the requests the target's balancer sent to the replica
	// over the whole attack, warm-up and drain included: the window's
	// requests (EntryResult.Requests) are not split by replica.
	Sent int64 `json:"sent"`
	// Failed counts those of them that failed: no answer, or a status
	// other than 2xx or 3xx. A request whose replica left while it was in
	// flight is counted here, and in the entry's figures, all the same.
	Failed int64 `json:"failed"`
	// Joined and Left are when the replica appeared in, and left, the
	// target's replicas (Target.Discover), in seconds from the attack's
	// start; 0 for one there from the start, and one there to the end.
	Joined float64 `json:"joined,omitempty"`
	Left   float64 `json:"left,omitempty"`
}

// Point is one second of a run.
type Point struct {
	Second   int      `json:"second"`           // from the start of the attack, warm-up included
	Warmup   bool     `json:"warmup,omitempty"` // the second is in the warm-up
	Offered  float64  `json:"offered"`          // requests sent during the second
	Achieved float64  `json:"achieved"`         // successful responses completed during the second
	P50      *float64 `json:"p50"`              // latency of the successful requests sent during the second
	P99      *float64 `json:"p99"`
	Mean     *float64 `json:"mean"` // their mean latency
	// Successes is the number of successful requests sent during the
	// second: the weight of its Mean, for batch means over the run.
	Successes int64 `json:"successes"`
}

// RunStats says how the run went, and whether its figures can be trusted.
type RunStats struct {
	Duration      float64 `json:"duration"` // length of the measurement window
	Warmup        float64 `json:"warmup"`
	Elapsed       float64 `json:"elapsed"` // how long the attack ran, warm-up and drain included
	Arrivals      string  `json:"arrivals"`
	Seed          uint64  `json:"seed"`
	RateRequested float64 `json:"rate_requested"` // total over the targets
	RateAchieved  float64 `json:"rate_achieved"`  // requests sent per second during the window
	// InterarrivalCV is the coefficient of variation of the gaps between
	// the requests sent to each target, averaged over the targets weighted
	// by their requests (the superposition of independent Poisson streams
	// is Poisson, so 1 is still the mark).
	InterarrivalCV *float64 `json:"interarrival_cv"`
	MaxLag         float64  `json:"max_lag"`         // worst lag of a send behind its schedule
	LagP99         float64  `json:"lag_p99"`         // 99th percentile of that lag
	MaxLagAllowed  float64  `json:"max_lag_allowed"` // the bound for a trustworthy run
	LateFraction   float64  `json:"late_fraction"`   // of the sends, those later than the bound
	LateSends      int64    `json:"late_sends"`      // how many sends that is
	// Trustworthy is true when the generator kept its schedule: every
	// request due was sent, 99% of them within MaxLagAllowed, and no more
	// than MaxLateFraction of them (or MaxIsolatedLate sends) later. The
	// latency of a request is measured from its actual send, so that of a
	// late one is understated by its lag; many late sends, or requests not
	// sent, mean the generator, not the target, set the pace.
	Trustworthy bool  `json:"trustworthy"`
	Interrupted bool  `json:"interrupted"` // cancelled before the end; the figures cover what ran
	Aborted     int64 `json:"aborted"`     // requests in flight when interrupted, not counted
	// Requests, Successes and NotSent are the sums of the entries'.
	Requests  int64 `json:"requests"`
	Successes int64 `json:"successes"`
	NotSent   int64 `json:"not_sent"`
	// NotSentWarmup counts the requests due during the warm-up that were
	// not sent.
	NotSentWarmup int64 `json:"not_sent_warmup"`
	// NotSentBehind and NotSentAtCap split NotSent + NotSentWarmup by
	// why: the generator was more than SkipAfter behind its schedule (it
	// could not keep up), or MaxInFlight requests were in flight (the
	// target answered too slowly for the rate, or the generator could not
	// take the answers).
	NotSentBehind int64    `json:"not_sent_behind"`
	NotSentAtCap  int64    `json:"not_sent_at_cap"`
	SkipAfter     float64  `json:"skip_after"`     // Options.SkipAfter, as applied
	MaxInFlight   int      `json:"max_in_flight"`  // the cap, Options.MaxInFlight as applied
	PeakInFlight  int64    `json:"peak_in_flight"` // the most requests in flight at once
	Warnings      []string `json:"warnings"`       // what strayed from what was asked, in words
}
