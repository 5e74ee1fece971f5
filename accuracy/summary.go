package accuracy

import (
	"bytes"
	"fmt"
	"go/format"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/kendallqn/kendall/internal/numfmt"
)

// Stat sums up the relative errors of one class and metric.
type Stat struct {
	Class, Metric string
	Cases         int
	Median        float64 // median |error|
	P90           float64 // 90th percentile of |error|, nearest rank
	Worst         float64 // the error largest in magnitude, signed
	WithinCI      int     // cases whose model value is inside the simulation's interval
}

// exactClass names the figures labelled exact in the summaries: they are
// summed up too, as a check of the labels (each should be within the
// simulation's interval but for the 5% the interval misses by chance).
const exactClass = "exact (labelled so)"

// Summarize groups the rows by class and metric, and also by kind at any
// load (the class without its load band), skipping negligible waits.
func Summarize(rows []Row) []Stat {
	groups := map[[2]string][]Row{}
	for _, r := range rows {
		if r.Negligible || !(r.Sim > 0) || math.IsNaN(r.Model) {
			continue
		}
		class := r.Class
		if class == "" {
			class = exactClass
		}
		groups[[2]string{class, r.Metric}] = append(groups[[2]string{class, r.Metric}], r)
		if i := strings.LastIndexByte(class, '/'); i >= 0 {
			any := class[:i] + "/any load"
			groups[[2]string{any, r.Metric}] = append(groups[[2]string{any, r.Metric}], r)
		}
	}
	var stats []Stat
	for k, rs := range groups {
		stats = append(stats, stat(k[0], k[1], rs))
	}
	slices.SortFunc(stats, func(a, b Stat) int {
		if c := strings.Compare(a.Class, b.Class); c != 0 {
			return c
		}
		return metricOrder(a.Metric) - metricOrder(b.Metric)
	})
	return stats
}

// ByShape sums up the end-to-end figures by shape and metric (the Stat's
// Class is the shape).
func ByShape(rows []Row) []Stat {
	groups := map[[2]string][]Row{}
	for _, r := range rows {
		if r.Service != "" || !(r.Sim > 0) {
			continue
		}
		k := [2]string{string(r.Case.Shape), r.Metric}
		groups[k] = append(groups[k], r)
	}
	var stats []Stat
	for _, sh := range Shapes {
		for _, m := range []string{"mean", "p50", "p99", "p999"} {
			if rs := groups[[2]string{string(sh), m}]; len(rs) > 0 {
				stats = append(stats, stat(string(sh), m, rs))
			}
		}
	}
	return stats
}

// Dimension is one value of one of the grid's dimensions (a shape, a
// distribution, a number of workers, a load) with the summary of the
// end-to-end figures of every case that has it, metric by metric.
type Dimension struct {
	Name  string // "shape", "service time", "workers", "load"
	Value string
	Stats map[string]Stat // by metric: mean, p50, p99, p999
}

// ByDimension sums up the end-to-end figures, exact or not, along each
// dimension of the grid in turn: what a user of that shape, distribution,
// pool size or load can expect of the model.
func ByDimension(rows []Row) []Dimension {
	metrics := []string{"mean", "p50", "p99", "p999"}
	var out []Dimension
	add := func(name, value string, keep func(Case) bool) {
		d := Dimension{Name: name, Value: value, Stats: map[string]Stat{}}
		for _, m := range metrics {
			var rs []Row
			for _, r := range rows {
				if r.Service == "" && r.Sim > 0 && r.Metric == m && keep(r.Case) {
					rs = append(rs, r)
				}
			}
			if len(rs) > 0 {
				d.Stats[m] = stat(value, m, rs)
			}
		}
		if len(d.Stats) > 0 {
			out = append(out, d)
		}
	}
	for _, sh := range Shapes {
		add("shape", string(sh), func(c Case) bool { return c.Shape == sh })
	}
	for _, dist := range Distributions {
		add("service time", distName(dist), func(c Case) bool { return c.Distribution == dist })
	}
	for _, n := range Servers {
		add("workers", fmt.Sprint(n), func(c Case) bool { return c.Servers == n })
	}
	for _, l := range Loads {
		add("load", fmt.Sprintf("%.0f%%", 100*l), func(c Case) bool { return c.Load == l })
	}
	return out
}

