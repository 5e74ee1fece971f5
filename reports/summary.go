package reports

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/kendallqn/kendall/result"
)

// KneeFactor defines the measured knee: the lowest rate of the sweep at
// which the measured p99 is at least this many times its value at the
// lowest rate measured. Latency of a queue rises slowly, then sharply as
// utilization nears 1 (the p99 of an M/M/1 doubles between ρ = 0 and
// ρ = 0.5), so doubling marks where queueing starts to dominate.
const KneeFactor = 2

// Summary is the one-screen verdict of a report: where the model holds,
// where it drifts, and the measured knee.
func Summary(r *Report) []string {
	var lines []string
	if r.Partial {
		lines = append(lines, fmt.Sprintf("PARTIAL: the sweep stopped early; %d rate(s) finished and are reported.", len(r.Points)))
	}
	if len(r.Points) == 0 {
		return append(lines, "No rate finished: nothing to compare.")
	}
	for _, src := range []string{Simulation, Measurement} {
		if l := agreement(r, src); l != "" {
			lines = append(lines, l)
		}
	}
	lines = append(lines, approximations(r)...)
	lines = append(lines, failures(r)...)
	lines = append(lines, knees(r)...)
	return lines
}

// failures says, rate by rate, which measured requests failed or were not
// sent, and how: they are never hidden, even when too few to matter.
func failures(r *Report) []string {
	var lines []string
	for _, pt := range r.Points {
		if pt.Measurement == nil {
			continue
		}
		var parts []string
		for _, name := range r.Entries {
			e := pt.Measurement.entry(name)
			if e == nil || (e.Failed() == 0 && e.NotSent == 0) {
				continue
			}
			var what []string
			if n := e.Failed(); n > 0 {
				what = append(what, fmt.Sprintf("%d of %d requests failed (%s): %s", n, e.Sent, fmtPercent(1-*e.SuccessRatio), errorLine(e.Errors, false)))
			}
			if e.NotSent > 0 {
				what = append(what, fmt.Sprintf("%d due were not sent", e.NotSent))
			}
			prefix := ""
			if len(r.Entries) > 1 {
				prefix = name + ": "
			}
			parts = append(parts, prefix+strings.Join(what, "; "))
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("Measured at %s req/s: %s.", fmtRate(pt.Rate), strings.Join(parts, "; ")))
		}
	}
	return lines
}

// notJudged says at which rates a source was not compared with the model,
// and why, or "".
func notJudged(r *Report, src string) string {
	var parts []string
	for _, pt := range r.Points {
		for _, n := range pt.NotJudged {
			if n.Source != src {
				continue
			}
			prefix := ""
			if len(r.Entries) > 1 {
				prefix = n.Entry + ": "
			}
			parts = append(parts, fmt.Sprintf("at %s req/s (%s%s)", fmtRate(pt.Rate), prefix, n.Reason))
		}
	}
	return strings.Join(parts, "; ")
}

// agreement says at which rates the model is within DriftThreshold of a
// source on every figure, and where it drifts most.
func agreement(r *Report, src string) string {
	var holds []float64
	type worst struct {
		rate float64
		d    Difference
	}
	var drifts []worst
	compared := 0
	for _, pt := range r.Points {
		var w *Difference
		n := 0
		for i, d := range pt.Differences {
			if d.Source != src {
				continue
			}
			n++
			if w == nil || math.Abs(d.Relative) > math.Abs(w.Relative) {
				w = &pt.Differences[i]
			}
		}
		if n == 0 {
			continue
		}
		compared++
		if w.Drifts() {
			drifts = append(drifts, worst{pt.Rate, *w})
		} else {
			holds = append(holds, pt.Rate)
		}
	}
	name := map[string]string{Simulation: "simulation", Measurement: "measurement"}[src]
	skipped := notJudged(r, src)
	if compared == 0 {
		if skipped != "" {
			return fmt.Sprintf("Model vs %s: NOT JUDGED at any rate: %s.", name, skipped)
		}
		return ""
	}
	var b strings.Builder
	switch {
	case len(drifts) == 0 && skipped == "" && compared == 1:
		fmt.Fprintf(&b, "Model vs %s: holds within %.0f%% on every figure at %s.",
			name, 100*DriftThreshold, rateList(holds))
	case len(drifts) == 0 && skipped == "":
		fmt.Fprintf(&b, "Model vs %s: holds within %.0f%% on every figure at all %d rates (%s).",
			name, 100*DriftThreshold, compared, rateList(holds))
	case len(drifts) == 0:
		fmt.Fprintf(&b, "Model vs %s: holds within %.0f%% on every figure judged, at %s.",
			name, 100*DriftThreshold, rateList(holds))
	case len(holds) == 0:
		fmt.Fprintf(&b, "Model vs %s: drifts beyond %.0f%% at every rate.", name, 100*DriftThreshold)
	default:
		fmt.Fprintf(&b, "Model vs %s: holds within %.0f%% at %s; drifts at %d rate(s).",
			name, 100*DriftThreshold, rateList(holds), len(drifts))
	}
	if len(drifts) > 0 {
		sort.Slice(drifts, func(i, j int) bool { return drifts[i].rate < drifts[j].rate })
		var parts []string
		for _, w := range drifts {
			within := ""
			if w.d.WithinCI() {
				within = fmt.Sprintf(", within its ±%s", fmtSecs(w.d.OtherCI95))
			}
			parts = append(parts, fmt.Sprintf("%s %s at %s req/s off by %+.0f%% (model %s, %s %s%s)",
				w.d.Entry, metricLabel(w.d.Metric), fmtRate(w.rate), 100*w.d.Relative, fmtSecs(w.d.Model), name, fmtSecs(w.d.Other), within))
		}
		fmt.Fprintf(&b, " Worst: %s.", strings.Join(parts, "; "))
	}
	if skipped != "" {
		fmt.Fprintf(&b, " Not judged %s.", skipped)
	}
	if n, in := driftsWithinCI(r, src); n > 0 && src == Measurement {
		fmt.Fprintf(&b, " Of the %d figures beyond %.0f%%, %d lie within the 95%% run-to-run spread of a measurement this long, so the measurement cannot tell them from the model.",
			n, 100*DriftThreshold, in)
	}
	return b.String()
}

