package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/topology"
)

// Options set up a run. The zero value is a sensible run: ten million
// measured requests in ten replications on every core, seed 0, warm-up by
// MSER-5.
type Options struct {
	// Requests is the number of measured external requests over all the
	// replications, split evenly among them; 0 means 10,000,000, the
	// fewest at which every 95% interval covers the exact figure about 95%
	// of the time (see the package comment).
	Requests int64
	// Replications is the number of independent replications; 0 means 10.
	// One gives figures without confidence intervals.
	Replications int
	// Precision, when positive, keeps adding replications (each of
	// Requests/Replications requests) until the 95% half-width of every
	// entry's mean end-to-end latency is within Precision × the mean (0.01
	// for 1%), or MaxRequests is reached.
	Precision float64
	// MaxRequests caps the measured requests of a run with Precision; 0
	// means 100,000,000 (or Requests, if more).
	MaxRequests int64
	// Seed selects the random streams: the same seed gives the same
	// figures, whatever the number of workers.
	Seed uint64
	// Workers is the number of replications run at once, each on its own
	// goroutine; 0 means GOMAXPROCS.
	Workers int
	// Warmup is the number of external requests deleted from the start of
	// each replication: 0 chooses it by MSER-5 from a pilot run, a negative
	// number deletes none.
	Warmup int64
	// Force simulates a topology with a saturated service instead of
	// refusing it: each replication runs for its share of Requests, with
	// no warm-up, and the result reports how its queues grew.
	Force bool
	// Progress, when set, is called now and then from Run's goroutine with
	// the external requests simulated so far and the expected total.
	Progress func(done, total int64)
}

const (
	defaultRequests     = 10_000_000
	defaultReplications = 10
	defaultMaxRequests  = 100_000_000

	// The pilot run that chooses the warm-up is one replication long,
	// within these bounds, and is doubled up to pilotDoublings times while
	// MSER-5 finds no steady state in it.
	minPilot       = 100_000
	maxPilot       = 500_000
	pilotDoublings = 4

	progressEvery = 200 * time.Millisecond
)

// ErrUnstable is returned, wrapped, by Run for a topology with a service at
// or past saturation, whose queues grow without bound, unless Options.Force
// is set.
var ErrUnstable = errors.New("unstable topology")

// Run simulates t: independent replications of its queueing network in
// parallel, each a sequential discrete-event simulation, and returns the
// figures with their confidence intervals.
//
// When ctx is cancelled, Run stops every replication and returns what was
// gathered, marked Partial; it returns an error wrapping ctx.Err() only if
// nothing was gathered. Every goroutine it starts has ended when it returns.
func Run(ctx context.Context, t *topology.Topology, opts Options) (*Result, error) {
	o, err := opts.withDefaults()
	if err != nil {
		return nil, err
	}
	ld := offeredLoad(t)
	if !ld.stable && !o.Force {
		return nil, unstableError(t, ld)
	}
	p, err := newPlan(t)
	if err != nil {
		return nil, err
	}
	r := &runner{
		topo:   t,
		plan:   p,
		opts:   o,
		load:   ld,
		start:  time.Now(),
		ctl:    &control{ctx: ctx},
		perRep: (o.Requests + int64(o.Replications) - 1) / int64(o.Replications),
	}
	r.ctl.limit.Store(math.MaxInt64)
	if err := r.chooseWarmup(); err != nil {
		return nil, err
	}
	agg, err := r.replicate()
	if err != nil {
		return nil, err
	}
	return r.result(agg), nil
}

