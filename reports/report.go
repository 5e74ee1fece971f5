package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/kendallqn/kendall/result"
)

// Version is the version of the report.json schema this package writes.
const Version = 1

// Sources of figures, in the order reports show them.
const (
	Model       = "model"
	Simulation  = "simulation"
	Measurement = "measurement"
)

// Metrics are the end-to-end statistics a report compares, in order.
var Metrics = []string{"mean", "p50", "p90", "p95", "p99", "p999"}

// DriftThreshold is the relative difference beyond which a report
// highlights a figure: the model is said to drift from the other source.
const DriftThreshold = 0.10

// Report is everything one validation produced: the topology's three views
// at each rate of a sweep. It is saved as report.json, from which every
// plot and table can be drawn again.
type Report struct {
	Version    int       `json:"version"`
	Topology   string    `json:"topology"`
	File       string    `json:"file"`
	Created    time.Time `json:"created"`
	MaxRate    float64   `json:"max_rate"` // the model's saturation rate
	Bottleneck string    `json:"bottleneck"`
	Entries    []string  `json:"entries"`  // workload entries, in order
	Services   []string  `json:"services"` // in file order
	Settings   Settings  `json:"settings"`
	// Partial is set when the run was interrupted: Points holds only the
	// rates that finished.
	Partial bool    `json:"partial"`
	Points  []Point `json:"points"` // one per rate, in increasing rate
	// Curve is the model on a fine grid of rates, for smooth lines.
	Curve []CurvePoint `json:"model_curve,omitempty"`
	// Distribution holds the end-to-end complementary CDFs at one rate.
	Distribution *Distribution `json:"distribution,omitempty"`
	Notes        []string      `json:"notes,omitempty"`
}

// Settings records how the figures were produced.
type Settings struct {
	Duration  float64 `json:"duration"`  // seconds of measurement per rate
	Warmup    float64 `json:"warmup"`    // seconds excluded at the start of each measurement
	Precision float64 `json:"precision"` // simulation's target relative half-width
	Seed      uint64  `json:"seed"`
	Target    string  `json:"target"` // what was measured: "emulation", "endpoints", or "none"
	// MinSuccess is the smallest fraction of a measurement's requests that
	// must succeed for it to judge the model (0.99: 99%); below it the
	// measurement is reported but not compared (Point.NotJudged).
	MinSuccess float64 `json:"min_success"`
}

// Point is one rate of the sweep.
type Point struct {
	Rate        float64  `json:"rate"`     // offered total, requests per second
	Fraction    float64  `json:"fraction"` // of the model's max rate
	Model       *Figures `json:"model"`
	Simulation  *Figures `json:"simulation,omitempty"`
	Measurement *Figures `json:"measurement,omitempty"`
	// Timelines are the measured run second by second, one per entry.
	Timelines []Timeline `json:"timelines,omitempty"`
	// Differences compares the model with the other sources.
	Differences []Difference `json:"relative_differences"`
	// NotJudged lists the figures at this rate that are reported but not
	// compared with the model, and why (see Judge).
	NotJudged []NotJudged `json:"not_judged,omitempty"`
}

// NotJudged is an entry whose figures from one source are not compared
// with the model at one rate: its measurement failed too often, or the load
// generator did not keep its schedule.
type NotJudged struct {
	Entry  string `json:"entry"`
	Source string `json:"source"`
	Reason string `json:"reason"`
}

// CurvePoint is the model at one rate of the fine grid.
type CurvePoint struct {
	Rate  float64  `json:"rate"`
	Model *Figures `json:"model"`
}

// Figures is what one source says at one rate.
type Figures struct {
	Stable   bool             `json:"stable"`
	Entries  []EntryFigures   `json:"entries"`
	Services []ServiceFigures `json:"services,omitempty"`
	// Run describes the run that produced them (requests, replications,
	// success ratio, lag...), free-form.
	Run map[string]any `json:"run,omitempty"`
}

// EntryFigures are the end-to-end statistics of one workload entry, in
// seconds, keyed by the names in Metrics; CI95 holds 95% confidence
// half-widths where the source has them.
type EntryFigures struct {
	Entry  string             `json:"entry"`
	Values map[string]float64 `json:"values"`
	CI95   map[string]float64 `json:"ci95,omitempty"`
	// Labels are the model's labels on its figures (exact or approximate,
	// and why); nil for the other sources.
	Labels result.Labels `json:"labels,omitempty"`
	// Requests is the number of requests the figures are estimated from;
	// 0 for the model, whose figures are computed. For a measurement these
	// are the successful requests: latencies are of those only.
	Requests int64 `json:"requests,omitempty"`

	// A measurement's requests: Sent during the window, the fraction of
	// them that succeeded (status 2xx or 3xx and no error), those that were
	// due but NotSent because the load generator fell behind, the status
	// codes ("0": no response) and the failures by class. Failed requests
	// are never hidden: a figure resting on the successful few of many is
	// reported with its success ratio, and is not judged below
	// Settings.MinSuccess.
	Sent         int64            `json:"sent,omitempty"`
	SuccessRatio *float64         `json:"success_ratio,omitempty"`
	NotSent      int64            `json:"not_sent,omitempty"`
	StatusCodes  map[string]int64 `json:"status_codes,omitempty"`
	Errors       []ErrorCount     `json:"errors,omitempty"`
}

