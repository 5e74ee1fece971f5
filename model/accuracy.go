package model

import (
	"fmt"
	"math"
	"strings"
)

// The accuracy table (docs/accuracy.md, made by go run
// ./cmd/kendall-accuracy) runs the model and the simulator over a grid of
// service-time distributions, workers, loads and network shapes, and
// compares every figure. Each approximate figure belongs to a class: the
// approximation that makes it approximate (its kind) and the load of the
// station(s) that approximation concerns (light below 50% utilization,
// moderate below 80%, heavy from 80%). The tool sums up the errors of each
// class and figure into accuracy_gen.go, and a label's Error quotes the
// summary of its class, so that a reader can follow any label to the rows
// of the table behind it.
//
// The kinds, as the labels' Basis and Why name them:
const (
	// A station whose arrivals are not Poisson, with the arrival SCV from
	// QNA (qna.go): per-visit figures of a service whose callers' departures
	// are not Poisson, or that is called several times in a row.
	classQNAExponential = "non-Poisson arrivals (QNA), exponential service"
	classQNAGeneral     = "non-Poisson arrivals (QNA), other service"
	// An end-to-end mean (or distribution) approximate only because some
	// station's figures are.
	classStations = "approximate stations"
	// The same, when one of those stations is a replica behind a
	// round-robin, least-requests or power-of-two balancer (replicas.go):
	// its approximations err more, and would blur the class above.
	classBalancedStations = "approximate stations, balanced"
	// End-to-end percentiles with runs of consecutive visits (runs.go):
	// Takács's recursion with one worker, its heuristic extension with
	// several.
	classRunsSingle = "consecutive visits, one worker"
	classRunsMulti  = "consecutive visits, several workers"
	// End-to-end percentiles of requests that visit a service more than
	// once, not in a run (its visits treated as independent), or by more
	// than one path of the call tree.
	classRepeated = "repeated visits"
	classShared   = "shared service"
	// End-to-end percentiles of requests that visit a service a fixed
	// number of times by different calls, whose correlation shared.go
	// follows.
	classSharedFollowed = "shared service, visits correlated"
	// End-to-end percentiles with the visits treated as independent where
	// that is not exact: branching calls, several workers.
	classIndependent = "independent visits"
	// Figures that depend on a group of parallel calls (group.go) or on a
	// worker held across calls (hold.go).
	classParallel = "parallel calls"
	classHold     = "held workers"
	// Station-level approximations under Poisson arrivals are classed by
	// station.method(): "station: " and the method's wait or shape.
)

// loadBand is the coarse load class of a utilization.
func loadBand(rho float64) string {
	switch {
	case rho < 0.5:
		return "light"
	case rho < 0.8:
		return "moderate"
	}
	return "heavy"
}

// accuracyStat sums up the relative errors, model against simulation, of
// one class of figures over the cases of the accuracy table.
type accuracyStat struct {
	Cases  int     // how many cases of the table
	Median float64 // median |relative error|
	P90    float64 // 90th percentile of |relative error|
	Worst  float64 // the error largest in magnitude, with its sign
}

// The metrics the table measures for each label: a service's wait label
// covers the wait and the response time per visit, an entry's mean its
// mean, and a percentiles label the 50th, 99th and 99.9th percentiles.
var percentileMetrics = []string{"p50", "p99", "p999"}

func meanMetric(figure string) []string {
	if figure == "mean" {
		return []string{"mean"}
	}
	return []string{"mean_wait", "mean_response"}
}

// lookupAccuracy is the table's summary of a class and metric, or of the
// class's kind at any load when the table has no case of that load.
func lookupAccuracy(class, metric string) (accuracyStat, string, bool) {
	if a, ok := accuracyTable[class+"|"+metric]; ok {
		return a, class, true
	}
	if i := strings.LastIndexByte(class, '/'); i >= 0 {
		any := class[:i] + "/any load"
		if a, ok := accuracyTable[any+"|"+metric]; ok {
			return a, any, true
		}
	}
	return accuracyStat{}, "", false
}

// accuracyError is the Error of a label of the given class: what the table
// measured for each of its metrics, in words.
func accuracyError(class string, metrics []string) string {
	if class == "" {
		return ""
	}
	var parts []string
	cases, used := 0, class
	for _, m := range metrics {
		a, c, ok := lookupAccuracy(class, m)
		if !ok {
			continue
		}
		cases, used = max(cases, a.Cases), c
		parts = append(parts, fmt.Sprintf("%s median %s, 90%% within %s, worst %s", metricName(m), pct(a.Median), pct(a.P90), signedPct(a.Worst)))
	}
	if len(parts) == 0 {
		return fmt.Sprintf("not measured yet: the accuracy table has no case of class %q", class)
	}
	return fmt.Sprintf("%s, model against simulation over %d such cases of the accuracy table (class %q)", strings.Join(parts, "; "), cases, used)
}

func metricName(m string) string {
	switch m {
	case "mean_wait":
		return "mean wait"
	case "mean_response":
		return "mean response"
	case "p999":
		return "p99.9"
	}
	return m
}

func pct(x float64) string { return fmt.Sprintf("%.2g%%", 100*math.Abs(x)) }

func signedPct(x float64) string {
	if x < 0 {
		return fmt.Sprintf("−%.2g%%", -100*x) // a true minus sign, as in the tables
	}
	return fmt.Sprintf("+%.2g%%", 100*x)
}

// AccuracyClasses returns the accuracy class of every approximate figure
// of n's prediction, for each service and each entry: a map from the
// label's figure name (result.FigMeanResponse, result.FigPercentiles,
// result.FigMean) to its class; a figure that is exact has none. The
// accuracy table bins its errors by these classes, and the labels look up
// their Error by the same ones. Both are nil for a service never visited
// and for every figure of an unstable network.
func (n *Network) AccuracyClasses() (services, entries []map[string]string) {
	ls := n.labelSet()
	return ls.serviceClasses, ls.entryClasses
}
