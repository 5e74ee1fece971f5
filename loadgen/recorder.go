package loadgen

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	hdrhistogram "github.com/HdrHistogram/hdrhistogram-go"
	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/kendallqn/kendall/internal/latency"
	"github.com/kendallqn/kendall/internal/moments"
	"github.com/kendallqn/kendall/result"
)

// recorder turns the results of an attack into figures. It keeps counts and
// histograms, never the results themselves (nor their bodies), so its memory
// does not grow with the length of the run but for one small Point a second.
// It is used by one goroutine.
type recorder struct {
	start       time.Time
	warmup, end time.Duration // the measurement window, by send time: [warmup, end)
	// late is how long after a second has passed its requests may still
	// complete: the request timeout and some slack. A second's latency
	// histogram is summarized and recycled once that has passed.
	late    time.Duration
	entries []*entryRecorder
	byName  map[string]int
	aborted int64
	spare   []*hdrhistogram.Histogram // per-second histograms to reuse
	highest int64                     // of per-second histograms, ns
}

type entryRecorder struct {
	hist                *hdrhistogram.Histogram // latencies of successful requests in the window
	latency             moments.Moments         // the same, in seconds, for the exact mean
	requests, successes int64                   // in the window
	codes               map[uint16]int64
	errors              map[string]*ErrorClass // by class
	statusClasses       int                    // of errors, those of a status
	series              []second
	closed              int // series[:closed] are summarized
	received, failed    int64
}

// second is one second of the series: counts, and the latencies of the
// successful requests sent during it until it is summarized.
type second struct {
	sent, achieved int64
	ok             int64   // successful requests sent during the second
	sum            float64 // and their latencies, in seconds, for an exact mean
	hist           *hdrhistogram.Histogram
	p50, p99       float64
}

func newRecorder(names []string, start time.Time, warmup, duration, timeout time.Duration) *recorder {
	r := &recorder{
		start:   start,
		warmup:  warmup,
		end:     warmup + duration,
		late:    timeout + 2*time.Second,
		byName:  make(map[string]int, len(names)),
		highest: max(int64(2*timeout), int64(time.Second)),
	}
	for i, n := range names {
		r.byName[n] = i
		r.entries = append(r.entries, &entryRecorder{
			hist:   latency.NewHistogram(),
			codes:  map[uint16]int64{},
			errors: map[string]*ErrorClass{},
		})
	}
	return r
}

// add records one result, and err the error its transport saw, if any
// (vegeta keeps only the message). aborting says that the attack is being
// interrupted: a request that failed then was cut short by the
// interruption, not by its target, and is not counted.
func (r *recorder) add(res *vegeta.Result, err error, aborting bool) {
	i, ok := r.byName[res.Attack]
	if !ok {
		return
	}
	e := r.entries[i]
	success := res.Error == "" && res.Code >= 200 && res.Code < 400
	if aborting && !success {
		r.aborted++
		return
	}
	e.received++
	if !success {
		e.failed++
	}
	sentAt := max(res.Timestamp.Sub(r.start), 0)
	done := sentAt + res.Latency

	s := e.at(int(sentAt / time.Second))
	s.sent++
	if success {
		s.ok++
		s.sum += res.Latency.Seconds()
		if s.hist == nil && int(sentAt/time.Second) >= e.closed {
			s.hist = r.newSecondHistogram()
		}
		if s.hist != nil {
			latency.Record(s.hist, res.Latency)
		}
		e.at(int(done/time.Second)).achieved++
	}

	if sentAt >= r.warmup && sentAt < r.end {
		e.requests++
		e.codes[res.Code]++
		if success {
			e.successes++
			latency.Record(e.hist, res.Latency)
			e.latency.Add(res.Latency.Seconds())
		} else {
			e.fail(res, err)
		}
	}
	r.settle(done)
}