func (o Options) withDefaults() (Options, error) {
	if o.Requests < 0 || o.Replications < 0 || o.MaxRequests < 0 || o.Workers < 0 {
		return o, fmt.Errorf("negative option in %+v: requests, replications, max requests and workers must be positive, or zero for the default", o)
	}
	if !(o.Precision >= 0) || math.IsInf(o.Precision, 0) {
		return o, fmt.Errorf("precision %v: use a positive fraction such as 0.01 for 1%%, or 0 for none", o.Precision)
	}
	if o.Requests == 0 {
		o.Requests = defaultRequests
	}
	if o.Replications == 0 {
		o.Replications = defaultReplications
	}
	if o.Precision > 0 && o.Replications < 2 {
		o.Replications = 2 // an interval needs two
	}
	if int64(o.Replications) > o.Requests {
		return o, fmt.Errorf("%d replications of %d requests: each replication needs at least one request", o.Replications, o.Requests)
	}
	if o.MaxRequests == 0 {
		o.MaxRequests = max(defaultMaxRequests, o.Requests)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	return o, nil
}

func unstableError(t *topology.Topology, ld load) error {
	var parts []string
	for i, s := range t.Services {
		if ld.utilization[i] >= 1 {
			parts = append(parts, fmt.Sprintf("%s at %.1f%%", s.Name, 100*ld.utilization[i]))
		}
	}
	return fmt.Errorf("%w: %s saturated, so queues grow without bound; the topology sustains at most %.4g req/s in this mix",
		ErrUnstable, strings.Join(parts, ", "), ld.maxRate)
}

// runner is one call of Run.
type runner struct {
	topo   *topology.Topology
	plan   *plan
	opts   Options
	load   load
	start  time.Time
	ctl    *control
	perRep int64 // measured requests per replication

	warmup          int64
	warmupRule      string
	warmupConverged bool
	forced          bool
	pilotRequests   int64
	total           int64 // expected external requests, for progress
	// pilot is the warm-up pilot's kernel, nil without a pilot: its
	// storage, grown by the pilot, is reused by the first worker.
	pilot *kernel
}

// chooseWarmup sets the warm-up of every replication, running the MSER-5
// pilot when the options ask for it.
func (r *runner) chooseWarmup() error {
	r.forced = r.opts.Force && !r.load.stable
	r.total = int64(r.opts.Replications) * r.perRep
	switch {
	case r.opts.Warmup > 0:
		r.warmup, r.warmupRule, r.warmupConverged = r.opts.Warmup, "fixed", true
		r.total += int64(r.opts.Replications) * r.warmup
		return nil
	case r.opts.Warmup < 0 || r.forced:
		// Without a steady state there is no transient to delete.
		r.warmup, r.warmupRule, r.warmupConverged = 0, "none", !r.forced
		return nil
	}
	r.warmupRule = "MSER-5"
	n := min(max(r.perRep, minPilot), maxPilot)
	r.total += n
	k := newKernel(r.plan)
	for i := 0; ; i++ {
		k.mser = &mserSeries{quantum: 1e-9, means: make([]float64, 0, n/mserBatch)} // the histograms' nanosecond
		k.mserN = &mserSeries{means: make([]float64, 0, n/mserBatch+1)}
		k.reset(r.opts.Seed, pilotStream, 0, n, false)
		var stopped bool
		r.wait(func() { stopped = k.run(r.ctl, -1) }) // -1: no limit stops the pilot
		r.pilotRequests += k.arrivals
		if stopped {
			return fmt.Errorf("interrupted during the warm-up pilot, before any replication: %w", r.ctl.ctx.Err())
		}
		d, ok := mser(k.mser.means)
		dN, okN := mser(k.mserN.means)
		if (ok && okN) || i == pilotDoublings {
			r.warmup, r.warmupConverged = int64(max(d, dN))*mserBatch, ok && okN
			r.total += int64(r.opts.Replications) * r.warmup
			k.mser, k.mserN = nil, nil
			r.pilot = k
			return nil
		}
		n *= 2
		r.total += n
	}
}

// wait runs fn on its own goroutine and reports progress until it returns.
func (r *runner) wait(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	if r.opts.Progress == nil {
		<-done
		return
	}
	tick := time.NewTicker(progressEvery)
	defer tick.Stop()
	for {
		select {
		case <-done:
			return
		case <-tick.C:
			r.opts.Progress(r.ctl.done.Load(), r.total)
		}
	}
}

// aggregate is the sum of the replications a result is made of: the
// per-replication estimates of each figure, as moments, and one histogram
// per service and per entry into which the replications' are merged, so
// that its memory does not grow with the replications.
type aggregate struct {
	reps     int
	measured int64
	overflow int64
	svcEst   [][nServiceFigs]moments.Moments
	entEst   [][nEntryFigs]moments.Moments
	svcHist  []latency.Growing
	entHist  []latency.Growing
	svcCount []Counts
	entCount []Counts

	partial            bool
	precisionReached   bool
	maxRequestsReached bool
}

func newAggregate(p *plan) *aggregate {
	a := &aggregate{
		svcEst:   make([][nServiceFigs]moments.Moments, len(p.services)),
		entEst:   make([][nEntryFigs]moments.Moments, len(p.entries)),
		svcHist:  make([]latency.Growing, len(p.services)),
		entHist:  make([]latency.Growing, len(p.entries)),
		svcCount: make([]Counts, len(p.services)),
		entCount: make([]Counts, len(p.entries)),
	}
	for i := range a.svcHist {
		a.svcHist[i].Digits = serviceDigits
	}
	for i := range a.entHist {
		a.entHist[i].Digits = entryDigits
	}
	return a
}

// add counts a replication in. Replications are added in index order, so
// that the moments, which are sums of floating-point numbers, are the same
// whatever the number of workers.
func (a *aggregate) add(rep *replication) {
	a.reps++
	a.measured += rep.measured
	a.overflow += rep.overflow
	for i := range rep.services {
		s := &rep.services[i]
		for j, x := range s.figs {
			a.svcEst[i][j].Add(x)
		}
		a.svcCount[i].add(s.counts)
	}
	for i := range rep.entries {
		e := &rep.entries[i]
		for j, x := range e.figs {
			a.entEst[i][j].Add(x)
		}
		a.entCount[i].add(e.counts)
	}
	a.merge(rep)
}

// merge adds the replication's histograms into the run's, unless that was
// done already, and gives them back to its worker. Histograms add integer
// counts, so they can be merged in any order, as soon as it is sure that
// the replication is kept.
func (a *aggregate) merge(rep *replication) {
	k := rep.hists
	if k == nil {
		return
	}
	for i := range k.hists {
		a.svcHist[i].Merge(&k.hists[i])
	}
	for i := range k.ent {
		a.entHist[i].Merge(&k.ent[i].hist)
	}
	rep.giveBack()
}

// precise reports whether every entry's mean end-to-end latency is known to
// within the target precision at 95% confidence.
func (a *aggregate) precise(p float64) bool {
	for i := range a.entEst {
		s := &a.entEst[i][figMean]
		if hw := s.HalfWidth(0.95); !(hw <= p*s.Mean()) {
			return false
		}
	}
	return true
}

// replicate runs the replications on the workers and gathers them in index
// order. The figures depend only on which replications are kept, and those
// are always the first ones by index: with a precision target, the
// smallest prefix that meets it. So the same seed gives the same result
// whatever the number of workers; replications started past that prefix
// are stopped and dropped.
//
// Memory does not grow with the replications: each worker records into one
// set of histograms, which it lends with each replication it hands over
// and empties for the next once the gatherer has merged them into the
// run's (or dropped them). A replication that is sure to be kept (keptForSure)
// is merged as soon as it arrives, in whatever order, and its worker goes
// on at once; one whose fate waits on earlier replications, with a
// precision target, holds its worker until the gatherer reaches it. The
// claim of the next index comes after that wait, so every claimed index is
// being run and the earliest pending replication is always reached.
func (r *runner) replicate() (*aggregate, error) {
	o := r.opts
	limit := int64(o.Replications)
	if o.Precision > 0 {
		limit = max(limit, o.MaxRequests/r.perRep)
	}
	r.ctl.limit.Store(limit)

	spare := &sync.Pool{New: func() any { return newReplication(r.plan) }}
	var next atomic.Int64
	out := r.startWorkers(spare, &next)

	var tick <-chan time.Time
	if o.Progress != nil {
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		tick = t.C
	}
	g := &gatherer{r: r, agg: newAggregate(r.plan), pending: map[int64]*replication{}, spare: spare, limit: limit}
	for open := true; open; {
		select {
		case rep, ok := <-out:
			if !ok {
				open = false
				break
			}
			g.receive(rep)
		case <-tick:
			planned := max(int64(o.Replications), min(next.Load(), r.ctl.limit.Load()))
			total := r.total + (planned-int64(o.Replications))*(r.warmup+r.perRep)
			o.Progress(r.ctl.done.Load(), total)
		}
	}
	if r.ctl.ctx.Err() != nil {
		return g.interrupted()
	}
	return g.agg, nil
}

// startWorkers starts o.Workers goroutines, each running replications with
// the next free index on its own kernel until the control stops them, and
// returns the channel of their replications, closed when all have ended.
// The first worker reuses the pilot's kernel.
func (r *runner) startWorkers(spare *sync.Pool, next *atomic.Int64) <-chan *replication {
	o := r.opts
	out := make(chan *replication, o.Workers)
	var wg sync.WaitGroup
	for w := range o.Workers {
		k := r.pilot
		if w > 0 || k == nil {
			k = newKernel(r.plan)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if r.ctl.stopped(i) {
					return
				}
				k.reset(o.Seed, uint64(i), r.warmup, r.perRep, r.forced)
				stopped := k.run(r.ctl, i)
				rep := spare.Get().(*replication)
				k.output(rep, i, stopped)
				out <- rep
				if stopped {
					// Every later index is stopped too (the limit only
					// falls, and a cancelled context stays cancelled):
					// the histograms stay with the gatherer.
					return
				}
				select {
				case <-k.lent: // merged or dropped: k's histograms are free
				case <-r.ctl.ctx.Done():
					return // interrupted: the gatherer may still merge them
				}
			}
		}()
	}
	go func() {
		wg.Wait()
		close(out)
	}()
	return out
}