// WriteDimensions writes ByDimension as one Markdown table, each cell the
// median absolute error and the error 90% of the cases are within; the
// README quotes it.
func WriteDimensions(w io.Writer, rows []Row) error {
	var b strings.Builder
	b.WriteString("| along | value | cases | mean | p50 | p99 | p99.9 |\n| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, d := range ByDimension(rows) {
		fmt.Fprintf(&b, "| %s | %s | %d |", d.Name, d.Value, d.Stats["mean"].Cases)
		for _, m := range []string{"mean", "p50", "p99", "p999"} {
			st, ok := d.Stats[m]
			if !ok {
				b.WriteString(" – |")
				continue
			}
			fmt.Fprintf(&b, " %s / %s |", pct(st.Median), pct(st.P90))
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func stat(class, metric string, rows []Row) Stat {
	s := Stat{Class: class, Metric: metric, Cases: len(rows)}
	abs := make([]float64, len(rows))
	for i, r := range rows {
		e := r.Error()
		abs[i] = math.Abs(e)
		if abs[i] > math.Abs(s.Worst) {
			s.Worst = e
		}
		if r.WithinCI() {
			s.WithinCI++
		}
	}
	slices.Sort(abs)
	s.Median = median(abs)
	s.P90 = abs[int(math.Ceil(0.9*float64(len(abs))))-1]
	return s
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func metricOrder(m string) int {
	return slices.Index([]string{"mean", "mean_wait", "mean_response", "p50", "p99", "p999"}, m)
}

// WriteGo writes the summary as model/accuracy_gen.go: the table the
// labels quote. Figures labelled exact are left out: their labels quote no
// error.
func WriteGo(w io.Writer, stats []Stat, command string) error {
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by %s; DO NOT EDIT.\n\n", command)
	b.WriteString("package model\n\n")
	b.WriteString("// accuracyTable is the accuracy table's summary by class and metric\n")
	b.WriteString("// (accuracy.go): the relative errors of the model against the simulator.\n")
	b.WriteString("var accuracyTable = map[string]accuracyStat{\n")
	for _, s := range stats {
		if s.Class == exactClass {
			continue
		}
		fmt.Fprintf(&b, "\t%q: {Cases: %d, Median: %.4f, P90: %.4f, Worst: %.4f},\n", s.Class+"|"+s.Metric, s.Cases, s.Median, s.P90, s.Worst)
	}
	b.WriteString("}\n")
	src, err := format.Source(b.Bytes())
	if err != nil {
		return err
	}
	_, err = w.Write(src)
	return err
}

// Report is what WriteMarkdown writes about.
type Report struct {
	Command  string        // how to make it again
	Elapsed  time.Duration // how long this run took
	Workers  int
	Requests int64 // per case at 30% load
	Rows     []Row
	Stats    []Stat
	// Remodeled says the model's figures were recomputed (Remodel) after
	// the simulations, on the model as it is now.
	Remodeled bool
}

// WriteMarkdown writes the table: the summary by class, then every row.
func WriteMarkdown(w io.Writer, r Report) error {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	cases := map[string]bool{}
	for _, row := range r.Rows {
		cases[row.Case.Name()] = true
	}
	p("# Accuracy of the model against the simulator\n\n")
	p("Generated by `%s`; do not edit. %d cases, %d figures; the simulator ran %s measured requests per case at 30%% load, twice that at 70%% and four times at 90%%, in 10 independent replications with a fixed seed per case, on %d workers; the run took %s.\n\n",
		r.Command, len(cases), len(r.Rows), numfmt.Thousands(r.Requests), r.Workers, r.Elapsed.Round(time.Second))
	if r.Remodeled {
		p("The model's figures and classes were then recomputed, on the same simulations, by `go run ./cmd/kendall-accuracy -remodel ROWS.json` after a change to the model.\n\n")
	}
	p("Every figure is the model's against the simulator's (`sim`, the judge), with the simulation's 95%% confidence half-width and the relative error (model − sim)/sim. ")
	p("A figure's **class** is the approximation its label names and the load of the station(s) it concerns (light: utilization below 50%%, moderate: below 80%%, heavy: from 80%%); the model's labels quote the summary of their class as their expected error. ")
	p("Figures labelled exact are summed up too, as a check: each should fall inside the simulation's interval but for the 5%% the interval misses by chance. ")
	p("A mean wait below 1%% of the service time, or not distinguishable from zero, is shown but not summed up: its relative error means nothing.\n\n")
	p("The grid: shapes %s; distributions %s; workers %s; loads %s. Focal services have a mean service time of 10ms (`accuracy/grid.go` says what each shape is).\n\n",
		joinShapes(), joinDists(), joinInts(Servers), joinLoads())

	p("## Summary along each dimension of the grid\n\n")
	p("The end-to-end figures of every case, exact or not, grouped by one dimension at a time. Each cell: the median absolute error / the error 90%% of the cases are within.\n\n")
	if err := WriteDimensions(&b, r.Rows); err != nil {
		return err
	}

	p("\n## Summary by class\n\n")
	p("| class | figure | cases | median error | 90%% within | worst | model within the sim's 95%% CI |\n")
	p("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range r.Stats {
		p("| %s | %s | %d | %s | %s | %s | %d of %d |\n", s.Class, s.Metric, s.Cases, pct(s.Median), pct(s.P90), signed(s.Worst), s.WithinCI, s.Cases)
	}

	p("\n## Summary by shape\n\n")
	p("Every figure of the entry (end to end), exact or not, by shape: how far the model is from the simulator over the grid's distributions, workers and loads.\n\n")
	p("| shape | figure | cases | median error | 90%% within | worst | model within the sim's 95%% CI |\n")
	p("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n")
	for _, s := range ByShape(r.Rows) {
		p("| %s | %s | %d | %s | %s | %s | %d of %d |\n", s.Class, s.Metric, s.Cases, pct(s.Median), pct(s.P90), signed(s.Worst), s.WithinCI, s.Cases)
	}

	p("\n## Every figure\n\n")
	for _, sh := range Shapes {
		var rows []Row
		for _, row := range r.Rows {
			if row.Case.Shape == sh {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 {
			continue
		}
		p("### %s\n\n", sh)
		p("| case | figure | model | sim ± 95%% CI | error | label |\n")
		p("| --- | --- | ---: | ---: | ---: | --- |\n")
		for _, row := range rows {
			fig := row.Metric
			if row.Service != "" {
				fig = row.Service + " " + row.Metric
			}
			label := "exact"
			if !row.Exact() {
				label = row.Class
			}
			errText := signed(row.Error())
			if row.Negligible {
				errText = "(negligible)"
			}
			p("| %s | %s | %s | %s ± %s | %s | %s |\n", row.Case.Name(), fig, ms(row.Model), ms(row.Sim), ms(row.CI), errText, label)
		}
		p("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ms writes seconds as milliseconds with four significant digits.
func ms(s float64) string {
	if math.IsNaN(s) || math.IsInf(s, 0) {
		return fmt.Sprint(s)
	}
	return fmt.Sprintf("%.4gms", s*1e3)
}

func pct(x float64) string { return fmt.Sprintf("%.1f%%", 100*math.Abs(x)) }

func signed(x float64) string {
	if math.IsNaN(x) {
		return "–"
	}
	if x < 0 {
		return fmt.Sprintf("−%.1f%%", -100*x)
	}
	return fmt.Sprintf("+%.1f%%", 100*x)
}

func joinShapes() string {
	var s []string
	for _, sh := range Shapes {
		s = append(s, string(sh))
	}
	return strings.Join(s, ", ")
}

func joinDists() string {
	var s []string
	for _, d := range Distributions {
		s = append(s, distName(d))
	}
	return strings.Join(s, ", ")
}

func joinInts(xs []int) string {
	var s []string
	for _, x := range xs {
		s = append(s, fmt.Sprint(x))
	}
	return strings.Join(s, ", ")
}

func joinLoads() string {
	var s []string
	for _, x := range Loads {
		s = append(s, fmt.Sprintf("%.0f%%", 100*x))
	}
	return strings.Join(s, ", ")
}
