package reports

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Table is one table of a report, the same for Markdown and HTML.
type Table struct {
	Title  string
	Header []string
	Rows   [][]Cell
}

// Cell is one table cell; Flag marks a relative difference beyond
// DriftThreshold, which both renderings highlight.
type Cell struct {
	Text string
	Flag bool
}

// FewMark marks an estimate that rests on fewer than MinBeyond requests
// beyond its percentile, and is not compared.
const FewMark = "†"

// ApproxMark marks a model figure the model only approximates for this
// topology (its label says why).
const ApproxMark = "~"

// NotJudgedMark marks a measured figure that is not compared with the
// model (Point.NotJudged): too many of its requests failed, or the load
// generator fell behind.
const NotJudgedMark = "‡"

// Tables are the report's tables: per entry, every metric at every rate from
// the three sources with the relative differences; then utilizations.
func Tables(r *Report) []Table {
	var tables []Table
	for _, e := range r.Entries {
		t := Table{
			Title:  fmt.Sprintf("%s: end-to-end latency", e),
			Header: []string{"total rate (req/s)", "% of max", "statistic", "model", "simulation ± 95% CI", "measured ± 95% run spread", "model vs simulation", "model vs measured"},
		}
		for _, pt := range r.Points {
			for _, m := range Metrics {
				row := []Cell{{Text: fmtRate(pt.Rate)}, {Text: fmt.Sprintf("%.0f%%", 100*pt.Fraction)}, {Text: metricLabel(m)}}
				meas := valueCell(pt.Measurement, e, m, true)
				if meas.Text != "-" && !pt.Judged(e, Measurement) {
					meas.Text += " " + NotJudgedMark
				}
				mc := valueCell(pt.Model, e, m, false)
				if pt.Model.Approximate(e, m) && mc.Text != "-" {
					mc.Text = ApproxMark + mc.Text
				}
				row = append(row, mc, valueCell(pt.Simulation, e, m, true), meas)
				row = append(row, diffCell(pt, e, m, Simulation), diffCell(pt, e, m, Measurement))
				t.Rows = append(t.Rows, row)
			}
		}
		tables = append(tables, t)
		if rt := requestsTable(r, e); rt != nil {
			tables = append(tables, *rt)
		}
	}

	u := Table{Title: "Utilization per service (model / simulation)", Header: []string{"service"}}
	for _, pt := range r.Points {
		u.Header = append(u.Header, fmtRate(pt.Rate)+" req/s total")
	}
	for _, s := range r.Services {
		name := s
		if s == r.Bottleneck {
			name += " (bottleneck)"
		}
		row := []Cell{{Text: name}}
		for _, pt := range r.Points {
			text := "-"
			if m, _, ok := pt.Model.Utilization(s); ok {
				text = fmt.Sprintf("%.1f%%", 100*m)
			}
			if v, ci, ok := pt.Simulation.Utilization(s); ok {
				text += fmt.Sprintf(" / %.1f%% ± %.1f", 100*v, 100*ci)
			}
			row = append(row, Cell{Text: text})
		}
		u.Rows = append(u.Rows, row)
	}
	return append(tables, u)
}

func valueCell(f *Figures, entry, metric string, withCI bool) Cell {
	v, ci, ok := f.Value(entry, metric)
	if !ok {
		if f != nil && !f.Stable {
			return Cell{Text: "unstable"}
		}
		return Cell{Text: "-"}
	}
	text := fmtSecs(v)
	if withCI && ci > 0 {
		text += " ± " + fmtSecs(ci)
	}
	if !f.Estimable(entry, metric) {
		text += " " + FewMark
	}
	return Cell{Text: text}
}

// requestsTable is, for one entry, how the measured requests ended at each
// rate: sent, succeeded, not sent, and the failures by class. nil when
// nothing was measured.
func requestsTable(r *Report, entry string) *Table {
	t := Table{
		Title:  fmt.Sprintf("%s: measured requests", entry),
		Header: []string{"total rate (req/s)", "sent", "succeeded", "success", "not sent", "status codes", "failures by class (example)", "judged"},
	}
	for _, pt := range r.Points {
		e := pt.Measurement.entry(entry)
		if e == nil || e.SuccessRatio == nil {
			continue
		}
		judged := Cell{Text: "yes"}
		for _, n := range pt.NotJudged {
			if n.Entry == entry && n.Source == Measurement {
				judged = Cell{Text: "no: " + n.Reason, Flag: true}
			}
		}
		t.Rows = append(t.Rows, []Cell{
			{Text: fmtRate(pt.Rate)},
			{Text: fmt.Sprint(e.Sent)},
			{Text: fmt.Sprint(e.Sent - e.Failed())},
			{Text: fmtPercent(*e.SuccessRatio), Flag: *e.SuccessRatio < 1},
			{Text: fmt.Sprint(e.NotSent), Flag: e.NotSent > 0},
			{Text: statusLine(e.StatusCodes)},
			{Text: errorLine(e.Errors, true)},
			judged,
		})
	}
	if len(t.Rows) == 0 {
		return nil
	}
	return &t
}

// statusLine writes status codes as "200×598, 503×2", the most frequent
// first; "0" is a request that got no response.
func statusLine(codes map[string]int64) string {
	if len(codes) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(codes))
	for k := range codes {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if codes[keys[i]] != codes[keys[j]] {
			return codes[keys[i]] > codes[keys[j]]
		}
		return keys[i] < keys[j]
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		name := k
		if k == "0" {
			name = "none"
		}
		parts[i] = fmt.Sprintf("%s×%d", name, codes[k])
	}
	return strings.Join(parts, ", ")
}

// errorLine writes failure classes as "connection refused ×700, status 500
// ×38", with an example message of each when examples is set.
func errorLine(errs []ErrorCount, examples bool) string {
	if len(errs) == 0 {
		return "-"
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = fmt.Sprintf("%s ×%d", e.Class, e.Count)
		if examples && e.Example != "" {
			parts[i] += fmt.Sprintf(" (%q)", e.Example)
		}
	}
	return strings.Join(parts, ", ")
}

func diffCell(pt Point, entry, metric, src string) Cell {
	for _, d := range pt.Differences {
		if d.Entry == entry && d.Metric == metric && d.Source == src && !math.IsNaN(d.Relative) {
			return Cell{Text: fmt.Sprintf("%+.1f%%", 100*d.Relative), Flag: d.Drifts()}
		}
	}
	if _, _, ok := pt.Measurement.Value(entry, metric); ok && src == Measurement && !pt.Judged(entry, src) {
		return Cell{Text: "not judged " + NotJudgedMark}
	}
	return Cell{Text: "-"}
}