// gatherer collects the replications of a run in index order.
type gatherer struct {
	r       *runner
	agg     *aggregate
	pending map[int64]*replication // arrived, not yet added in order
	prefix  int64                  // replications 0 … prefix-1 are in agg
	spare   *sync.Pool
	limit   int64 // the most replications the run may have
}

// receive takes one replication: its histograms are merged at once when it
// will certainly be kept, and its estimates are added once every
// replication before it has been.
func (g *gatherer) receive(rep *replication) {
	r, o := g.r, g.r.opts
	if rep.index >= r.ctl.limit.Load() {
		rep.giveBack() // started before the precision target was met
		g.spare.Put(rep)
		return
	}
	if r.keptForSure(rep) {
		g.agg.merge(rep)
	}
	g.pending[rep.index] = rep
	for g.prefix < r.ctl.limit.Load() {
		p := g.pending[g.prefix]
		if p == nil || p.stopped {
			break
		}
		delete(g.pending, g.prefix)
		g.agg.add(p)
		g.spare.Put(p)
		g.prefix++
		if o.Precision > 0 && g.prefix >= int64(o.Replications) && g.agg.precise(o.Precision) {
			g.agg.precisionReached = true
			r.ctl.limit.Store(g.prefix)
			// Every replication still pending is past the prefix and not
			// needed.
			for _, q := range g.pending {
				q.giveBack()
				g.spare.Put(q)
			}
			clear(g.pending)
		} else if o.Precision > 0 && g.prefix == g.limit {
			g.agg.maxRequestsReached = true
		}
	}
}

