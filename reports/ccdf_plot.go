package reports

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// CCDFFigure is the latency distribution plot of one entry.
func CCDFFigure(r *Report, entry string) Figure {
	rate := 0.0
	if r.Distribution != nil {
		rate = r.Distribution.Rate
	}
	return Figure{
		Name:   "ccdf-" + fileSafe(entry),
		Title:  fmt.Sprintf("%s · %s: end-to-end latency distribution at %.4g req/s", r.Topology, entry, rate),
		Width:  8 * vg.Inch,
		Height: 6 * vg.Inch,
	}
}

// ccdfFloor is the lowest probability plotted: below it the curves are
// estimates from a handful of requests.
const ccdfFloor = 1e-4

// writeCCDF draws P(latency > t) against t on a log scale for each source:
// the model solid, the simulation dashed, the measurement dotted.
func writeCCDF(dir string, r *Report, entry string) (Figure, error) {
	f := CCDFFigure(r, entry)
	p := newPlot(f.Title, "latency (ms)", "P(latency > t)")
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Left = false
	styles := map[string]struct {
		color  color.Color
		dashes []vg.Length
		label  string
	}{
		Model:       {modelColor, nil, "model"},
		Simulation:  {simulationColor, []vg.Length{vg.Points(6), vg.Points(3)}, "simulation"},
		Measurement: {measurementColor, []vg.Length{vg.Points(2), vg.Points(2)}, "measured"},
	}
	if r.Distribution != nil {
		for _, src := range []string{Model, Simulation, Measurement} {
			for _, c := range r.Distribution.Curves {
				if c.Source != src || c.Entry != entry {
					continue
				}
				var xys plotter.XYs
				for _, pt := range c.Points {
					if pt[1] >= ccdfFloor && pt[1] <= 1 && !math.IsNaN(pt[0]) {
						xys = append(xys, plotter.XY{X: ms(pt[0]), Y: pt[1]})
					}
				}
				st := styles[src]
				if err := line(p, xys, st.color, vg.Points(1.5), st.dashes, st.label); err != nil {
					return f, err
				}
			}
		}
	}
	p.Y.Min, p.Y.Max = ccdfFloor, 1
	p.X.Min = 0
	return f, grid{{p}}.write(dir, f)
}
