package loadgen

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/kendallqn/kendall/internal/latency"
)

// Defaults of Options.
const (
	DefaultTimeout = 30 * time.Second      // vegeta's
	DefaultMaxLag  = 10 * time.Millisecond // a run whose sends fell further behind is not trustworthy
	// MaxLateFraction is the largest share of sends later than the lag
	// bound in a trustworthy run: isolated stalls, not a generator at its
	// limit (see RunStats.Trustworthy).
	MaxLateFraction = 0.001
	// MaxIsolatedLate is the number of late sends a trustworthy run may
	// have whatever its length: in a short run one stall of the machine
	// is more than MaxLateFraction of the sends.
	MaxIsolatedLate = 3
	// DefaultMaxInFlight is the most requests an attack has in flight at
	// once (Options.MaxInFlight), unless the process may not open that
	// many files (see Options.MaxInFlight). By Little's law, requests in
	// flight are the rate times the latency: 10,000 is 1,000 requests a
	// second that take 10 s, or 10,000 a second (about what the generator
	// sends on a 2-core machine, BenchmarkAttackCeiling) that take 1 s;
	// past that the target is not answering, and the run has shown what it
	// can. Each request in flight costs the generator 27 to 30 KB of heap,
	// a file descriptor and five goroutines (measured on the 2-core
	// development machine against a server in another process, 1,000 to
	// 9,000 in flight; with the server in the same process, as with kendall
	// attack --emulate, 50 to 60 KB and two descriptors: BenchmarkInFlightCost),
	// so the cap holds an attack near 300 MB, 600 MB with its emulation,
	// where without it one ran to 3.2 GB and 18,000 descriptors.
	DefaultMaxInFlight = 10_000
	// fileReserve is what the default cap leaves of the limit of open
	// files to the rest of the process: listeners, timers, idle
	// connections, the calls between emulated services.
	fileReserve = 256
	// DefaultSkipAfter is how far behind its schedule a send may fall
	// before it is skipped (Options.SkipAfter): far beyond the lag of a
	// trustworthy run, so that the isolated stalls of a machine are sent
	// late, as before, and only a generator that cannot keep up skips.
	DefaultSkipAfter = time.Second
)

// Options set how an attack runs. Duration is required; the zero value of
// every other field is its default.
type Options struct {
	// Duration is the length of the measurement window. The attack runs
	// for Warmup + Duration, and the figures cover the requests sent
	// during the last Duration.
	Duration time.Duration
	// Warmup is excluded from the figures: it lets connections open,
	// caches fill and queues reach their steady state.
	Warmup time.Duration
	// Arrivals is the arrival process: Poisson (the default) or
	// Constant.
	Arrivals Arrivals
	// Seed fixes the arrival schedule of every target.
	Seed uint64
	// Timeout bounds each request, from send to the end of its response;
	// DefaultTimeout when zero. A request that times out is counted as
	// an error.
	Timeout time.Duration
	// MaxLag is the largest lag of a send behind its schedule for a run
	// to be trustworthy; DefaultMaxLag when zero.
	MaxLag time.Duration
	// Insecure skips the verification of the targets' TLS certificates,
	// as curl -k and vegeta -insecure do, to attack an https endpoint with
	// a self-signed certificate. Off by default: without it such a target
	// fails every request with an error of ClassTLS.
	Insecure bool
	// MaxInFlight caps the requests in flight at once, over all the
	// targets, and with them the memory, connections and goroutines of
	// the attack: the idle connections kept are capped by it too, so the
	// attack holds at most twice as many connections. When zero, it is
	// DefaultMaxInFlight, or a quarter of the process's limit of open
	// files, less fileReserve, if that is fewer (a connection is one
	// descriptor, two against a server in the same process), so that the
	// cap, which is reported, and not "too many open files", stops the
	// generator. The generator never waits
	// for a slot, which would let the target set the pace: a request that
	// comes due while the cap is reached is not sent, and is counted in
	// EntryResult.NotSent and RunStats.NotSentAtCap, and the run is not
	// trustworthy.
	MaxInFlight int
	// SkipAfter is how far behind its schedule a send may fall: a request
	// due longer ago than that is not sent, and is counted in
	// EntryResult.NotSent and RunStats.NotSentBehind, and the run is not
	// trustworthy. It bounds the backlog of a generator that cannot keep
	// up with the rate asked, which would otherwise send every request
	// due, however late, long past the end of the run. DefaultSkipAfter,
	// or MaxLag if that is longer, when zero; at least MaxLag.
	SkipAfter time.Duration
	// Output, when set, receives every result, warm-up included, in
	// vegeta's gob encoding (vegeta.NewEncoder), for vegeta report and
	// vegeta plot. Response bodies are not kept.
	Output io.Writer
	// Progress, when set, is called about once a second with the state of
	// the attack.
	Progress func(Progress)
	// Warn, when set, receives what goes wrong during the attack and is
	// recovered from, as it happens: a Target.Discover that failed and is
	// started again. The result's warnings say it too.
	Warn func(msg string)
}

