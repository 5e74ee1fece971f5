package sim

import (
	"github.com/kendallqn/kendall/internal/latency"
	"math"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kendallqn/kendall/model"
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
	figServiceP50 // then one per model.Levels
)

// nLevels is len(model.Levels), the percentiles estimated per service and
// per entry; TestLevels holds the two together.
const nLevels = 5

const (
	figBacklog = figServiceP50 + nLevels + iota
	figBacklogGrowth
	nServiceFigs
)

const (
	figMean     = iota
	figEntryP50 // then one per model.Levels
	nEntryFigs  = figEntryP50 + nLevels
)

// replication is what one replication hands back: one estimate of each
// figure, the histograms of its measurement window, and its counts.
type replication struct {
	index    int64
	stopped  bool  // cut short: by an interrupt, or because it was not needed
	measured int64 // measured external requests that finished
	window   float64
	overflow int64
	services []serviceRep
	entries  []entryRep
}

type serviceRep struct {
	figs   [nServiceFigs]float64
	hist   *hdrhistogram.Histogram
	counts Counts
}

type entryRep struct {
	figs   [nEntryFigs]float64
	hist   *hdrhistogram.Histogram
	counts Counts
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

// output collects the replication's estimates. The time averages are over
// the window [tw, tend); the per-visit figures over the visits that arrived
// in it.
func (k *kernel) output(index int64, stopped bool) *replication {
	r := &replication{
		index:    index,
		stopped:  stopped,
		window:   k.tend - k.tw,
		overflow: k.overflow,
		services: make([]serviceRep, len(k.st)),
		entries:  make([]entryRep, len(k.ent)),
	}
	window := r.window
	if !(window > 0) || math.IsInf(window, 0) {
		window = math.NaN() // never reached the window: no estimate
	}
	for i := range k.st {
		st := &k.st[i]
		out := &r.services[i]
		out.hist = st.hist
		inSystem := int64(st.busy) + int64(st.qLen)
		out.counts = Counts{Arrivals: st.arrivals, Completions: st.completions, InFlight: inSystem, Queued: int64(st.qLen)}
		f := &out.figs
		for j := range f {
			f[j] = math.NaN()
		}
		f[figArrivalRate] = float64(st.count) / window
		f[figUtilization] = st.busyArea / (float64(st.servers) * window)
		f[figMeanQueueLength] = (st.nArea - st.busyArea) / window
		f[figMeanInSystem] = st.nArea / window
		f[figBacklog] = float64(inSystem)
		f[figBacklogGrowth] = float64(inSystem) / k.now // the run starts empty at 0
		if st.count > 0 {
			n := float64(st.count)
			f[figWaitProbability] = float64(st.waited) / n
			f[figMeanWait] = st.sumWait / n
			f[figMeanResponse] = st.sumResp / n
			for j, l := range model.Levels {
				f[figServiceP50+j] = latency.Quantile(st.hist, l.P)
			}
		}
	}
	// External requests still in flight, found in the visit pool rather
	// than from the counters, so that the balance of Counts checks the
	// kernel's bookkeeping.
	live := make([]int64, len(k.ent))
	for i := range k.v {
		if v := &k.v[i]; v.svc >= 0 && v.parent < 0 {
			live[-v.parent-1]++
		}
	}
	for e := range k.ent {
		en := &k.ent[e]
		out := &r.entries[e]
		out.hist = en.hist
		out.counts = Counts{Arrivals: en.arrivals, Completions: en.completions, InFlight: live[e]}
		r.measured += en.count
		f := &out.figs
		for j := range f {
			f[j] = math.NaN()
		}
		if en.count > 0 {
			f[figMean] = en.sum / float64(en.count)
			for j, l := range model.Levels {
				f[figEntryP50+j] = latency.Quantile(en.hist, l.P)
			}
		}
	}
	return r
}