// interrupted keeps whatever the unfinished replications of an interrupted
// run measured. Every worker has ended, so the histograms still lent are
// free to merge.
func (g *gatherer) interrupted() (*aggregate, error) {
	r := g.r
	g.agg.partial = true
	rest := make([]*replication, 0, len(g.pending))
	for _, p := range g.pending {
		if p.index < r.ctl.limit.Load() && p.measured > 0 {
			rest = append(rest, p)
		}
	}
	slices.SortFunc(rest, func(a, b *replication) int { return int(a.index - b.index) })
	for _, p := range rest {
		g.agg.add(p)
	}
	if g.agg.measured == 0 {
		return nil, fmt.Errorf("interrupted before any request was measured: %w", r.ctl.ctx.Err())
	}
	return g.agg, nil
}

// keptForSure reports whether a replication, just arrived, will be among
// those kept whatever the others do, so that its histograms can be merged
// at once. It will if it ran to the end and measured something (the
// interrupted run keeps those too), and its index is below the smallest
// number of replications the run can keep: all of them without a precision
// target, Options.Replications with one, since the target is checked from
// there on.
func (r *runner) keptForSure(rep *replication) bool {
	return !rep.stopped && rep.measured > 0 && (r.opts.Precision == 0 || rep.index < int64(r.opts.Replications))
}

