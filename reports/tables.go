package reports

import (
	"fmt"
	"math"
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
				row = append(row, valueCell(pt.Model, e, m, false), valueCell(pt.Simulation, e, m, true), valueCell(pt.Measurement, e, m, true))
				row = append(row, diffCell(pt, e, m, Simulation), diffCell(pt, e, m, Measurement))
				t.Rows = append(t.Rows, row)
			}
		}
		tables = append(tables, t)
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

func diffCell(pt Point, entry, metric, src string) Cell {
	for _, d := range pt.Differences {
		if d.Entry == entry && d.Metric == metric && d.Source == src && !math.IsNaN(d.Relative) {
			return Cell{Text: fmt.Sprintf("%+.1f%%", 100*d.Relative), Flag: d.Drifts()}
		}
	}
	return Cell{Text: "-"}
}
