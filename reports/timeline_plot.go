package reports

import (
	"fmt"
	"math"

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
// but static: p50 and p99 latency of each entry above, the offered and
// achieved rates below, against the same time axis, with the requested
// rate as a dashed line.
func writeTimeline(dir string, r *Report, i int) (Figure, error) {
	f := TimelineFigure(r, i)
	lat := newPlot(f.Title, "time since start (s)", "latency (ms)")
	rates := newPlot("", "time since start (s)", "rate (req/s)")
	rates.Legend.Top = false // the rates run along the top
	start, end := math.Inf(1), 0.0
	for k, tl := range r.Points[i].Timelines {
		name := ""
		if len(r.Points[i].Timelines) > 1 {
			name = tl.Entry + " "
		}
		var p50, p99, offered, achieved plotter.XYs
		for j := 0; j < min(len(tl.Seconds), len(tl.P50), len(tl.P99)); j++ {
			p50 = append(p50, plotter.XY{X: tl.Seconds[j], Y: ms(tl.P50[j])})
			p99 = append(p99, plotter.XY{X: tl.Seconds[j], Y: ms(tl.P99[j])})
		}
		for j := 0; j < min(len(tl.Seconds), len(tl.Offered), len(tl.Achieved)); j++ {
			offered = append(offered, plotter.XY{X: tl.Seconds[j], Y: tl.Offered[j]})
			achieved = append(achieved, plotter.XY{X: tl.Seconds[j], Y: tl.Achieved[j]})
		}
		if n := len(tl.Seconds); n > 0 {
			start, end = min(start, tl.Seconds[0]), max(end, tl.Seconds[n-1]+1)
		}
		c50, c99 := palette[(2*k)%len(palette)], palette[(2*k+1)%len(palette)]
		if err := line(lat, p50, c50, vg.Points(1.5), nil, name+"p50"); err != nil {
			return f, err
		}
		if err := line(lat, p99, c99, vg.Points(1.5), nil, name+"p99"); err != nil {
			return f, err
		}
		if err := line(rates, offered, c50, vg.Points(1.5), nil, name+"offered"); err != nil {
			return f, err
		}
		if err := line(rates, achieved, c99, vg.Points(1.5), dashed, name+"achieved"); err != nil {
			return f, err
		}
	}
	if end > 0 {
		requested := r.Points[i].Rate
		label := "requested"
		if len(r.Points[i].Timelines) > 1 {
			label = "requested, all entries"
		}
		if err := line(rates, plotter.XYs{{X: start, Y: requested}, {X: end, Y: requested}}, palette[6], vg.Points(1), dashed, label); err != nil {
			return f, err
		}
		// One time axis for both panels: the measured seconds.
		lat.X.Min, lat.X.Max = start, end
		rates.X.Min, rates.X.Max = start, end
	}
	lat.Y.Min, rates.Y.Min = 0, 0
	return f, grid{{lat}, {rates}}.write(dir, f)
}
