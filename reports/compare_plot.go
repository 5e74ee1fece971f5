package reports

import (
	"fmt"
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// ComparisonFigure is the plot that sets the entries of a workload side by
// side: one colour an entry, the mean and p99 against load.
func ComparisonFigure(r *Report) Figure {
	return Figure{
		Name:   "latency-by-entry",
		Title:  fmt.Sprintf("%s: end-to-end latency of every entry against offered load", r.Topology),
		Width:  11 * vg.Inch,
		Height: 5 * vg.Inch,
	}
}

// comparisonMetrics are the statistics the comparison shows.
var comparisonMetrics = []string{"mean", "p99"}

// writeComparison draws the entries side by side, for a topology of
// several entries, such as the same service under several balancers
// (examples/balancers.yaml): in each panel, every entry in its own colour,
// the model a line, the simulation filled circles with their 95%
// intervals, the measurement open triangles. What one entry's latency
// figure shows model against simulation and measurement, this shows entry
// against entry: the design choice, with the evidence for each curve.
func writeComparison(dir string, r *Report) (Figure, error) {
	f := ComparisonFigure(r)
	g := grid{make([]*plot.Plot, len(comparisonMetrics))}
	for i, m := range comparisonMetrics {
		p := newPlot(fmt.Sprintf("%s · %s latency by entry", r.Topology, metricLabel(m)), loadLabel(r), "latency (ms)")
		for k, entry := range r.Entries {
			if err := addEntryCurves(p, r, entry, m, palette[k%len(palette)]); err != nil {
				return f, err
			}
		}
		p.Y.Min, p.X.Min = 0, 0
		g[0][i] = p
	}
	return f, g.write(dir, f)
}

// addEntryCurves adds one entry's model, simulated and measured metric in
// colour c.
func addEntryCurves(p *plot.Plot, r *Report, entry, metric string, c color.Color) error {
	var model, sim, meas plotter.XYs
	var simErr []float64
	for _, cv := range r.Curve {
		if v, _, ok := cv.Model.Value(entry, metric); ok {
			model = append(model, plotter.XY{X: cv.Rate, Y: ms(v)})
		}
	}
	for _, pt := range r.Points {
		if len(r.Curve) == 0 {
			if v, _, ok := pt.Model.Value(entry, metric); ok {
				model = append(model, plotter.XY{X: pt.Rate, Y: ms(v)})
			}
		}
		if v, ci, ok := pt.Simulation.Value(entry, metric); ok {
			sim = append(sim, plotter.XY{X: pt.Rate, Y: ms(v)})
			simErr = append(simErr, ms(ci))
		}
		if v, _, ok := pt.Measurement.Value(entry, metric); ok && pt.Judged(entry, Measurement) {
			meas = append(meas, plotter.XY{X: pt.Rate, Y: ms(v)})
		}
	}
	if err := line(p, model, c, vg.Points(1.5), nil, entry+": model"); err != nil {
		return err
	}
	if err := points(p, sim, simErr, c, draw.CircleGlyph{}, entry+": simulation"); err != nil {
		return err
	}
	return points(p, meas, nil, c, draw.TriangleGlyph{}, entry+": measured")
}
