package sim

import (
	"math"
	"testing"

	"github.com/kendallqn/kendall/internal/moments"
)

// TestSectionHalfWidth checks the sectioning half-width against values
// worked by hand: 2, 4, 4, 4, 5, 5, 7, 9 have mean 5 and Σ(X − 5)² = 32;
// about a pooled estimate of 4, Σ(X − 4)² = 32 + 8·1² = 40, so the 95%
// half-width is t(7, 0.975)·√(40/7/8), t = 2.364624251592785. About their
// own mean it is the Student t half-width.
func TestSectionHalfWidth(t *testing.T) {
	var m moments.Moments
	for _, x := range []float64{2, 4, 4, 4, 5, 5, 7, 9} {
		m.Add(x)
	}
	const t7 = 2.364624251592785
	for _, c := range []struct{ centre, want float64 }{
		{4, t7 * math.Sqrt(40.0/7/8)},
		{5, m.HalfWidth(0.95)},
	} {
		if got := sectionHalfWidth(&m, c.centre, 0.95); math.Abs(got-c.want) > 1e-12*c.want {
			t.Errorf("about %g: half-width %.15g, want %.15g", c.centre, got, c.want)
		}
	}
	var one moments.Moments
	one.Add(3)
	if !math.IsNaN(sectionHalfWidth(&one, 3, 0.95)) {
		t.Error("one estimate: want NaN")
	}
}
