package reports

import (
	"fmt"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// TimelineFigure is the over-time plot of the measured run at one point.
func TimelineFigure(r *Report, i int) Figure {
	rate := r.Points[i].Rate
	return Figure{
		Name:   fmt.Sprintf("timeline-%02d-%.0frps", i+1, rate),
		Title:  fmt.Sprintf("%s: measured run at %.4g req/s, second by second", r.Topology, rate),
		Width:  9 * vg.Inch,
		Height: 6 * vg.Inch,
	}
}

// writeTimeline draws a measured run second by second, as vegeta plot does
// but static: p50 and p99 latency above, the offered and achieved rates
// below, against the same time axis.
func writeTimeline(dir string, r *Report, i int) (Figure, error) {
	f := TimelineFigure(r, i)
	tl := r.Points[i].Timeline
	lat := newPlot(f.Title, "time since start (s)", "latency (ms)")
	rates := newPlot("", "time since start (s)", "rate (req/s)")
	rates.Legend.Top = false // the rates run along the top
	var p50, p99, offered, achieved plotter.XYs
	n := min(len(tl.Seconds), len(tl.P50), len(tl.P99))
	for k := 0; k < n; k++ {
		p50 = append(p50, plotter.XY{X: tl.Seconds[k], Y: ms(tl.P50[k])})
		p99 = append(p99, plotter.XY{X: tl.Seconds[k], Y: ms(tl.P99[k])})
	}
	for k := 0; k < min(len(tl.Seconds), len(tl.Offered), len(tl.Achieved)); k++ {
		offered = append(offered, plotter.XY{X: tl.Seconds[k], Y: tl.Offered[k]})
		achieved = append(achieved, plotter.XY{X: tl.Seconds[k], Y: tl.Achieved[k]})
	}
	if err := line(lat, p50, palette[0], vg.Points(1.5), nil, "p50"); err != nil {
		return f, err
	}
	if err := line(lat, p99, palette[1], vg.Points(1.5), nil, "p99"); err != nil {
		return f, err
	}
	if err := line(rates, offered, palette[2], vg.Points(1.5), nil, "offered"); err != nil {
		return f, err
	}
	if err := line(rates, achieved, palette[3], vg.Points(1.5), dashed, "achieved"); err != nil {
		return f, err
	}
	if len(tl.Seconds) > 0 {
		requested := r.Points[i].Rate
		end := tl.Seconds[len(tl.Seconds)-1] + 1
		if err := line(rates, plotter.XYs{{X: 0, Y: requested}, {X: end, Y: requested}}, palette[6], vg.Points(1), dashed, "requested"); err != nil {
			return f, err
		}
	}
	lat.Y.Min, rates.Y.Min = 0, 0
	return f, grid{{lat}, {rates}}.write(dir, f)
}