// result builds the Result from the replications gathered.
func (r *runner) result(a *aggregate) *Result {
	t, ld := r.topo, r.load
	elapsed := time.Since(r.start).Seconds()
	res := &Result{
		Summary: result.Summary{
			Topology: t.Name,
			Stable:   ld.stable,
			Rate:     t.TotalRate(),
			MaxRate:  ld.maxRate,
			Headroom: ld.maxRate / t.TotalRate(),
		},
		Services: make([]ServiceResult, len(t.Services)),
		Entries:  make([]EntryResult, len(t.Workload)),
		Partial:  a.partial,
		Run: RunInfo{
			Requests:           a.measured,
			Replications:       a.reps,
			WarmupRequests:     r.warmup,
			WarmupRule:         r.warmupRule,
			WarmupConverged:    r.warmupConverged,
			Seed:               r.opts.Seed,
			Workers:            r.opts.Workers,
			Seconds:            elapsed,
			SimulatedRequests:  r.ctl.done.Load(),
			PrecisionReached:   a.precisionReached,
			MaxRequestsReached: a.maxRequestsReached,
			Precision:          r.opts.Precision,
			Forced:             r.forced,
			Clamped:            a.overflow,
		},
	}
	if elapsed > 0 {
		res.Run.RequestsPerSecond = float64(res.Run.SimulatedRequests) / elapsed
	}
	if ld.bottleneck >= 0 {
		res.Bottleneck = t.Services[ld.bottleneck].Name
	}
	for i, s := range t.Services {
		res.Services[i] = r.serviceResult(a, i, s)
	}
	for e, w := range t.Workload {
		res.Entries[e] = entryResult(a, e, w)
	}
	return res
}

// serviceResult is the simulated figures of service i, s, from the
// replications gathered.
func (r *runner) serviceResult(a *aggregate, i int, s *topology.Service) ServiceResult {
	sr := ServiceResult{
		Service: result.Service{
			Name:         s.Name,
			Servers:      s.Servers,
			ServiceTime:  s.MeanSeconds(),
			Distribution: s.Distribution.String(),
		},
		Counts: a.svcCount[i],
		est:    a.svcEst[i],
		hist:   a.svcHist[i].Histogram(),
	}
	if s.Replicas > 1 {
		sr.Replicas, sr.Balancer = s.Replicas, string(s.Balancer)
	}
	est := &sr.est
	sr.ArrivalRate = orZero(est[figArrivalRate].Mean())
	sr.Utilization = orZero(est[figUtilization].Mean())
	if est[figMeanResponse].N() > 0 {
		sr.WaitProbability = ptr(est[figWaitProbability].Mean())
		sr.MeanWait = ptr(est[figMeanWait].Mean())
		sr.MeanResponse = ptr(est[figMeanResponse].Mean())
		sr.MeanQueueLength = nanNil(est[figMeanQueueLength].Mean())
		sr.MeanInSystem = nanNil(est[figMeanInSystem].Mean())
		sr.pooled = pooledQuantiles(sr.hist)
		sr.Percentiles = percentiles(sr.pooled)
		sr.CI95 = sr.Interval(0.95)
	}
	if r.plan.stations[r.plan.services[i].first].hold {
		sr.HeldUtilization = nanNil(est[figHeldUtilization].Mean())
		sr.HeldUtilizationCI95 = nanNil(est[figHeldUtilization].HalfWidth(0.95))
	}
	if r.forced {
		sr.Backlog = nanNil(est[figBacklog].Mean())
		sr.BacklogGrowth = nanNil(est[figBacklogGrowth].Mean())
	}
	return sr
}

// entryResult is the simulated end-to-end figures of workload entry e, w.
func entryResult(a *aggregate, e int, w topology.Workload) EntryResult {
	er := EntryResult{
		EndToEnd: result.EndToEnd{Entry: w.Entry, Rate: w.Rate},
		Counts:   a.entCount[e],
		est:      a.entEst[e],
		hist:     a.entHist[e].Histogram(),
	}
	if er.est[figMean].N() > 0 {
		er.Mean = ptr(er.est[figMean].Mean())
		er.pooled = pooledQuantiles(er.hist)
		er.Percentiles = percentiles(er.pooled)
		er.CI95 = er.Interval(0.95)
	}
	return er
}

// pooledQuantiles reads the percentiles of result.Levels from a run's
// merged histogram (see the package comment, Confidence intervals).
func pooledQuantiles(h *hdrhistogram.Histogram) (q [nLevels]float64) {
	for j, l := range result.Levels {
		q[j] = latency.InterpolatedQuantile(h, l.P)
	}
	return q
}

func percentiles(q [nLevels]float64) *result.Percentiles {
	p := &result.Percentiles{}
	for j, l := range result.Levels {
		p.Set(l.Name, q[j])
	}
	return p
}

func ptr(v float64) *float64 { return &v }

func nanNil(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

func orZero(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}
