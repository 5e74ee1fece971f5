package moments

import (
	"math"
	"testing"
)

// TestMoments checks against values worked by hand: 2, 4, 4, 4, 5, 5, 7, 9
// have mean 5 and sample variance 32/7; the 95% half-width is
// t(7, 0.975) = 2.3646 times √(32/7)/√8.
func TestMoments(t *testing.T) {
	var m Moments
	for _, x := range []float64{2, 4, 4, 4, math.NaN(), 5, 5, 7, 9} {
		m.Add(x)
	}
	if m.N() != 8 || m.Mean() != 5 || math.Abs(m.Variance()-32.0/7) > 1e-12 || m.Sum() != 40 {
		t.Errorf("n %d, mean %v, variance %v, sum %v", m.N(), m.Mean(), m.Variance(), m.Sum())
	}
	if want := 2.364624251592785 * math.Sqrt(32.0/7) / math.Sqrt(8); math.Abs(m.HalfWidth(0.95)-want) > 1e-9 {
		t.Errorf("half-width %v, want %v", m.HalfWidth(0.95), want)
	}
	if math.Abs(m.CV()-math.Sqrt(32.0/7)/5) > 1e-12 {
		t.Errorf("cv %v", m.CV())
	}
	// Merging two halves gives the whole.
	var a, b Moments
	for _, x := range []float64{2, 4, 4, 4} {
		a.Add(x)
	}
	for _, x := range []float64{5, 5, 7, 9} {
		b.Add(x)
	}
	a.Merge(b)
	if a.N() != 8 || math.Abs(a.Mean()-5) > 1e-12 || math.Abs(a.Variance()-32.0/7) > 1e-12 {
		t.Errorf("merged: n %d, mean %v, variance %v", a.N(), a.Mean(), a.Variance())
	}
	var empty Moments
	if !math.IsNaN(empty.Mean()) || !math.IsNaN(empty.HalfWidth(0.95)) {
		t.Error("an empty accumulator must give NaN")
	}
}
