// Package sim is kendall's discrete-event simulator: the ground truth the
// queueing model (package model) is judged by. It runs a topology's
// requests one by one through its services, exactly as topology's package
// comment states the semantics, and measures what the model predicts:
// per-service utilization, waits and response times, and end-to-end latency
// per workload entry, each with a confidence interval.
//
// # What is simulated
//
// External requests arrive at each workload entry as a Poisson process. A
// request at a service waits in the service's one FIFO queue for one of its
// workers, holds it for a service time drawn from the service's
// distribution, releases it, then makes its calls in order; each of a
// call's Count repetitions is made with the call's Probability, and is a
// new request at the callee, which must finish, with all of its own calls,
// before the caller goes on. Calls take no time of their own. The
// per-service figures are per visit (wait and own service, not the calls
// the visit makes), the model's convention; end-to-end latency is the
// whole call tree of an external request.
//
// # Kernel
//
// Each replication is a sequential event-list simulation on one goroutine
// (kernel.go). There are two kinds of event, an external arrival and the end
// of a service; calls are handled inside the event that makes them, since
// a call arrives at its callee at the instant it is made. The event list is
// a 4-ary heap (eventlist.go says why, with measurements). Requests in
// flight are records in one slice, indexed by int32 and recycled through a
// free list; queues are rings of indexes; distributions are a switch on a
// small integer. The hot loop has no interface, closure or allocation: after
// a replication's storage has grown to its peak, a request costs no
// allocation at all. Latencies are recorded as integer nanoseconds in HDR
// histograms, whose memory depends on the range of the values, not on how
// many there are (see Memory), and the time averages (utilization, queue
// lengths) as areas under the state.
//
// Independent replications run in parallel, one per worker goroutine
// (GOMAXPROCS by default). Replication i draws from its own PCG stream,
// derived from (seed, i), so its figures depend on the seed and its index
// alone, and the result is the same whatever the number of workers: Run
// keeps the replications in index order, and with a precision target stops
// at the first prefix of them that meets it.
//
// # Memory
//
// The histograms are most of a run's memory: one per service and one per
// entry, in each worker and once more for the run. Two choices keep it
// small, measured by BenchmarkMemory (bench_test.go says how):
//
//   - Histograms are sized by what they measure (latency.Growing): nothing
//     until a service is visited, then buckets up to a few times the
//     largest latency seen, so there is no upper limit and nothing is
//     clamped below 2^63 ns. A service's per-visit histogram keeps two significant
//     digits, an entry's end-to-end one three (serviceDigits says why).
//   - Memory does not grow with the replications. A worker records every
//     replication it runs into the same histograms, emptied in between;
//     the run keeps one merged histogram per service and entry, into which
//     each replication's are merged as soon as it is sure to be kept
//     (replicate says when). From each replication the run keeps only its
//     estimates of the figures, for the intervals.
//
// On a generated topology of 2,000 services (BenchmarkMemory, 2 workers),
// 10 replications of 1,000 requests peaked at 4,365 MB of heap before these
// choices and at 153 MB after; 40 replications at 5,476 MB before and
// 157 MB after. What 40 add to 2 (10 MB) is the histograms' range
// widening as twenty times the requests reach further into the tail.
//
// # Warm-up
//
// Every replication starts empty and idle, which biases its first requests
// low. The start-up transient is deleted by MSER-5 (White 1997, see
// warmup.go) applied to a pilot run: to its end-to-end latencies and to the
// number of requests in the system that its arrivals meet. The larger cut
// is deleted from the start of every replication (the replication/deletion
// approach, Law 2015, §9.5.2), and the result says how much (RunInfo).
// MSER's cut is sought in the first half of the pilot; the pilot shows a
// steady state when what the cut keeps has no drift that a test of serial
// correlation sees, and is doubled, up to four times, while it does not.
// Measurement covers the requests that arrive after the warm-up, until the
// replication's share of requests has arrived; arrivals then go on,
// unmeasured, until every measured request has finished, so that the last
// ones meet the same traffic as the others.
//
// # Confidence intervals
//
// Every figure is estimated from the measured requests of all the
// replications kept, with a confidence interval from how the independent
// replications differ (Law 2015, §9.4.1). The replications are independent
// because each has its own random stream and starts empty.
//
// Means and time averages (mean response, utilization, queue lengths): each
// replication gives one estimate X_i, an average of many requests and so
// close to normal, and the figure is their mean X̄ with the Student t
// interval X̄ ± t_{n−1,(1+level)/2}·s/√n, where s is the sample standard
// deviation of the X_i (internal/moments computes it).
//
// Percentiles: the figure is the percentile of the pooled distribution, the
// histogram into which every kept replication's is merged, read by linear
// interpolation within its bucket (latency.InterpolatedQuantile; the
// bucket's middle would move a service's pooled p50 by up to 0.25%, see
// serviceDigits). The mean of the replications' own percentiles, which it
// replaces, is biased: a sample quantile is off by an amount that shrinks
// with the size of the sample, not with the number of samples averaged, and
// at 90% load a replication's p99.9 of 100,000 requests was 7% low. The
// interval is by sectioning (S. Asmussen & P. W. Glynn,
// Stochastic Simulation: Algorithms and Analysis, 2007, §III.5a; M. K.
// Nakayama, "Confidence intervals for quantiles using sectioning when
// applying variance-reduction techniques", ACM TOMACS 24(4), 2014): centred
// on the pooled percentile ξ̂, of half-width t_{n−1,(1+level)/2}·s/√n with
// s² = Σ(X_i − ξ̂)²/(n − 1), the X_i being the replications' own percentiles.
//
// What the intervals are worth is measured, not assumed: TestIntervalCoverage
// (coverage_test.go) simulates many seeds of M/M/c queues, whose figures are
// known exactly, and counts how often the 95% interval covers them. At the
// default million requests, over 200 seeds of M/M/1, M/M/2 and M/M/8 at 70%
// and 90% load, means, p50 and p99 are covered 91% to 97% of the time, and
// p99.9 at 70% load 92% to 97%. p99.9 at 90% load is covered only 75% to
// 88% of the time: a replication's 100,000 requests meet the tail beyond
// p99.9 in a few long busy periods, and its p99.9 then varies less from
// one replication to the next than the p99.9 of a million requests varies
// from one run to the next, so the interval is 1.3 to 1.7 times too short.
// It is not the estimate that is wrong (within 1.2% of the exact value on
// average, but uncertain by 5% to 11% in a run) nor the method: with ten
// million requests, in replications of a million, every figure is covered
// 92% to 99% of the time, p99.9 at 90% load 94% to 96%. Other intervals
// did no better on a million: one for the share of requests beyond the
// pooled p99.9, turned into one for p99.9 (R. R. Bahadur, "A note on
// quantiles in large samples", Ann. Math. Stat. 37(3), 1966), which avoids
// the replications' percentiles, covered 84% to 92%, and in half
// the runs had no upper end, since that share rests on a few busy periods
// and its t interval reaches below zero. A percentile far in the tail of a
// heavily loaded topology needs that many requests, so ten million are the
// default (a few seconds for a topology of a few services on two cores).
//
// # Unstable topologies
//
// A topology with a service at or past saturation has no steady state. Run
// refuses it (ErrUnstable) unless Options.Force is set; it then simulates a
// fixed number of requests without warm-up or drain and reports how fast
// each service's backlog grew.
package sim