// Progress is the state of an attack under way.
type Progress struct {
	Elapsed, Total time.Duration // warm-up included
	Sent           int64         // requests sent
	Completed      int64         // responses received (or failures)
	Failed         int64
	MaxLag         time.Duration // worst lag of a send behind its schedule so far
	NotSent        int64         // requests due that were not sent (Options.SkipAfter, Options.MaxInFlight)
	InFlight       int64         // requests in flight now
}

func (o *Options) timeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

func (o *Options) maxLag() time.Duration {
	if o.MaxLag > 0 {
		return o.MaxLag
	}
	return DefaultMaxLag
}

func (o *Options) maxInFlight() int {
	if o.MaxInFlight > 0 {
		return o.MaxInFlight
	}
	return defaultMaxInFlight(fileLimit())
}

// defaultMaxInFlight is the default cap under a limit of files open (0 if
// unknown).
func defaultMaxInFlight(files int) int {
	if files <= 0 {
		return DefaultMaxInFlight
	}
	return min(DefaultMaxInFlight, max((files-fileReserve)/4, 64))
}

func (o *Options) skipAfter() time.Duration {
	if o.SkipAfter > 0 {
		return o.SkipAfter
	}
	return max(DefaultSkipAfter, o.maxLag())
}

// Pacer returns the pacer that Attack gives target i of an attack at rate
// with these options: its At(k) is when the target's k-th request is due.
// Each target has its own arrival stream, fixed by Seed, so an attack's
// arrivals can be replayed without sending a request: through a
// simulator, or a queue's recursion.
func (o *Options) Pacer(i int, rate float64) *Pacer {
	return newPacer(o.Arrivals, rate, o.Seed, i)
}

func (o *Options) validate() error {
	switch {
	case o.Duration <= 0:
		return fmt.Errorf("duration %v: give the attack a positive duration, such as 30s", o.Duration)
	case o.Warmup < 0:
		return fmt.Errorf("warm-up %v is negative; use 0 for none, or a duration such as 5s", o.Warmup)
	case o.Timeout < 0:
		return fmt.Errorf("timeout %v is negative; give a positive duration such as 10s", o.Timeout)
	case o.MaxLag < 0:
		return fmt.Errorf("max lag %v is negative; give a positive duration such as 10ms", o.MaxLag)
	case o.MaxInFlight < 0:
		return fmt.Errorf("max in flight %d is negative; use 0 for the default (%d), or a positive number", o.MaxInFlight, DefaultMaxInFlight)
	case o.SkipAfter < 0:
		return fmt.Errorf("skip-after %v is negative; use 0 for the default (%v), or a positive duration", o.SkipAfter, DefaultSkipAfter)
	case o.SkipAfter > 0 && o.SkipAfter < o.maxLag():
		return fmt.Errorf("skip-after %v is shorter than the max lag %v: sends would be skipped before they count as late; give at least %v", o.SkipAfter, o.maxLag(), o.maxLag())
	case o.Arrivals != Poisson && o.Arrivals != Constant:
		return fmt.Errorf("unknown arrival process %v; use Poisson or Constant", o.Arrivals)
	}
	return nil
}

