package conformance

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/result"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// The measured cases run as real HTTP services on loopback for a few
// seconds, measureCopies side by side (see TestMeasured).
const (
	measureWarmup = time.Second
	measureWindow = 5 * time.Second
	emulateSeed   = 7  // the service times and the calls' coin flips
	attackSeed    = 11 // the arrival times
	// measureMaxLag is how far behind its schedule the load generator may
	// send a request (99% of them, and all but 0.1% or three) for the run to
	// be trustworthy. loadgen's default, 10 ms, is for measurements judged
	// to a few per cent; a busy 2-core machine stalls a process for 20 to
	// 100 ms now and then (with the load average near 10: a CPU hog, and
	// other tests), and at 10 or 25 ms half the attempts were not
	// trustworthy. What a stall of L does to the figures judged here: the
	// sends due during it go out late, measured from their actual send, and
	// the requests in flight (about 3 per copy) take up to L longer. With
	// 99% of the sends within 50 ms, a few stalls in a run of 5 seconds
	// move a mean by about a millisecond: a fraction of the standard
	// deviation of a run that long (4 ms and more), within the slack that
	// overheadPerVisit already allows.
	measureMaxLag = 50 * time.Millisecond
	// spreadRuns is the number of simulated runs from which the run-to-run
	// spread of a measurement is estimated: with 100, the standard deviation
	// is known to about ±7% and the bound is a t quantile with 99 degrees of
	// freedom, close to the normal one.
	spreadRuns = 100
	// measureFalseAlarm is, as caseFalseAlarm for the simulator, the
	// probability that a measured case fails when the emulation is right
	// and the fixed seeds' sample path is typical (see TestMeasured).
	measureFalseAlarm = 1e-6
)

// measureCopies is the number of copies of a measured case emulated side
// by side. Each copy is an independent sample of the same queues, so k
// copies divide the run-to-run spread by √k at the cost of k times the CPU.
// Under the race detector a request costs about four times the CPU (the
// loopback round trip of loadgen/integration_test.go: 0.37 ms, 1.04 ms
// under the race detector), so fewer copies keep the load generator on
// schedule on a busy 2-core machine, where a process that asks for less CPU
// is scheduled sooner: 4 copies of mm2-rho070 are 280 requests a second,
// 2 under the race detector 140.
var measureCopies = map[bool]int{false: 4, true: 2}[raceEnabled]

// overheadPerVisit bounds what real HTTP adds to each visit of a request,
// which the reference leaves out: the round trip on loopback, the
// handler's scheduling, and the timer's lateness (loadgen's timer.go). It
// was 0.4 ms a visit on the 2-core development machine, busy, and 0.8 to
// 1.3 ms under the race detector (loadgen/integration_test.go); the bound
// is about twice as much, 2 ms and 4 ms. It only ever adds latency, so it widens the bound
// on one side: a measured figure may exceed the reference by the figure's
// most visits times this, before its z-score counts. With service times of
// tens of milliseconds it is a small part of that bound (TestMeasured logs
// both).
var overheadPerVisit = map[bool]time.Duration{false: 2 * time.Millisecond, true: 4 * time.Millisecond}[raceEnabled]