// ErrorCount is one class of failed requests (reset, refused, timeout,
// status 500, ...), how many, and one message as an example.
type ErrorCount struct {
	Class   string `json:"class"`
	Count   int64  `json:"count"`
	Example string `json:"example,omitempty"`
}

// Failed is the number of requests sent that did not succeed.
func (e *EntryFigures) Failed() int64 {
	if e.SuccessRatio == nil {
		return 0
	}
	return e.Sent - int64(math.Round(*e.SuccessRatio*float64(e.Sent)))
}

// MinBeyond is the fewest requests beyond a percentile for an estimate of
// it to be compared: with fewer, the estimate is the luck of a handful of
// requests (the p99.9 of 500 requests is their maximum).
const MinBeyond = 10

// Estimable reports whether the figures' metric rests on enough requests to
// be compared: always for the mean and for computed figures, and for a
// percentile p when Requests·(1-p) >= MinBeyond.
func (e *EntryFigures) Estimable(metric string) bool {
	p, ok := levels[metric]
	return !ok || e.Requests == 0 || float64(e.Requests)*(1-p) >= MinBeyond
}

var levels = map[string]float64{"p50": 0.50, "p90": 0.90, "p95": 0.95, "p99": 0.99, "p999": 0.999}

// ServiceFigures is one service's utilization, with its 95% half-width
// where the source has one.
type ServiceFigures struct {
	Name          string  `json:"name"`
	Utilization   float64 `json:"utilization"`
	UtilizationCI float64 `json:"utilization_ci95,omitempty"`
}

// Timeline is a measured run at one entry, second by second.
type Timeline struct {
	Entry    string    `json:"entry"`
	Seconds  []float64 `json:"seconds"`  // start of each second since the attack began
	P50      []float64 `json:"p50"`      // seconds; NaN-free: a second with no response is left out
	P99      []float64 `json:"p99"`      // seconds
	Offered  []float64 `json:"offered"`  // requests sent per second
	Achieved []float64 `json:"achieved"` // responses received per second
}

// Distribution is the end-to-end complementary CDF of each source at one
// rate.
type Distribution struct {
	Rate   float64 `json:"rate"`
	Curves []Curve `json:"curves"`
}

// Curve is P(latency > t) against t (seconds) for one source and entry.
type Curve struct {
	Source string       `json:"source"`
	Entry  string       `json:"entry"`
	Points [][2]float64 `json:"points"`
}

// Difference is the relative difference (model - other)/other of one figure.
type Difference struct {
	Entry    string  `json:"entry"`
	Metric   string  `json:"metric"`
	Source   string  `json:"source"` // simulation or measurement
	Model    float64 `json:"model"`
	Other    float64 `json:"other"`
	Relative float64 `json:"relative"`
	// OtherCI95 is the other source's 95% half-width, if it has one.
	OtherCI95 float64 `json:"other_ci95,omitempty"`
}

// Drifts reports whether the difference exceeds DriftThreshold.
func (d Difference) Drifts() bool { return math.Abs(d.Relative) > DriftThreshold }

// WithinCI reports whether the model lies inside the other source's 95%
// interval: the difference may be the other's sampling error alone.
func (d Difference) WithinCI() bool {
	return d.OtherCI95 > 0 && math.Abs(d.Model-d.Other) <= d.OtherCI95
}

// Value returns the named statistic of an entry, if the source has it.
func (f *Figures) Value(entry, metric string) (v, ci float64, ok bool) {
	e := f.entry(entry)
	if e == nil {
		return 0, 0, false
	}
	v, ok = e.Values[metric]
	return v, e.CI95[metric], ok && !math.IsNaN(v) && !math.IsInf(v, 0)
}

// Estimable reports whether the source's statistic of an entry rests on
// enough requests to be compared (see EntryFigures.Estimable).
func (f *Figures) Estimable(entry, metric string) bool {
	e := f.entry(entry)
	return e != nil && e.Estimable(metric)
}