// driftsWithinCI counts the differences from src beyond DriftThreshold,
// and those of them inside src's own 95% interval.
func driftsWithinCI(r *Report, src string) (n, within int) {
	for _, pt := range r.Points {
		for _, d := range pt.Differences {
			if d.Source == src && d.Drifts() {
				n++
				if d.WithinCI() {
					within++
				}
			}
		}
	}
	return n, within
}

// knees reports, per entry, the measured knee and the model's for
// comparison.
func knees(r *Report) []string {
	var lines []string
	for _, e := range r.Entries {
		var rates, p99s []float64
		first := -1 // the point of the lowest rate measured
		for i, pt := range r.Points {
			if v, _, ok := pt.Measurement.Value(e, "p99"); ok && pt.Judged(e, Measurement) {
				if first < 0 {
					first = i
				}
				rates = append(rates, pt.Rate)
				p99s = append(p99s, v)
			}
		}
		if len(rates) < 2 {
			continue
		}
		knee := -1
		for i := 1; i < len(rates); i++ {
			if p99s[i] >= KneeFactor*p99s[0] {
				knee = i
				break
			}
		}
		if knee < 0 {
			lines = append(lines, fmt.Sprintf("Measured knee (%s): none up to %s req/s; p99 went from %s to %s.",
				e, fmtRate(rates[len(rates)-1]), fmtSecs(p99s[0]), fmtSecs(p99s[len(p99s)-1])))
			continue
		}
		line := fmt.Sprintf("Measured knee (%s): p99 doubles by %s req/s (%.0f%% of the model's max rate): %s at %s req/s, %s at %s req/s.",
			e, fmtRate(rates[knee]), 100*rates[knee]/r.MaxRate, fmtSecs(p99s[0]), fmtRate(rates[0]), fmtSecs(p99s[knee]), fmtRate(rates[knee]))
		if base, _, ok := r.Points[first].Model.Value(e, "p99"); ok {
			if mk := modelKnee(r, e, base); mk > 0 {
				line += fmt.Sprintf(" The model's own p99 doubles from that rate by %s req/s.", fmtRate(mk))
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// modelKnee is the lowest rate at which the model's p99 reaches KneeFactor
// times base (the model's own p99 at the lowest rate measured), from the
// fine grid, or 0.
func modelKnee(r *Report, entry string, base float64) float64 {
	for _, c := range r.Curve {
		if v, _, ok := c.Model.Value(entry, "p99"); ok && v >= KneeFactor*base {
			return c.Rate
		}
	}
	return 0
}

func rateList(rates []float64) string {
	parts := make([]string, len(rates))
	for i, r := range rates {
		parts[i] = fmtRate(r)
	}
	return strings.Join(parts, ", ") + " req/s"
}

// fmtPercent formats a fraction as a percentage with the digits it needs:
// 99%, 19.2%, 99.95%, 0.05%.
func fmtPercent(f float64) string {
	p := 100 * f
	switch {
	case p > 99.99 && p < 100:
		return ">99.99%" // never 100% when some failed
	case p > 0 && p < 0.01:
		return "<0.01%"
	}
	digits := 1
	if (p > 0 && p < 1) || (p > 99 && p < 100) {
		digits = 2
	}
	s := strconv.FormatFloat(p, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + "%"
}

// fmtRate formats a rate with three significant digits.
func fmtRate(r float64) string { return fmt.Sprintf("%.3g", r) }

// fmtSecs formats seconds with a unit: 315µs, 1.39ms, 2.31s.
func fmtSecs(s float64) string {
	switch a := math.Abs(s); {
	case a == 0:
		return "0"
	case a < 1e-3:
		return fmt.Sprintf("%.3gµs", s*1e6)
	case a < 1:
		return fmt.Sprintf("%.3gms", s*1e3)
	default:
		return fmt.Sprintf("%.3gs", s)
	}
}

// approximations says which of the model's end-to-end figures are
// approximate for this topology, and why (from the labels at the first
// rate: the labels do not depend on the rate).
func approximations(r *Report) []string {
	if len(r.Points) == 0 || r.Points[0].Model == nil {
		return nil
	}
	var lines []string
	for _, e := range r.Points[0].Model.Entries {
		var parts []string
		for _, fig := range []string{result.FigMean, result.FigPercentiles} {
			if l, ok := e.Labels[fig]; ok && !l.Exact {
				name := map[string]string{result.FigMean: "mean", result.FigPercentiles: "percentiles"}[fig]
				text := fmt.Sprintf("its %s (%s)", name, l.Why)
				if l.Error != "" {
					text += "; accuracy table: " + l.Error
				}
				parts = append(parts, text)
			}
		}
		if len(parts) > 0 {
			lines = append(lines, fmt.Sprintf("The model approximates %s's end-to-end figures, marked %s: %s.", e.Entry, ApproxMark, strings.Join(parts, "; ")))
		}
	}
	return lines
}