// TestMeasured emulates each case that has figures marked for the
// emulation, attacks it with Poisson arrivals for a few seconds, and judges
// each such figure by its z-score: its distance from the reference over
// the run-to-run standard deviation of a measurement that long.
//
// The spread. A run of a few seconds meets few busy periods, so its mean
// and percentiles scatter widely from run to run (a few hundred requests
// of M/M/2 at 0.7: 25% of the mean). How widely is computed, not assumed:
// the simulator runs spreadRuns independent runs of one copy, each of the
// requests one copy measured, and the standard deviation of their
// estimates is s = h·√R / t_{R−1,0.975}, h the 95% half-width of their
// mean (sim/doc.go; validate.SpreadOf makes the same step with R = 20). The
// measured figure pools k copies, independent samples, so its standard
// deviation is s/√k (a mean of k means; for a percentile, its asymptotic
// linearity). Then (measured − reference)/(s/√k) is Student t with R − 1
// degrees of freedom, and each of a case's m figures is judged at level
// 1 − measureFalseAlarm/m (Bonferroni).
//
// The seeds. The arrival times, service times and coin flips are fixed
// by seeds, so the sample path is the same on every run: its own deviation
// from the reference is one draw of the spread, a constant, logged as the
// z-score. What varies from run to run is the emulation's error: the HTTP
// overhead, bounded by overheadPerVisit, and the jitter of a busy machine.
// A bound of several standard deviations leaves room for both; it cannot
// be a fixed percentage, which a run of this length would exceed by
// chance.
//
// A run that the load generator marks not trustworthy (it fell behind its
// schedule or did not send every request), or with any failed request or
// call, is not judged: the machine could not run the measurement, and its
// figures would be judged on something else than the topology. It is made
// again, and if no attempt of measureAttempts is trustworthy the test
// fails, saying so.
func TestMeasured(t *testing.T) {
	if testing.Short() {
		t.Skip("emulates real services for several seconds each")
	}
	for _, c := range loadCases(t) {
		if !c.measured() {
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			var checks []figure
			for _, f := range c.figures {
				if f.emulation {
					if f.scope != "entry" {
						t.Fatalf("%s: only end-to-end figures are measured (line %d)", f, f.line)
					}
					checks = append(checks, f)
				}
			}
			k := measureCopies
			copies, err := replicate(c.topo, k)
			if err != nil {
				t.Fatal(err)
			}
			m, err := measureTrustworthy(t, copies)
			if err != nil {
				t.Fatal(err)
			}

			level := 1 - measureFalseAlarm/float64(len(checks))
			for _, e := range c.topo.Workload {
				pooled, n := pool(m, e.Entry, k)
				if n < 100*int64(k) {
					t.Fatalf("entry %s: %d requests in %d copies; the window is too short for the rate", e.Entry, n, k)
				}
				sd, err := spread(t.Context(), c, e.Entry, n/int64(k), k)
				if err != nil {
					t.Fatal(err)
				}
				tL := moments.StudentT(spreadRuns-1, (1+level)/2)
				slack := time.Duration(maxVisits(c.topo, e.Entry)) * overheadPerVisit
				for _, f := range checks {
					if f.name != e.Entry {
						continue
					}
					got := pooled.figure(f.statistic)
					d := got - f.value
					adj := d
					if d > 0 { // HTTP only adds latency: forgive up to the slack, on this side
						adj = max(0, d-slack.Seconds())
					}
					z, za := d/sd[f.statistic], adj/sd[f.statistic]
					t.Logf("%-12s measured %.4g  reference %.4g  %+.1f%%  sd of a run %.2g (%.1f%%): z %+.2f, less HTTP overhead up to %v: %+.2f (bound %.2f)",
						f, got, f.value, 100*d/f.value, sd[f.statistic], 100*sd[f.statistic]/f.value, z, slack, za, tL)
					if !(math.Abs(za) <= tL) {
						t.Errorf("%s: measured %.4g against the reference %.4g (%s, line %d): z-score %+.2f beyond ±%.2f, after up to %v of HTTP overhead (the run-to-run sd of %d copies of %d requests is %.3g)",
							f, got, f.value, f.source, f.line, za, tL, slack, k, n/int64(k), sd[f.statistic])
					}
				}
			}
		})
	}
}

// measureAttempts is how many times a measurement is made before the test
// gives up on the machine: a run that the load generator marks not
// trustworthy, or with a failed request, measured the machine's stalls,
// not the topology, and is made again (with the same seeds, so the same
// sample path); only a trustworthy run without failures is judged.
const measureAttempts = 5