// Attack sends requests to the targets, each at its own rate, for
// opts.Warmup + opts.Duration, and measures them.
//
// It checks the targets first, and fails before sending anything if one is
// malformed or does not accept connections (ErrUnreachable). During the
// attack, errors and timeouts are counted, not fatal. It ends at
// opts.Warmup + opts.Duration, however far behind its schedule, and waits
// for the requests then in flight, at most opts.Timeout. When ctx is
// cancelled it stops sending, abandons the requests in flight, and returns
// what was measured so far with ctx.Err(). No goroutine it started
// outlives it.
//
// Whether every request failed is res.AllFailed().
func Attack(ctx context.Context, targets []Target, opts Options) (*Result, error) {
	targets, err := checkAttack(targets, opts)
	if err != nil {
		return nil, err
	}
	routers := make([]*router, len(targets))
	for i := range targets {
		if routers[i], err = newRouter(&targets[i], i, opts.Seed); err != nil {
			return nil, err
		}
	}
	// The replicas of the targets that discover them, followed until the
	// attack ends: the watches end with Attack.
	dctx, stopDiscovery := context.WithCancel(ctx)
	var discovering sync.WaitGroup
	defer discovering.Wait()
	defer stopDiscovery()
	discovered := make([]discoveryFailures, len(targets))
	if err := discover(dctx, targets, routers, &discovering, discovered, min(opts.timeout(), 5*time.Second), opts.Warn); err != nil {
		return nil, err
	}
	if err := probe(ctx, targets, min(opts.timeout(), 5*time.Second)); err != nil {
		return nil, err
	}

	actx, cancel := context.WithCancel(ctx)
	defer cancel()
	a := startAttack(actx, targets, routers, opts)
	defer a.close()
	encErr := a.collect(cancel)
	elapsed := time.Since(a.start)
	interrupted := ctx.Err() != nil
	res := summarize(a.rec, targets, a.schedules, a.slots, opts, a.window(), elapsed, interrupted)
	for i, rt := range routers {
		res.Entries[i].Replicas = rt.results(a.start)
	}
	stopDiscovery()
	discovering.Wait()
	for i, f := range discovered {
		if f.n > 0 {
			res.Run.Warnings = append(res.Run.Warnings, fmt.Sprintf("%s: following its replicas failed %d %s during the attack (last: %v), and was started again each time; meanwhile the requests went to the replicas known before",
				targets[i].Name, f.n, map[bool]string{true: "time", false: "times"}[f.n == 1], f.last))
		}
	}
	if encErr != nil {
		return res, fmt.Errorf("writing results: %w", encErr)
	}
	if interrupted {
		return res, ctx.Err()
	}
	return res, nil
}

// checkAttack checks the options and the targets of an attack before
// anything is sent, and returns the targets with their names filled in (a
// copy: the caller's are not changed).
func checkAttack(targets []Target, opts Options) ([]Target, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	if len(targets) == 0 {
		return nil, errors.New("no targets to attack")
	}
	targets = slices.Clone(targets)
	seen := map[string]bool{}
	for i := range targets {
		t := &targets[i]
		if t.URL == "" && len(t.Replicas) > 0 {
			t.URL = t.Replicas[0]
		}
		if t.Name == "" {
			t.Name = t.URL
		}
		if t.Name == "" && t.Discover != nil {
			return nil, fmt.Errorf("target %d: a target that discovers its replicas needs a Name", i)
		}
		if err := t.validate(); err != nil {
			return nil, err
		}
		if seen[t.Name] {
			return nil, fmt.Errorf("two targets are named %q; names must be unique", t.Name)
		}
		seen[t.Name] = true
	}
	return targets, nil
}

// attack is one run of Attack under way: a schedule and a vegeta attacker
// per target, all of whose results go to one recorder.
type attack struct {
	ctx          context.Context // the attack's: done when it is interrupted
	opts         Options
	start        time.Time
	transport    *http.Transport
	ct           *cancelTransport
	rec          *recorder
	slots        *inFlight
	schedules    []*schedule
	attackers    []*vegeta.Attacker
	results      chan *vegeta.Result // every attacker's, closed when all have stopped
	stoppedAt    atomic.Int64        // when the attack was interrupted, from start
	stopWatching func() bool         // unregisters the interruption of the attackers
}

