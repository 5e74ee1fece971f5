package sim

import (
	"math"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/result"
)

// The precision of the histograms, in significant decimal digits.
//
// An entry's end-to-end histogram keeps the standard three, the load
// generator's, so that a simulated and a measured p99 read alike; there are
// few entries. A service's per-visit histogram keeps two: buckets 1/128 to
// 1/256 of their value wide instead of 1/1024 to 1/2048, a bucket per
// octave taking 1 KB instead of 8. Measured per service histogram on the
// 2,000-service topology of BenchmarkMemory (10 replications of 1,000
// requests), with HDR's ByteSize:
//
//	                               3 digits   2 digits
//	1 ns to 2^43 ns, up front        287 KB      39 KB  (before: 3 digits)
//	the same, at the first visit     287 KB      39 KB  (every service is visited)
//	growing to the values seen       147 KB      22 KB  (latency.Growing)
//
// Growing with two digits cuts the memory per service 13-fold, so it is
// the choice. It costs no accuracy the figures can see. Read at the middle
// of the bucket that holds it (latency.Quantile), a percentile is off by at
// most half a bucket, 0.4%. When the percentiles were the mean of the
// replications', whose estimates fall in different buckets and average the
// rounding out, the exact tests of validate_test.go (M/M/1, M/M/2, M/M/5,
// M/M/1000, five.yaml, a tandem; millions of requests) moved by 0.06% at
// most from three digits, against 99% half-widths of 0.5% to 5%. A
// percentile read once from the pooled histogram has no such averaging:
// read at the bucket's middle it moved by up to 0.25% (M/M/2 p50), read by
// linear interpolation within the bucket (latency.InterpolatedQuantile), as
// Survival reads the CDF, by 0.03% at most from three digits. So the
// percentiles, pooled and per replication, are read by interpolation.
const (
	serviceDigits = 2
	entryDigits   = latency.Digits
)

// The figures one replication estimates, by index.
const (
	figArrivalRate = iota
	figUtilization
	figWaitProbability
	figMeanWait
	figMeanResponse
	figMeanQueueLength
	figMeanInSystem
	figServiceP50 // then one per result.Levels
)

// nLevels is len(result.Levels), the percentiles estimated per service and
// per entry; TestLevels holds the two together.
const nLevels = result.NumLevels

const (
	figBacklog = figServiceP50 + nLevels + iota
	figBacklogGrowth
	figHeldUtilization
	nServiceFigs
)

const (
	figMean     = iota
	figEntryP50 // then one per result.Levels
	nEntryFigs  = figEntryP50 + nLevels
)

// replication is what one replication hands back: one estimate of each
// figure, its counts, and, lent until they are merged, the histograms of
// its measurement window. Replications are recycled through a pool once
// gathered, so that a run's garbage does not grow with their number.
type replication struct {
	index    int64
	stopped  bool  // cut short: by an interrupt, or because it was not needed
	measured int64 // measured external requests that finished
	window   float64
	overflow int64
	services []serviceRep
	entries  []entryRep

	// hists is the kernel that recorded the replication's histograms,
	// lent by its worker, which waits on hists.lent before it reuses them
	// for its next replication. nil once they are merged into the run's or
	// dropped (giveBack).
	hists *kernel
}

func newReplication(p *plan) *replication {
	return &replication{services: make([]serviceRep, len(p.services)), entries: make([]entryRep, len(p.entries))}
}

type serviceRep struct {
	figs   [nServiceFigs]float64
	counts Counts
}

type entryRep struct {
	figs   [nEntryFigs]float64
	counts Counts
}

// giveBack returns the histograms to the worker that lent them. The
// worker's channel has room for the one signal, so this never blocks, even
// when the worker has ended.
func (r *replication) giveBack() {
	if r.hists != nil {
		r.hists.lent <- struct{}{}
		r.hists = nil
	}
}