// Entry returns the figures of the named entry, or nil.
func (f *Figures) Entry(name string) *EntryFigures { return f.entry(name) }

func (f *Figures) entry(name string) *EntryFigures {
	if f == nil {
		return nil
	}
	for i := range f.Entries {
		if f.Entries[i].Entry == name {
			return &f.Entries[i]
		}
	}
	return nil
}

// Utilization returns a service's utilization, if the source has it.
func (f *Figures) Utilization(service string) (u, ci float64, ok bool) {
	if f == nil {
		return 0, 0, false
	}
	for _, s := range f.Services {
		if s.Name == service {
			return s.Utilization, s.UtilizationCI, true
		}
	}
	return 0, 0, false
}

// Judge fills p.NotJudged: the entries whose measurement at this rate is
// not to be compared with the model, because fewer than minSuccess of its
// requests succeeded (its latencies are of a lucky few, or of error pages),
// or because requests due were not sent at all (the load offered was not
// the load asked for). A run whose sends were merely late is judged; the
// report's notes say it was not trustworthy.
func (p *Point) Judge(entries []string, minSuccess float64) {
	p.NotJudged = p.NotJudged[:0]
	m := p.Measurement
	if m == nil {
		return
	}
	for _, name := range entries {
		e := m.entry(name)
		if e == nil {
			continue
		}
		var why []string
		if e.SuccessRatio != nil && *e.SuccessRatio < minSuccess {
			why = append(why, fmt.Sprintf("only %s of its %d requests succeeded, below the %s required",
				fmtPercent(*e.SuccessRatio), e.Sent, fmtPercent(minSuccess)))
		}
		if e.NotSent > 0 {
			why = append(why, fmt.Sprintf("%d requests due were not sent: the load generator fell behind", e.NotSent))
		}
		if len(why) > 0 {
			p.NotJudged = append(p.NotJudged, NotJudged{Entry: name, Source: Measurement, Reason: strings.Join(why, "; ")})
		}
	}
}

// Judged reports whether the entry's figures from source are compared with
// the model at this rate.
func (p *Point) Judged(entry, source string) bool {
	for _, n := range p.NotJudged {
		if n.Entry == entry && n.Source == source {
			return false
		}
	}
	return true
}

// Compare fills p.Differences: every metric of every entry, model against
// simulation and against measurement, where both exist, the other
// source's estimate rests on enough requests, and it is judged (Judge).
func (p *Point) Compare(entries []string) {
	p.Differences = p.Differences[:0]
	for _, other := range []struct {
		name string
		f    *Figures
	}{{Simulation, p.Simulation}, {Measurement, p.Measurement}} {
		for _, e := range entries {
			if !p.Judged(e, other.name) {
				continue
			}
			for _, m := range Metrics {
				mv, _, ok1 := p.Model.Value(e, m)
				ov, oci, ok2 := other.f.Value(e, m)
				if !ok1 || !ok2 || ov == 0 || !other.f.Estimable(e, m) {
					continue
				}
				p.Differences = append(p.Differences, Difference{
					Entry: e, Metric: m, Source: other.name, Model: mv, Other: ov, Relative: (mv - ov) / ov, OtherCI95: oci,
				})
			}
		}
	}
}

// Sort puts the points in increasing rate.
func (r *Report) Sort() {
	sort.SliceStable(r.Points, func(i, j int) bool { return r.Points[i].Rate < r.Points[j].Rate })
}

// Save writes the report as report.json in dir, through a temporary file
// renamed into place, so an interruption never leaves a torn file.
func (r *Report) Save(dir string) error {
	r.Version = Version
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding report: %w", err)
	}
	return writeAtomic(filepath.Join(dir, "report.json"), append(data, '\n'))
}

// Load reads report.json from dir.
func Load(dir string) (*Report, error) {
	path := filepath.Join(dir, "report.json")
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s: no report.json here; give the directory kendall validate wrote", dir)
	}
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a kendall report: %w", path, err)
	}
	if r.Version != Version {
		return nil, fmt.Errorf("%s: report version %d; this kendall reads version %d", path, r.Version, Version)
	}
	return &r, nil
}

// writeAtomic writes data to path by way of a temporary file in the same
// directory.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil { // CreateTemp makes it private
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Approximate reports whether the source's figure of entry is one the
// model labels approximate.
func (f *Figures) Approximate(entry, metric string) bool {
	e := f.entry(entry)
	if e == nil || e.Labels == nil {
		return false
	}
	fig := result.FigPercentiles
	if metric == "mean" {
		fig = result.FigMean
	}
	l, ok := e.Labels[fig]
	return ok && !l.Exact
}
