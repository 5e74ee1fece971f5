package validate

import (
	"fmt"
	"strconv"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
)

// OverheadNotes estimates, per entry, what the model leaves out of a real
// request: at the lowest rate judged, where queueing is least, the excess
// of the measured mean over the simulated one, per visit the request makes
// (HTTP and scheduling). It is said only when the measurement is above the
// simulation by more than the two intervals together.
func OverheadNotes(n *model.Network, r *reports.Report) []string {
	var notes []string
	for e, entry := range r.Entries {
		for i, pt := range r.Points {
			if !pt.Judged(entry, reports.Measurement) {
				continue
			}
			mv, mci, ok1 := pt.Measurement.Value(entry, "mean")
			sv, sci, ok2 := pt.Simulation.Value(entry, "mean")
			if !ok1 || !ok2 {
				continue
			}
			if d := mv - sv; d > mci+sci {
				var visits float64
				for _, v := range n.Visits(e) {
					visits += v
				}
				where := "the lowest rate measured"
				if i > 0 {
					where = "the lowest rate with both a simulation and a measurement judged"
				}
				what := "the cost of HTTP on loopback and of scheduling"
				if r.Settings.Target == "endpoints" {
					what = "the network, HTTP and whatever else the real services do"
				}
				notes = append(notes, fmt.Sprintf("At %s, %s, %s's measured mean is %s above the simulation's: about %s per visit over its %.3g visits per request, %s, which the model leaves out.",
					fmtRate(pt.Rate), where, entry, fmtSecs(d), fmtSecs(d/visits), visits, what))
			}
			break // the lowest such rate only
		}
	}
	return notes
}

// fmtSecs writes seconds with three significant digits and a unit.
func fmtSecs(s float64) string {
	v, _ := strconv.ParseFloat(strconv.FormatFloat(s, 'g', 3, 64), 64)
	return time.Duration(v * 1e9).String()
}
