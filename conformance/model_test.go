package conformance

import (
	"math"
	"testing"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/result"
)

// TestModel holds the model to every reference figure it is judged on, to
// the figure's relative tolerance (absolute for a figure whose value is 0,
// see modelError). It also holds the model's labels to the
// reference: a service the model reports exact must have no figure that
// the reference marks approximate (the model would claim an exactness it
// does not have). The converse, a service labelled approximate whose
// figures are exact, is conservative and only logged: the model labels
// every non-exponential service approximate, though for one worker the
// Pollaczek–Khinchine figures are exact.
func TestModel(t *testing.T) {
	for _, c := range loadCases(t) {
		t.Run(c.name, func(t *testing.T) {
			conservative := map[string]bool{} // services labelled approximate with exact figures, logged once
			pred := model.Analyze(c.topo).Predict()
			if !pred.Stable {
				t.Fatalf("the model finds %s unstable", c.name)
			}
			for _, f := range c.figures {
				if f.model.rel < 0 {
					continue
				}
				got, approx, ok := modelFigure(pred, c, f)
				if !ok {
					t.Errorf("%s: the model gives no value", f)
					continue
				}
				rel := modelError(got, f.value)
				kind := "exact"
				if f.model.approximate {
					kind = "approximate"
				}
				t.Logf("%-32s model %.10g  reference %.10g  relative error %.2g (%s, tolerance %g)", f, got, f.value, rel, kind, f.model.rel)
				if !(rel <= f.model.rel) {
					t.Errorf("%s: model %.10g, reference %.10g (%s, line %d): relative error %.3g > %g (%s)",
						f, got, f.value, f.source, f.line, rel, f.model.rel, kind)
				}
				switch {
				case approx != nil && !*approx && f.model.approximate:
					t.Errorf("%s: the model labels its service exact, but the reference marks it approximate (line %d)", f, f.line)
				case approx != nil && *approx && !f.model.approximate && !conservative[f.name]:
					conservative[f.name] = true
					t.Logf("service %s: the model labels it approximate, but the reference gives exact figures for it", f.name)
				}
			}
		})
	}
}

// modelError is the model's error on a figure: relative, or absolute for a
// reference of 0, whose relative error is undefined (0/0 when the model is
// right). An absolute tolerance of 1e-9 s or 1e-9 in probability is as
// strict there as 1e-9 relative is on the figures of these cases, which
// are milliseconds and probabilities.
func modelError(got, ref float64) float64 {
	if ref == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-ref) / ref
}

// modelFigure returns the model's value of a figure, and, for a service,
// whether the model labels the service approximate.
func modelFigure(pred *result.Prediction, c *conformanceCase, f figure) (v float64, approx *bool, ok bool) {
	if f.scope == "service" {
		s := &pred.Services[c.topo.Index(f.name)]
		v, ok = serviceFigure(s, f.statistic)
		return v, &s.Approximate, ok
	}
	v, ok = entryFigure(&pred.Entries[entryIndex(c.topo, f.name)], f.statistic)
	return v, nil, ok
}