// startAttack starts one attacker per target, each sending on its
// schedule; they stop at the end of the run, or when ctx is done. A target
// with a router (routers[i] not nil) sends through it to its replicas.
func startAttack(ctx context.Context, targets []Target, routers []*router, opts Options) *attack {
	maxInFlight := opts.maxInFlight()
	a := &attack{
		ctx:       ctx,
		opts:      opts,
		transport: newTransport(opts.Insecure, maxInFlight),
		slots:     newInFlight(maxInFlight),
		results:   make(chan *vegeta.Result, 1024),
	}
	a.ct = &cancelTransport{base: a.transport, ctx: ctx}
	client := &http.Client{Transport: a.ct, Timeout: opts.timeout()}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}

	end := opts.Warmup + opts.Duration
	a.start = time.Now()
	a.rec = newRecorder(names, a.start, opts.Warmup, opts.Duration, opts.timeout())
	var wg sync.WaitGroup
	for i := range targets {
		t := &targets[i]
		s := newSchedule(opts.Pacer(i, t.Rate), opts.Warmup, end, opts.skipAfter(), opts.maxLag(), a.slots, ctx.Done())
		// A new Attacker for every run: one is single-use. vegeta spawns
		// a worker whenever all are busy, so that a slow target never
		// holds a send back. The schedule hands out a hit only with a
		// slot of the cap (inflight.go), and a busy worker holds one, so
		// a free worker is always there: MaxWorkers only states the
		// bound, and never makes vegeta wait.
		c := client
		if rt := routers[i]; rt != nil {
			c = &http.Client{Transport: &balanceTransport{base: a.ct, router: rt}, Timeout: opts.timeout()}
		}
		atk := vegeta.NewAttacker(
			vegeta.Client(c),
			vegeta.MaxBody(0), // bodies are drained, not kept
			vegeta.MaxWorkers(uint64(maxInFlight)),
		)
		a.schedules = append(a.schedules, s)
		a.attackers = append(a.attackers, atk)
		ch := atk.Attack(vegeta.NewStaticTargeter(t.vegetaTarget()), s, 0, t.Name)
		wg.Go(func() {
			for r := range ch {
				a.results <- r
			}
		})
	}
	go func() {
		wg.Wait()
		close(a.results)
	}()
	a.stopWatching = context.AfterFunc(ctx, func() {
		a.stoppedAt.Store(int64(time.Since(a.start)))
		for _, atk := range a.attackers {
			atk.Stop()
		}
	})
	return a
}

// collect records the results as they come, writes them to Options.Output
// and reports progress, until every attacker has stopped. A run whose
// results cannot be written is stopped, with cancel, and the error
// returned.
func (a *attack) collect(cancel context.CancelFunc) error {
	var (
		out    *bufio.Writer
		enc    vegeta.Encoder
		encErr error
	)
	if a.opts.Output != nil {
		out = bufio.NewWriterSize(a.opts.Output, 64<<10)
		enc = vegeta.NewEncoder(out)
	}
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	for {
		select {
		case r, ok := <-a.results:
			if !ok {
				a.rec.settleAll()
				if out != nil && encErr == nil {
					encErr = out.Flush()
				}
				return encErr
			}
			a.record(r)
			if enc != nil && encErr == nil {
				r.Body = nil
				if encErr = enc.Encode(r); encErr != nil {
					cancel()
				}
			}
		case <-ticker.C:
			if a.opts.Progress != nil {
				a.opts.Progress(progress(a.rec, a.schedules, a.slots, time.Since(a.start), a.opts.Warmup+a.opts.Duration))
			}
		}
	}
}

// record takes one result: it frees the result's slot of the cap, adds
// what the transport saw of it (the bytes of its body, the error value of
// a failure), and records it.
func (a *attack) record(r *vegeta.Result) {
	a.slots.release()
	key := resultKey(r.Attack, strconv.FormatUint(r.Seq, 10))
	if n, ok := a.ct.bytesIn.LoadAndDelete(key); ok {
		r.BytesIn = uint64(n.(int64))
	}
	var rerr error
	if v, ok := a.ct.errs.LoadAndDelete(key); ok {
		rerr = v.(error)
	}
	a.rec.add(r, rerr, a.ctx.Err() != nil)
}

// window is the part of the measurement window that ran: all of it,
// unless the attack was interrupted.
func (a *attack) window() time.Duration {
	if at := time.Duration(a.stoppedAt.Load()); at > 0 { // the schedule stopped early
		return min(max(at-a.opts.Warmup, 0), a.opts.Duration)
	}
	return a.opts.Duration
}

// close releases the attack's timers and connections, once collect has
// returned.
func (a *attack) close() {
	a.stopWatching()
	for _, s := range a.schedules {
		s.close()
	}
	a.transport.CloseIdleConnections()
}

func progress(rec *recorder, schedules []*schedule, slots *inFlight, elapsed, total time.Duration) Progress {
	p := Progress{Elapsed: elapsed, Total: total, InFlight: slots.count()}
	for i, s := range schedules {
		st := s.stats()
		p.Sent += st.sent
		p.NotSent += st.notSent.total() + st.notSentWarm.total()
		p.MaxLag = max(p.MaxLag, st.maxLag)
		p.Completed += rec.entries[i].received
		p.Failed += rec.entries[i].failed
	}
	return p
}

