package reports

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// UtilizationFigure is the utilization plot.
func UtilizationFigure(r *Report) Figure {
	return Figure{
		Name:   "utilization",
		Title:  fmt.Sprintf("%s: utilization per service against offered load", r.Topology),
		Width:  9 * vg.Inch,
		Height: 6 * vg.Inch,
	}
}

// writeUtilization draws every service's utilization against offered load:
// the model as lines, the simulation as points with 95% interval bars, and
// saturation (100%) as a dashed line; the bottleneck's line is thicker and
// named so in the legend.
func writeUtilization(dir string, r *Report) (Figure, error) {
	f := UtilizationFigure(r)
	p := newPlot(f.Title, loadLabel(r), "utilization (%)")
	maxX := 0.0
	for i, svc := range r.Services {
		c := palette[i%len(palette)]
		var model, sim plotter.XYs
		var simErr []float64
		add := func(rate float64, fig *Figures) {
			if u, _, ok := fig.Utilization(svc); ok {
				model = append(model, plotter.XY{X: rate, Y: 100 * u})
			}
		}
		if len(r.Curve) > 0 {
			for _, cp := range r.Curve {
				add(cp.Rate, cp.Model)
			}
		} else {
			for _, pt := range r.Points {
				add(pt.Rate, pt.Model)
			}
		}
		for _, pt := range r.Points {
			if u, ci, ok := pt.Simulation.Utilization(svc); ok {
				sim = append(sim, plotter.XY{X: pt.Rate, Y: 100 * u})
				simErr = append(simErr, 100*ci)
			}
			maxX = max(maxX, pt.Rate)
		}
		name, width := svc, vg.Points(1.2)
		if svc == r.Bottleneck {
			name, width = svc+" (bottleneck)", vg.Points(3)
		}
		if err := line(p, model, c, width, nil, name); err != nil {
			return f, err
		}
		if err := points(p, sim, simErr, c, draw.CircleGlyph{}, ""); err != nil {
			return f, err
		}
	}
	for _, cp := range r.Curve {
		maxX = max(maxX, cp.Rate)
	}
	if err := line(p, plotter.XYs{{X: 0, Y: 100}, {X: maxX, Y: 100}}, referenceColor, vg.Points(1), dashed, "saturation"); err != nil {
		return f, err
	}
	p.Y.Min, p.X.Min = 0, 0
	p.Y.Max = max(p.Y.Max, 105)
	return f, grid{{p}}.write(dir, f)
}
