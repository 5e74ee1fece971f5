package reports

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// latencyMetrics are the statistics of the latency-against-load plot.
var latencyMetrics = []string{"mean", "p50", "p95", "p99"}

// LatencyFigure is the latency-against-load plot of one entry.
func LatencyFigure(r *Report, entry string) Figure {
	return Figure{
		Name:   "latency-" + fileSafe(entry),
		Title:  fmt.Sprintf("%s · %s: end-to-end latency against offered load", r.Topology, entry),
		Width:  10 * vg.Inch,
		Height: 7.5 * vg.Inch,
	}
}

// writeLatency draws, for one entry, a 2×2 grid of latency (mean, p50, p95,
// p99) against offered load: the model as a line, the simulation as points
// with 95% interval bars, the measurement as open triangles.
func writeLatency(dir string, r *Report, entry string) (Figure, error) {
	f := LatencyFigure(r, entry)
	g := grid{{nil, nil}, {nil, nil}}
	for i, m := range latencyMetrics {
		p := newPlot(fmt.Sprintf("%s · %s · %s latency", r.Topology, entry, metricLabel(m)), loadLabel(r), "latency (ms)")
		if err := addLatency(p, r, entry, m); err != nil {
			return f, err
		}
		p.Y.Min = 0
		p.X.Min = 0
		g[i/2][i%2] = p
	}
	return f, g.write(dir, f)
}

func addLatency(p *plot.Plot, r *Report, entry, metric string) error {
	var model plotter.XYs
	for _, c := range r.Curve {
		if v, _, ok := c.Model.Value(entry, metric); ok {
			model = append(model, plotter.XY{X: c.Rate, Y: ms(v)})
		}
	}
	if len(model) == 0 { // no fine grid: the model at the swept rates
		for _, pt := range r.Points {
			if v, _, ok := pt.Model.Value(entry, metric); ok {
				model = append(model, plotter.XY{X: pt.Rate, Y: ms(v)})
			}
		}
	}
	var sim, meas, unjudged plotter.XYs
	var simErr, measErr []float64
	var failed plotter.XYLabels // measured points with failed requests, annotated
	// Simulation and measurement sit a little either side of their rate,
	// so that their interval bars do not hide each other.
	nudge := 0.008 * r.MaxRate
	for _, pt := range r.Points {
		if v, ci, ok := pt.Simulation.Value(entry, metric); ok {
			sim = append(sim, plotter.XY{X: pt.Rate - nudge, Y: ms(v)})
			simErr = append(simErr, ms(ci))
		}
		if v, ci, ok := pt.Measurement.Value(entry, metric); ok {
			at := plotter.XY{X: pt.Rate + nudge, Y: ms(v)}
			if pt.Judged(entry, Measurement) {
				meas = append(meas, at)
				measErr = append(measErr, ms(ci))
			} else {
				unjudged = append(unjudged, at)
			}
			if e := pt.Measurement.entry(entry); e != nil && (e.Failed() > 0 || e.NotSent > 0) {
				label := fmt.Sprintf(" %s failed", fmtPercent(1-*e.SuccessRatio))
				if e.Failed() == 0 {
					label = fmt.Sprintf(" %d not sent", e.NotSent)
				}
				failed.XYs = append(failed.XYs, at)
				failed.Labels = append(failed.Labels, label)
			}
		}
	}
	if err := line(p, model, modelColor, vg.Points(1.5), nil, "model"); err != nil {
		return err
	}
	if err := points(p, sim, simErr, simulationColor, draw.CircleGlyph{}, "simulation (95% CI)"); err != nil {
		return err
	}
	legend, errs := "measured", []float64(nil)
	for _, e := range measErr {
		if e > 0 {
			legend, errs = "measured (95% run spread)", measErr
		}
	}
	if err := points(p, meas, errs, measurementColor, draw.TriangleGlyph{}, legend); err != nil {
		return err
	}
	// A measurement not judged (too many failures, or the generator fell
	// behind) is still shown, as a cross, so nothing measured is hidden.
	if err := points(p, unjudged, nil, referenceColor, draw.CrossGlyph{}, "measured, not judged (see summary)"); err != nil {
		return err
	}
	if len(failed.XYs) > 0 {
		l, err := plotter.NewLabels(failed)
		if err != nil {
			return err
		}
		for i := range l.TextStyle {
			l.TextStyle[i].Font.Size = vg.Points(7)
			l.TextStyle[i].Color = referenceColor
		}
		p.Add(l)
	}
	return nil
}
