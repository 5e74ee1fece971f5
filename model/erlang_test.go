package model

import (
	"math"
	"testing"
)

// Erlang B against closed forms and against printed traffic tables (the
// blocking of c trunks offered a Erlangs, as any Erlang B table prints it,
// to four significant digits; GNU Octave's erlangb agrees).
func TestErlangBTable(t *testing.T) {
	tests := []struct {
		a    float64
		c    int
		want float64
		tol  float64 // absolute: the table is printed to these digits
	}{
		// B(1, a) = a/(1+a) and B(2, a) = a²/(2 + 2a + a²), exactly.
		{1, 1, 0.5, 1e-15},
		{2, 2, 0.4, 1e-15},
		{0.5, 2, 0.125 / 1.625, 1e-15},
		{5, 10, 0.01838, 5e-6},
		{10, 10, 0.2146, 5e-5},
		{20, 30, 0.008457, 5e-7},
	}
	for _, tc := range tests {
		if got := ErlangB(tc.a, tc.c); math.Abs(got-tc.want) > tc.tol {
			t.Errorf("ErlangB(%v, %d) = %.8g, want %.8g ± %g", tc.a, tc.c, got, tc.want, tc.tol)
		}
	}
}

// TestErlangCLimits checks closed forms and limits: C = ρ for one server;
// C = 2ρ²/(1+ρ) for two; C → 1 as ρ → 1; C = 1 when saturated.
func TestErlangCLimits(t *testing.T) {
	for _, rho := range []float64{0.01, 0.3, 0.7, 0.99, 0.999999} {
		if got := ErlangC(rho, 1); math.Abs(got-rho) > 1e-15*rho {
			t.Errorf("ErlangC(%v, 1) = %.17g, want ρ", rho, got)
		}
		want2 := 2 * rho * rho / (1 + rho)
		if got := ErlangC(2*rho, 2); math.Abs(got-want2) > 1e-14*want2 {
			t.Errorf("ErlangC(%v, 2) = %.17g, want %.17g", 2*rho, got, want2)
		}
	}
	if got := ErlangC(5, 5); got != 1 {
		t.Errorf("saturated ErlangC = %v, want 1", got)
	}
	if got := ErlangC(6, 5); got != 1 {
		t.Errorf("overloaded ErlangC = %v, want 1", got)
	}
	if !math.IsNaN(ErlangC(1, 0)) || !math.IsNaN(ErlangB(-1, 3)) {
		t.Error("invalid arguments must give NaN")
	}
}

// TestErlangCLargeStable checks that nothing overflows or underflows to
// nonsense for huge numbers of servers and utilization close to 1, where a
// factorial-based formula fails, and that C behaves as it must: in (0, 1),
// falling as servers are added at fixed utilization.
func TestErlangCLargeStable(t *testing.T) {
	for _, c := range []int{1000, 10_000, 100_000, 1_000_000} {
		prev := 1.0
		for _, rho := range []float64{0.5, 0.9, 0.95, 0.99, 0.999, 0.9999} {
			got := ErlangC(rho*float64(c), c)
			if !(got >= 0 && got < 1) || math.IsNaN(got) {
				t.Fatalf("ErlangC(%v·%d, %d) = %v", rho, c, c, got)
			}
			if rho > 0.5 && got < prev && prev != 1 {
				t.Errorf("ErlangC not increasing in ρ at c=%d, ρ=%v: %v after %v", c, rho, got, prev)
			}
			prev = got
		}
	}
	// Halfin–Whitt: at ρ = 1 - β/√c, C tends to a constant as c grows;
	// with β = 1, C(β) = [1 + β Φ(β)/φ(β)]^{-1} ≈ 0.2168 (Halfin & Whitt,
	// Oper. Res. 29(3), 1981, Prop. 1).
	beta := 1.0
	phi := math.Exp(-beta*beta/2) / math.Sqrt(2*math.Pi)
	Phi := 0.5 * math.Erfc(-beta/math.Sqrt2)
	limit := 1 / (1 + beta*Phi/phi)
	c := 1_000_000
	rho := 1 - beta/math.Sqrt(float64(c))
	if got := ErlangC(rho*float64(c), c); math.Abs(got-limit) > 2e-3 {
		t.Errorf("Halfin–Whitt limit: ErlangC = %.5f, want ≈ %.5f", got, limit)
	}
}