// summarize builds the result of an attack from its recorder and schedules.
// window is the part of the measurement window that ran.
func summarize(rec *recorder, targets []Target, schedules []*schedule, slots *inFlight, opts Options, window, elapsed time.Duration, interrupted bool) *Result {
	res := &Result{Run: RunStats{
		Duration:      window.Seconds(),
		Warmup:        opts.Warmup.Seconds(),
		Elapsed:       elapsed.Seconds(),
		Arrivals:      opts.Arrivals.String(),
		Seed:          opts.Seed,
		MaxLagAllowed: opts.maxLag().Seconds(),
		SkipAfter:     opts.skipAfter().Seconds(),
		MaxInFlight:   int(slots.max),
		PeakInFlight:  slots.peak.Load(),
		Interrupted:   interrupted,
		Aborted:       rec.aborted,
		Warnings:      []string{},
	}}
	run := &res.Run
	lag := hdrhistogram.New(1000, latency.Highest, 2)
	var cvSum float64
	var cvWeight, sent int64
	for i, t := range targets {
		st := schedules[i].stats()
		lag.Merge(st.lag)
		e := rec.entry(i, t.Name, window)
		e.URL = t.URL
		e.RateRequested = t.Rate
		if w := window.Seconds(); w > 0 {
			e.Rate = float64(st.inWindow) / w
		}
		e.MaxLag = st.maxLag.Seconds()
		if st.gaps.N() >= 2 {
			cv := st.gaps.CV()
			e.InterarrivalCV = &cv
			cvSum += cv * float64(st.gaps.N())
			cvWeight += st.gaps.N()
		}
		e.NotSent = st.notSent.total()
		run.Requests += e.Requests
		run.Successes += e.Successes
		run.NotSent += e.NotSent
		run.NotSentBehind += st.notSent.behind + st.notSentWarm.behind
		run.NotSentAtCap += st.notSent.atCap + st.notSentWarm.atCap
		run.NotSentWarmup += st.notSentWarm.total()
		run.RateRequested += t.Rate
		run.MaxLag = max(run.MaxLag, e.MaxLag)
		sent += st.inWindow
		run.Warnings = append(run.Warnings, entryWarnings(&e, st, opts.Arrivals, window, len(targets) > 1)...)
		res.Entries = append(res.Entries, e)
	}
	if w := fewWarning(res.Entries); w != "" {
		run.Warnings = append(run.Warnings, w)
	}
	if w := window.Seconds(); w > 0 {
		run.RateAchieved = float64(sent) / w
	}
	if cvWeight > 0 {
		cv := cvSum / float64(cvWeight)
		run.InterarrivalCV = &cv
	}
	if lag.TotalCount() > 0 {
		run.LagP99 = latency.Quantile(lag, 0.99)
		run.LateFraction = latency.Survival(lag, []float64{run.MaxLagAllowed})[0]
		run.LateSends = int64(math.Round(run.LateFraction * float64(lag.TotalCount())))
	}
	if msgs := judge(run); len(msgs) > 0 {
		if run.Trustworthy {
			run.Warnings = append(run.Warnings, msgs...)
		} else {
			run.Warnings = append(msgs, run.Warnings...)
		}
	}
	if interrupted {
		run.Warnings = append(run.Warnings, fmt.Sprintf("interrupted after %s of %s: the figures cover the %s of the window that ran; %d requests in flight were abandoned and are not counted",
			fmtSeconds(elapsed.Seconds()), fmtSeconds((opts.Warmup+opts.Duration).Seconds()), fmtSeconds(window.Seconds()), rec.aborted))
	}
	return res
}

// judge sets run.Trustworthy from its lag figures and the requests it did
// not send, and returns the warnings that explain the verdict, none when
// every request due was sent on time.
//
// Trustworthy means the generator kept its schedule. A few sends later than
// the bound, with the rest on time, are isolated stalls of the machine (on
// virtual machines, late wake-ups of the process), which delay the services
// under test as much as the generator and touch too few requests to move
// any figure reported up to p99.9; they are reported, not disqualifying.
// Many late sends mean the generator was at its limit: it, not the target,
// set the pace, and latencies are understated (coordinated omission). A
// request not sent at all, far behind its schedule (Options.SkipAfter) or
// at the cap of requests in flight (Options.MaxInFlight), always
// disqualifies: the target did not get the load asked, and the requests
// not sent are those that would have met the longest queues.
func judge(run *RunStats) []string {
	onTime := run.LagP99 <= run.MaxLagAllowed && (run.LateFraction <= MaxLateFraction || run.LateSends <= MaxIsolatedLate)
	run.Trustworthy = onTime && run.NotSent == 0 && run.NotSentWarmup == 0
	var msgs []string
	if run.NotSent > 0 || run.NotSentWarmup > 0 {
		msgs = append(msgs, notSentWarning(run))
	}
	if !onTime && run.NotSentBehind > 0 {
		return msgs // the lag figures only say again that the generator fell behind
	}
	switch {
	case !onTime:
		msgs = append(msgs, fmt.Sprintf("NOT TRUSTWORTHY: sends fell behind their schedule by up to %s, more than the %s allowed (%s of them did, 1%% by more than %s): the load generator could not keep up, so it, not the target, limited the load, and latencies are understated; lower the rate, or attack from a less loaded machine",
			fmtSeconds(run.MaxLag), fmtSeconds(run.MaxLagAllowed), fmtFraction(run.LateFraction), fmtSeconds(run.LagP99)))
	case run.MaxLag > run.MaxLagAllowed:
		msgs = append(msgs, fmt.Sprintf("isolated stalls: %d sends (%s) fell behind their schedule by more than %s, up to %s, while 99%% were within %s; too few to move the figures, but the latencies of those requests are understated by up to that much",
			run.LateSends, fmtFraction(run.LateFraction), fmtSeconds(run.MaxLagAllowed), fmtSeconds(run.MaxLag), fmtSeconds(run.LagP99)))
	}
	return msgs
}