// Counts are the requests of one replication, or the sum over the
// replications of a run, from start to end: the warm-up and the drain
// included. They balance: Arrivals = Completions + InFlight.
type Counts struct {
	Arrivals    int64
	Completions int64 // of service at a service; of the whole call tree at an entry
	InFlight    int64 // at the end: waiting or in service at a service; unfinished at an entry
	Queued      int64 // at the end, of InFlight at a service: waiting for a worker
}

func (c *Counts) add(o Counts) {
	c.Arrivals += o.Arrivals
	c.Completions += o.Completions
	c.InFlight += o.InFlight
	c.Queued += o.Queued
}

// output writes the replication's estimates into r, a replication of k's
// plan. The time averages are over the window [tw, tend); the per-visit
// figures over the visits that arrived in it. The histograms stay in k,
// lent to r.
func (k *kernel) output(r *replication, index int64, stopped bool) {
	r.index, r.stopped, r.measured = index, stopped, 0
	r.window, r.overflow = k.tend-k.tw, k.overflow
	r.hists = k
	window := r.window
	if !(window > 0) || math.IsInf(window, 0) {
		window = math.NaN() // never reached the window: no estimate
	}
	for i, rr := range k.plan.services {
		// A service's figures are its replicas' together: their counts
		// and areas summed, over all their workers.
		var st station
		var workers float64 // over all replicas: more than an int32 may hold
		for _, rep := range k.st[rr.first : rr.first+rr.n] {
			workers += float64(rep.servers)
			st.busyArea += rep.busyArea
			st.heldArea += rep.heldArea
			st.nArea += rep.nArea
			st.arrivals += rep.arrivals
			st.completions += rep.completions
			st.count += rep.count
			st.waited += rep.waited
			st.sumWait += rep.sumWait
			st.sumResp += rep.sumResp
			st.busy += rep.busy
			st.held += rep.held
			st.qLen += rep.qLen
		}
		out := &r.services[i]
		inSystem := int64(st.inSystem())
		out.counts = Counts{Arrivals: st.arrivals, Completions: st.completions, InFlight: inSystem, Queued: int64(st.qLen)}
		f := &out.figs
		for j := range f {
			f[j] = math.NaN()
		}
		f[figArrivalRate] = float64(st.count) / window
		f[figUtilization] = st.busyArea / (workers * window)
		f[figHeldUtilization] = st.heldArea / (workers * window)
		// Waiting = in the station − in their own service, and the workers
		// serving are the busy ones not held in calls.
		f[figMeanQueueLength] = (st.nArea - (st.busyArea - st.heldArea)) / window
		f[figMeanInSystem] = st.nArea / window
		f[figBacklog] = float64(inSystem)
		f[figBacklogGrowth] = float64(inSystem) / k.now // the run starts empty at 0
		if st.count > 0 {
			n := float64(st.count)
			f[figWaitProbability] = float64(st.waited) / n
			f[figMeanWait] = st.sumWait / n
			f[figMeanResponse] = st.sumResp / n
			h := k.hists[i].Histogram()
			for j, l := range result.Levels {
				f[figServiceP50+j] = latency.InterpolatedQuantile(h, l.P)
			}
		}
	}
	for e := range k.ent {
		en := &k.ent[e]
		r.entries[e].counts = Counts{Arrivals: en.arrivals, Completions: en.completions}
	}
	// External requests still in flight, found in the visit pool rather
	// than from the counters, so that the balance of Counts checks the
	// kernel's bookkeeping.
	for i := range k.v {
		if v := &k.v[i]; v.svc >= 0 && !v.inGroup && v.parent < 0 {
			r.entries[-v.parent-1].counts.InFlight++
		}
	}
	for e := range k.ent {
		en := &k.ent[e]
		out := &r.entries[e]
		r.measured += en.count
		f := &out.figs
		for j := range f {
			f[j] = math.NaN()
		}
		if en.count > 0 {
			f[figMean] = en.sum / float64(en.count)
			h := en.hist.Histogram()
			for j, l := range result.Levels {
				f[figEntryP50+j] = latency.InterpolatedQuantile(h, l.P)
			}
		}
	}
}