// fail counts a failed request in its class: that of its status if it got a
// response (vegeta records the status only once the response is complete),
// else that of its error.
func (e *entryRecorder) fail(res *vegeta.Result, err error) {
	var class string
	msg, status := res.Error, res.Code != 0
	if status {
		class = StatusClass(int(res.Code))
		if msg == "" {
			msg = class
		}
	} else {
		class = classify(err, msg)
	}
	c := e.errors[class]
	if c == nil && status && e.statusClasses >= maxStatusClasses {
		class, c = ClassOther, e.errors[ClassOther]
	}
	if c == nil {
		c = &ErrorClass{Class: class, Example: msg}
		e.errors[class] = c
		if class != ClassOther && status {
			e.statusClasses++
		}
	}
	c.Count++
}

// at returns second n of the series, growing it as needed.
func (e *entryRecorder) at(n int) *second {
	for len(e.series) <= n {
		e.series = append(e.series, second{p50: math.NaN(), p99: math.NaN()})
	}
	return &e.series[n]
}

// settle summarizes the seconds whose requests have all completed by now,
// given as time since the start.
func (r *recorder) settle(now time.Duration) {
	last := int((now - r.late) / time.Second) // seconds before this one are settled
	for _, e := range r.entries {
		for ; e.closed < last && e.closed < len(e.series); e.closed++ {
			r.summarize(&e.series[e.closed])
		}
	}
}

// settleAll summarizes every second; the run is over.
func (r *recorder) settleAll() {
	for _, e := range r.entries {
		for ; e.closed < len(e.series); e.closed++ {
			r.summarize(&e.series[e.closed])
		}
	}
}

func (r *recorder) summarize(s *second) {
	if s.hist == nil {
		return
	}
	s.p50, s.p99 = latency.Quantile(s.hist, 0.50), latency.Quantile(s.hist, 0.99)
	s.hist.Reset()
	r.spare = append(r.spare, s.hist)
	s.hist = nil
}

// newSecondHistogram returns an empty histogram for one second's latencies:
// two significant digits are plenty for a plotted series, and make it
// small (about 20 KB).
func (r *recorder) newSecondHistogram() *hdrhistogram.Histogram {
	if n := len(r.spare); n > 0 {
		h := r.spare[n-1]
		r.spare = r.spare[:n-1]
		return h
	}
	return hdrhistogram.New(1000, r.highest, 2)
}

// entry builds the figures of entry i.
func (r *recorder) entry(i int, name string, window time.Duration) EntryResult {
	e := r.entries[i]
	out := EntryResult{
		StatusCodes: make(map[string]int64, len(e.codes)),
		Successes:   e.successes,
		Requests:    e.requests,
		hist:        e.hist,
	}
	out.Entry = name
	out.Errors = make([]ErrorClass, 0, len(e.errors))
	for _, c := range e.errors {
		out.Errors = append(out.Errors, *c)
	}
	slices.SortFunc(out.Errors, func(a, b ErrorClass) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Class, b.Class))
	})
	for c, n := range e.codes {
		out.StatusCodes[strconv.Itoa(int(c))] = n
	}
	if e.requests > 0 {
		out.SuccessRatio = float64(e.successes) / float64(e.requests)
	}
	if w := window.Seconds(); w > 0 {
		out.Throughput = float64(e.successes) / w
	}
	if e.successes > 0 {
		mean := e.latency.Mean()
		out.Mean = &mean
		out.Percentiles = percentiles(e.hist)
	}
	out.Series = make([]Point, len(e.series))
	for n, s := range e.series {
		p := Point{
			Second:   n,
			Warmup:   time.Duration(n)*time.Second < r.warmup,
			Offered:  float64(s.sent),
			Achieved: float64(s.achieved),
		}
		if !math.IsNaN(s.p50) {
			p50, p99 := s.p50, s.p99
			p.P50, p.P99 = &p50, &p99
		}
		if s.ok > 0 {
			mean := s.sum / float64(s.ok)
			p.Mean, p.Successes = &mean, s.ok
		}
		out.Series[n] = p
	}
	if hw := batchMeansHalfWidth(out.Series); !math.IsNaN(hw) {
		out.MeanCI95 = &hw
	}
	return out
}

// percentiles returns the model's Levels of the values in h, in seconds.
func percentiles(h *hdrhistogram.Histogram) *result.Percentiles {
	p := &result.Percentiles{}
	for _, l := range result.Levels {
		_ = p.Set(l.Name, latency.Quantile(h, l.P))
	}
	return p
}