// measureTrustworthy emulates and attacks topo until a run is trustworthy
// and has no failed request, at most measureAttempts times; it fails the
// test, saying why, when none is.
func measureTrustworthy(t *testing.T, topo *topology.Topology) (*measurement, error) {
	var why []string
	for attempt := 1; attempt <= measureAttempts; attempt++ {
		m, err := emulateAndAttack(t.Context(), topo, measureWarmup, measureWindow)
		if err != nil {
			return nil, err
		}
		t.Logf("attempt %d: %v warm-up, %v window: %d requests, %d succeeded; %s", attempt, measureWarmup, measureWindow, m.requests, m.successes, m.run)
		switch {
		case !m.trustworthy:
			why = append(why, fmt.Sprintf("attempt %d: the load generator marks the run not trustworthy: %s", attempt, strings.Join(m.warnings, "; ")))
		case m.successes != m.requests || m.notSent > 0 || m.callErrors > 0:
			why = append(why, fmt.Sprintf("attempt %d: %d of %d requests failed, %d were not sent, %d calls between services failed",
				attempt, m.requests-m.successes, m.requests, m.notSent, m.callErrors))
		default:
			return m, nil
		}
		t.Log(why[len(why)-1])
	}
	return nil, fmt.Errorf("this machine could not run the measurement (%d attempts): %s", measureAttempts, strings.Join(why, "\n"))
}

// pooledEntry is what the copies of one entry measured, pooled.
type pooledEntry struct {
	hist *hdrhistogram.Histogram
	mean float64
}

func (p pooledEntry) figure(stat string) float64 {
	if stat == "mean" {
		return p.mean
	}
	return latency.Quantile(p.hist, result.LevelOf(stat))
}

// pool merges the latencies of the k copies of an entry.
func pool(m *measurement, entry string, k int) (pooledEntry, int64) {
	h := latency.NewHistogram()
	var sum float64
	var n int64
	for i := range k {
		e := m.entries[copyName(entry, i)]
		h.Merge(e.hist)
		sum += e.mean * float64(e.successes)
		n += e.successes
	}
	return pooledEntry{hist: h, mean: sum / float64(n)}, n
}

// spread returns, for each statistic of an entry, the run-to-run standard
// deviation of its estimate pooled over k copies of n requests each:
// spreadRuns simulated runs of n requests, their sample standard deviation
// s recovered from the 95% half-width h of their mean as h·√R/t_{R−1,0.975},
// divided by √k.
func spread(ctx context.Context, c *conformanceCase, entry string, n int64, k int) (map[string]float64, error) {
	res, err := sim.Run(ctx, c.topo, sim.Options{Requests: n * spreadRuns, Replications: spreadRuns, Seed: simSeed(c) + 1})
	if err != nil {
		return nil, err
	}
	e := res.Entries[entryIndex(c.topo, entry)]
	if e.CI95 == nil {
		return nil, fmt.Errorf("entry %s: the spread's runs have no interval", entry)
	}
	scale := math.Sqrt(spreadRuns) / moments.StudentT(spreadRuns-1, 0.975) / math.Sqrt(float64(k))
	out := map[string]float64{"mean": e.CI95.Mean * scale}
	for _, l := range result.Levels {
		h, _ := e.CI95.Percentiles.Get(l.Name)
		out[l.Name] = h * scale
	}
	return out, nil
}

// maxVisits is the most visits on the way of a request at entry: its own
// and, for every call that may be made, count times the callee's; for a
// group of parallel calls, the most of one of its calls.
func maxVisits(topo *topology.Topology, entry string) int {
	s := topo.Service(entry)
	n := 1
	for _, c := range s.Calls {
		if c.Group != nil {
			// The calls of a group run side by side: the latency waits
			// for some of them, each no slower than the slowest.
			most := 0
			for _, b := range c.Group.Calls {
				if b.Probability > 0 {
					most = max(most, b.Count*maxVisits(topo, b.To))
				}
			}
			n += most
			continue
		}
		if c.Probability > 0 {
			n += c.Count * maxVisits(topo, c.To)
		}
	}
	return n
}

