package clock

import (
	"math"
	"testing"
	"time"
)

// TestWaitUntil checks what WaitUntil promises whatever the machine's
// timing: it never returns before its deadline when it runs to the end, a
// deadline already past returns at once, and a long wait gives up when done
// closes.
func TestWaitUntil(t *testing.T) {
	for _, timer := range []Timer{GoTimer{}, NewTimer()} {
		t.Run(timer.Kind(), func(t *testing.T) {
			defer timer.Close()
			for _, d := range []time.Duration{-time.Second, 0, 50 * time.Microsecond, 2 * time.Millisecond} {
				deadline := time.Now().Add(d)
				if !WaitUntil(timer, deadline, nil) {
					t.Fatalf("a wait of %v with no done channel gave up", d)
				}
				if now := time.Now(); now.Before(deadline) {
					t.Errorf("a wait of %v returned %v before its deadline", d, deadline.Sub(now))
				}
			}
			done := make(chan struct{})
			close(done)
			if WaitUntil(timer, time.Now().Add(time.Hour), done) {
				t.Error("a wait of an hour ran to its end with done closed")
			}
		})
	}
}

func TestFromSeconds(t *testing.T) {
	for _, c := range []struct {
		s    float64
		want time.Duration
	}{
		{0, 0},
		{0.005, 5 * time.Millisecond},
		{1.5, 1500 * time.Millisecond},
		{1e300, math.MaxInt64},
		{math.Inf(1), math.MaxInt64},
	} {
		if got := FromSeconds(c.s); got != c.want {
			t.Errorf("FromSeconds(%v) = %v, want %v", c.s, got, c.want)
		}
	}
}
