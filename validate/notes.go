package validate

import (
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/reports"
	"github.com/kendallqn/kendall/topology"
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

// relaxationWindows is how many relaxation times a measurement must span
// for its mean wait to be read as the steady state's: a queue started
// empty approaches its equilibrium like e^{-t/τ}, and its time average
// over a window T lags it by about τ/T of the gap.
const relaxationWindows = 10

// RelaxationNotes warns, once, about the highest measured rate at which a
// service's queue takes too long to settle for the measurement's window:
// every measurement starts from empty queues (after its warm-up, which
// the settling outlasts), so its waits read low there. The relaxation time
// of an M/M/1 queue is 1/(μ(1 − √ρ)²) (P. M. Morse, "Stochastic
// properties of waiting lines", Operations Research 3(3), 1955; J. W.
// Cohen, The Single Server Queue, 1969, §II.2.4); a replica's c workers at
// utilization ρ are taken as one server c times faster, τ = m/(c(1 − √ρ)²)
// — an order of magnitude, which is what the warning needs (with m the
// service's own work: a worker held across calls is busy longer, and the
// warning may then stay silent). On
// examples/balancers.yaml at 90% load, τ = 7.6 s, and a 20-second window
// measured every balancer's mean 20–27% low; 60 seconds agreed within the
// run-to-run spread.
func RelaxationNotes(t *topology.Topology, r *reports.Report) []string {
	window := r.Settings.Duration
	if window <= 0 {
		return nil
	}
	for i := len(r.Points) - 1; i >= 0; i-- {
		pt := r.Points[i]
		if pt.Measurement == nil || pt.Model == nil {
			continue
		}
		worst, name := 0.0, ""
		for _, sf := range pt.Model.Services {
			s := t.Service(sf.Name)
			if s == nil || !(sf.Utilization > 0 && sf.Utilization < 1) {
				continue
			}
			gap := 1 - math.Sqrt(sf.Utilization)
			if tau := s.MeanSeconds() / (float64(s.Servers) * gap * gap); tau > worst {
				worst, name = tau, sf.Name
			}
		}
		if worst*relaxationWindows > window {
			need := time.Duration(worst * relaxationWindows * float64(time.Second)).Round(time.Second)
			return []string{fmt.Sprintf("At %s, %s's queue takes about %s to forget how it started (its relaxation time, m/(c(1 − √ρ)²), Morse 1955): the %s measured there, which starts from empty queues, spans fewer than %d of them, so its measured waits read low; --duration %s or more lets the queues settle.",
				fmtRate(pt.Rate), name, fmtSecs(worst), fmtSecs(window), relaxationWindows, need)}
		}
		return nil // the highest rate measured is settled; lower ones are more so
	}
	return nil
}