// copyName is the name of the i-th copy of a service.
func copyName(service string, i int) string { return fmt.Sprintf("%s#%d", service, i+1) }

// replicate returns k independent copies of topo side by side: every
// service and entry once per copy, named by copyName, each copy calling
// only its own services.
func replicate(topo *topology.Topology, k int) (*topology.Topology, error) {
	var workload []topology.Workload
	var services []*topology.Service
	for i := range k {
		for _, w := range topo.Workload {
			workload = append(workload, topology.Workload{Entry: copyName(w.Entry, i), Rate: w.Rate})
		}
		for _, s := range topo.Services {
			cp := *s
			cp.Name = copyName(s.Name, i)
			cp.Listen = "" // a free port: copies cannot share an address
			cp.Calls = nil
			for _, call := range s.Calls {
				if call.Group != nil {
					g := *call.Group
					g.Calls = nil
					for _, b := range call.Group.Calls {
						b.To = copyName(b.To, i)
						g.Calls = append(g.Calls, b)
					}
					call.Group = &g
				} else {
					call.To = copyName(call.To, i)
				}
				cp.Calls = append(cp.Calls, call)
			}
			services = append(services, &cp)
		}
	}
	return topology.New(fmt.Sprintf("%s × %d", topo.Name, k), workload, services)
}

// measurement is what one attack on an emulated topology measured, in the
// suite's own terms, so that only emulateAndAttack knows the emulation's
// API.
type measurement struct {
	entries                      map[string]measuredEntry // by entry
	requests, successes, notSent int64
	callErrors                   int64 // calls between the emulated services that failed
	trustworthy                  bool
	warnings                     []string
	run                          string // how the run went, in words, for the log
}

type measuredEntry struct {
	successes int64
	mean      float64 // of the successful requests
	hist      *hdrhistogram.Histogram
}

// emulateAndAttack serves topo as real HTTP services on loopback and sends
// its workload to them, Poisson arrivals at the workload's rates, for
// warmup and then window, the seeds fixed; it returns what the window
// measured. This is the one place that calls the emulation.
func emulateAndAttack(ctx context.Context, topo *topology.Topology, warmup, window time.Duration) (*measurement, error) {
	em, err := emulate.Start(ctx, topo, emulate.Options{Seed: emulateSeed})
	if err != nil {
		return nil, err
	}
	defer em.Close()
	targets, err := loadgen.TargetsAtReplicas(topo, em.URLs)
	if err != nil {
		return nil, err
	}
	res, err := loadgen.Attack(ctx, targets, loadgen.Options{Duration: window, Warmup: warmup, Seed: attackSeed, MaxLag: measureMaxLag})
	if err != nil {
		return nil, err
	}
	m := &measurement{
		entries:     map[string]measuredEntry{},
		requests:    res.Run.Requests,
		successes:   res.Run.Successes,
		notSent:     res.Run.NotSent + res.Run.NotSentWarmup,
		trustworthy: res.Run.Trustworthy,
		warnings:    res.Run.Warnings,
		run: fmt.Sprintf("rate %.1f of %.1f req/s, max lag %.2fms (p99 %.2fms), trustworthy %v",
			res.Run.RateAchieved, res.Run.RateRequested, res.Run.MaxLag*1e3, res.Run.LagP99*1e3, res.Run.Trustworthy),
	}
	for _, e := range res.Entries {
		me := measuredEntry{successes: e.Successes, hist: e.Histogram()}
		if e.Mean != nil {
			me.mean = *e.Mean
		}
		m.entries[e.Entry] = me
	}
	for _, s := range em.Stats() {
		m.callErrors += s.CallErrors
	}
	return m, nil
}