// notSentWarning says how many requests due were not sent, and why.
func notSentWarning(run *RunStats) string {
	var b strings.Builder
	b.WriteString("NOT TRUSTWORTHY: ")
	if run.NotSent > 0 {
		due := run.Requests + run.NotSent
		fmt.Fprintf(&b, "%d of the %d requests due were not sent (%s)", run.NotSent, due, fmtFraction(float64(run.NotSent)/float64(due)))
		if run.NotSentWarmup > 0 {
			fmt.Fprintf(&b, ", and %d more during the warm-up", run.NotSentWarmup)
		}
	} else {
		fmt.Fprintf(&b, "%d requests due during the warm-up were not sent", run.NotSentWarmup)
	}
	var why []string
	if run.NotSentAtCap > 0 {
		why = append(why, fmt.Sprintf("%d because the %d requests in flight allowed had not been answered (requests in flight are the rate times the latency: the target answered too slowly for the rate asked, or the generator could not take the answers fast enough); lower the rate, or raise the cap if memory allows",
			run.NotSentAtCap, run.MaxInFlight))
	}
	if run.NotSentBehind > 0 {
		why = append(why, fmt.Sprintf("%d because the load generator fell more than %s behind its schedule: it could not send as fast as asked; lower the rate, or attack from a less loaded machine",
			run.NotSentBehind, fmtSeconds(run.SkipAfter)))
	}
	b.WriteString(": " + strings.Join(why, "; "))
	b.WriteString(". The target got less load than asked, and the latencies of the requests sent are understated: those not sent would have met the longest queues")
	return b.String()
}

// entryWarnings says in words where an entry strayed from what was asked.
func entryWarnings(e *EntryResult, st scheduleStats, arrivals Arrivals, window time.Duration, named bool) []string {
	var w []string
	prefix := ""
	if named {
		prefix = e.Entry + ": "
	}
	T := window.Seconds()
	if T <= 0 {
		return nil
	}
	// The number of Poisson arrivals in T has mean and variance λT
	// (Kleinrock, Queueing Systems Vol. 1, 1975, eq. 2.122), so the
	// realized rate strays from λ by about sqrt(λT)/T by chance; beyond
	// 4 of those (a chance of 6e-5), and a 1% allowance, the generator did
	// not keep up. Evenly spaced arrivals stray by at most one.
	lambda := e.RateRequested
	chance := 1 / T
	if arrivals == Poisson {
		chance = 4 * math.Sqrt(lambda*T) / T
	}
	if dev := math.Abs(e.Rate - lambda); dev > chance+0.01*lambda {
		w = append(w, fmt.Sprintf("%s%.4g requests per second were sent, not the %.4g asked (%+.1f%%)",
			prefix, e.Rate, lambda, 100*(e.Rate/lambda-1)))
	}
	if e.InterarrivalCV != nil {
		cv, n := *e.InterarrivalCV, float64(st.gaps.N())
		switch arrivals {
		case Poisson:
			// The sample coefficient of variation of n exponential gaps is
			// asymptotically normal with mean 1 and variance 1/n: the delta
			// method (Casella & Berger, Statistical Inference, 2nd ed.,
			// 2002, Thm. 5.5.24) applied to s/x̄ with the exponential's
			// moments μ3 = 2μ³, μ4 = 9μ⁴ gives
			// (1/n)·[(μ4−σ⁴)/(4σ⁴) − μ3/(μσ²) + σ²/μ²] = (1/n)(2 − 2 + 1).
			if math.Abs(cv-1) > 4/math.Sqrt(n)+0.05 {
				w = append(w, fmt.Sprintf("%sthe gaps between requests had a coefficient of variation of %.3f, not about 1 as Poisson arrivals do: the generator's timing (lag up to %s) distorted the arrival process, whose mean gap is %s",
					prefix, cv, fmtSeconds(e.MaxLag), fmtSeconds(1/lambda)))
			}
		case Constant:
			if cv > 0.2 {
				w = append(w, fmt.Sprintf("%sthe gaps between requests had a coefficient of variation of %.3f, not about 0 as evenly spaced arrivals do: the generator's timing jitter is large against the gap of %s", prefix, cv, fmtSeconds(1/lambda)))
			}
		}
	}
	if e.Requests > 0 && e.SuccessRatio < 1 {
		failed := e.Requests - int64(math.Round(e.SuccessRatio*float64(e.Requests)))
		w = append(w, fmt.Sprintf("%s%d of %d requests failed (%.2f%%); latencies are of the successful ones", prefix, failed, e.Requests, 100*(1-e.SuccessRatio)))
	}
	return w
}

// fewWarning says which entries had too few successful requests for a
// stable tail: p99 of fewer than 1000 rests on fewer than 10 of them.
func fewWarning(entries []EntryResult) string {
	var few []string
	for _, e := range entries {
		if n := e.Histogram().TotalCount(); n > 0 && n < 1000 {
			few = append(few, fmt.Sprintf("%d at %s", n, e.Entry))
		}
	}
	switch {
	case len(few) == 0:
		return ""
	case len(entries) == 1:
		n, _, _ := strings.Cut(few[0], " ")
		return fmt.Sprintf("only %s successful requests: p99 and p99.9 rest on the few slowest; run longer for a stable tail", n)
	case len(few) > 4:
		few = append(few[:3], fmt.Sprintf("and %d more entries", len(few)-3))
	}
	return fmt.Sprintf("few successful requests (%s): p99 and p99.9 rest on the few slowest; run longer for a stable tail", strings.Join(few, ", "))
}

// fmtFraction formats a fraction for a message: 0.03%, 12%.
func fmtFraction(f float64) string {
	switch {
	case f == 0:
		return "none"
	case f < 0.0001:
		return "under 0.01%"
	case f < 0.1:
		return strconv.FormatFloat(100*f, 'f', 2, 64) + "%"
	}
	return strconv.FormatFloat(100*f, 'f', 0, 64) + "%"
}

// fmtSeconds formats seconds for a message: 1.23ms, 4.5s.
func fmtSeconds(s float64) string {
	return time.Duration(s * 1e9).Round(time.Microsecond).String()
}

// newTransport returns the attack's HTTP transport. The connections in use
// are not capped, so that requests never queue in the client for one,
// which would hide the target's latency; they are bounded by the requests
// in flight, at most maxInFlight. As many are kept idle, no more, so that
// the connections open are at most twice the cap.
func newTransport(insecure bool, maxInFlight int) *http.Transport {
	return &http.Transport{
		TLSClientConfig:       &tls.Config{InsecureSkipVerify: insecure}, // only when asked: Options.Insecure
		Proxy:                 http.ProxyFromEnvironment,                 // never for loopback
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          maxInFlight,
		MaxIdleConnsPerHost:   min(vegeta.DefaultConnections, maxInFlight),
		MaxConnsPerHost:       0, // unlimited
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		ForceAttemptHTTP2:     true,
	}
}

// cancelTransport ties every request to the attack's context as well as its
// own, so that interrupting the attack abandons the requests in flight
// instead of waiting for their timeouts. It also counts the bytes of each
// response body: vegeta counts only the bytes it keeps, and the attack
// keeps none; and it keeps the error value of a request that fails on its
// connection, which vegeta reduces to a message, for classify.
type cancelTransport struct {
	base    http.RoundTripper
	ctx     context.Context
	bytesIn sync.Map // resultKey → int64, until the collector takes it
	errs    sync.Map // resultKey → error, until the collector takes it
}

// resultKey names a result by its attack and sequence number, which vegeta
// sends as request headers and records in the result.
func resultKey(attack, seq string) string { return attack + "\x00" + seq }

func (t *cancelTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context()) // keeps the client's deadline
	stop := context.AfterFunc(t.ctx, cancel)
	key := resultKey(req.Header.Get("X-Vegeta-Attack"), req.Header.Get("X-Vegeta-Seq"))
	resp, err := t.base.RoundTrip(req.WithContext(ctx))
	if err != nil {
		stop()
		cancel()
		t.errs.Store(key, err)
		return nil, err
	}
	resp.Body = &cancelBody{ReadCloser: resp.Body, release: func(n int64, err error) {
		stop()
		cancel()
		t.bytesIn.Store(key, n)
		if err != nil {
			t.errs.Store(key, err)
		}
	}}
	return resp, nil
}

// cancelBody counts what is read from it, and releases its request's
// context once it is closed, with the error that cut the reading short, if
// any.
type cancelBody struct {
	io.ReadCloser
	n       int64
	err     error
	once    sync.Once
	release func(n int64, err error)
}

func (b *cancelBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n += int64(n)
	if err != nil && !errors.Is(err, io.EOF) && b.err == nil {
		b.err = err
	}
	return n, err
}

func (b *cancelBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() { b.release(b.n, b.err) })
	return err
}

// Backoff of a Target.Discover that failed during the attack: it is
// started again after discoverRetry, doubled after each failure up to
// discoverRetryMax, and back to discoverRetry once it has delivered a list.
var (
	discoverRetry    = 250 * time.Millisecond
	discoverRetryMax = 5 * time.Second
)

// discoveryFailures counts the failures of one target's Discover during
// the attack, with the last one's error.
type discoveryFailures struct {
	n    int
	last error
}

// discover starts the Discover of every target that has one, in a
// goroutine of wg's, updating its router until ctx ends, and waits up to
// timeout for each one's first list, whose valid URLs become the target's
// Replicas (and URL, if it has none). A first list with no valid URL, or
// a Discover that fails before it, is an error wrapping ErrUnreachable. A
// Discover that fails or returns later, while ctx lasts, is started again
// with backoff (discoverRetry), each failure told to warn (if not nil) and
// counted in fails[i]; the router keeps the replicas it had meanwhile.
func discover(ctx context.Context, targets []Target, routers []*router, wg *sync.WaitGroup, fails []discoveryFailures, timeout time.Duration, warn func(string)) error {
	type first struct {
		i      int
		urls   []string // the valid ones
		listed []string // as Discover gave them
		err    error
	}
	firsts := make(chan first, len(targets))
	n := 0
	for i := range targets {
		t := &targets[i]
		if t.Discover == nil {
			continue
		}
		n++
		rt := routers[i]
		wg.Go(func() {
			started := false
			delay := discoverRetry
			for {
				listed := false // by this run of Discover
				err := t.Discover(ctx, func(urls []string) {
					now := time.Now()
					if !started {
						now = time.Time{} // there from the start
					}
					valid, _ := rt.update(urls, now) // a discovered URL that is not valid is skipped
					listed = true
					if !started {
						started = true
						firsts <- first{i: i, urls: valid, listed: urls}
					}
				})
				switch {
				case ctx.Err() != nil:
					if !started {
						firsts <- first{i: i, err: ctx.Err()}
					}
					return
				case !started:
					if err == nil {
						err = errors.New("it ended without a list")
					}
					firsts <- first{i: i, err: err}
					return
				case err == nil:
					err = errors.New("it returned before the attack ended")
				}
				if listed {
					delay = discoverRetry // it had recovered
				}
				fails[i].n++
				fails[i].last = err
				if warn != nil {
					warn(fmt.Sprintf("%s: following its replicas failed (%v); the requests go to the replicas known before, and it starts again in %v", t.Name, err, delay))
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(delay):
				}
				delay = min(2*delay, discoverRetryMax)
			}
		})
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for range n {
		select {
		case f := <-firsts:
			t := &targets[f.i]
			switch {
			case f.err != nil:
				return fmt.Errorf("%w: finding the replicas of %s: %v", ErrUnreachable, t.Name, f.err)
			case len(f.listed) == 0:
				return fmt.Errorf("%w: %s: no replica registered; start the process that serves it", ErrUnreachable, t.Name)
			case len(f.urls) == 0:
				return fmt.Errorf("%w: %s: no replica to attack: none of the %d listed has an http(s) URL (%q)", ErrUnreachable, t.Name, len(f.listed), f.listed)
			}
			t.Replicas = f.urls
			if t.URL == "" {
				t.URL = f.urls[0]
			}
		case <-timer.C:
			return fmt.Errorf("%w: finding the replicas of the targets: no answer within %v", ErrUnreachable, timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
