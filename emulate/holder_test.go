package emulate

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/kendallqn/kendall/internal/clock"
	"github.com/kendallqn/kendall/internal/moments"
)

// TestHoldCarriesOvershoot checks the invariants of a worker's hold, which
// do not depend on how precise the timer is: a hold never ends before the
// drawn time less the debt, the debt stays in [0, maxDebt], and what was
// held beyond the drawn times in total is the debt (plus what the cap
// dropped). The overshoot itself is logged, not asserted: it is a property
// of the machine.
func TestHoldCarriesOvershoot(t *testing.T) {
	for _, timer := range []clock.Timer{clock.GoTimer{}, clock.NewTimer()} {
		t.Run(timer.Kind(), func(t *testing.T) {
			defer timer.Close()
			h := holder{timer: timer, maxDebt: 5 * time.Millisecond}
			r := rand.New(rand.NewPCG(1, 2))
			var drawn, held time.Duration
			var raw moments.Moments
			for range 100 {
				d := time.Duration(r.ExpFloat64() * float64(2*time.Millisecond))
				debt := h.debt
				start := time.Now()
				got, completed := h.hold(start, d, nil)
				if !completed {
					t.Fatal("a hold with no done channel was cut short")
				}
				if got < d-debt {
					t.Fatalf("held %v for a service time of %v with a debt of %v", got, d, debt)
				}
				if h.debt < 0 || h.debt > h.maxDebt {
					t.Fatalf("debt %v outside [0, %v]", h.debt, h.maxDebt)
				}
				if want := d - debt; want > 0 {
					raw.Add((got - want).Seconds())
				}
				drawn += d
				held += got
			}
			if held-drawn < h.debt-time.Microsecond {
				t.Errorf("held %v in total for %v drawn, less than the debt %v", held, drawn, h.debt)
			}
			t.Logf("%s: overshoot of each wait %.0fµs on average; total held %v for %v drawn (%+.2f%%)",
				timer.Kind(), raw.Mean()*1e6, held, drawn, 100*(float64(held)/float64(drawn)-1))
		})
	}
}

// TestHoldCutShort closes done during a long hold: it returns at once,
// says the service time was not completed, and leaves the debt alone.
func TestHoldCutShort(t *testing.T) {
	timer := clock.NewTimer()
	defer timer.Close()
	h := holder{timer: timer, debt: time.Millisecond, maxDebt: 5 * time.Millisecond}
	done := make(chan struct{})
	close(done)
	if _, completed := h.hold(time.Now(), time.Hour, done); completed || h.debt != time.Millisecond {
		t.Errorf("completed %v, debt %v; want false, 1ms", completed, h.debt)
	}
}

// BenchmarkHold measures what the doc of clock.Timer reports: how late
// each timer wakes (overshoot-µs) and, with the overshoot carried forward,
// how far the realized total strays from the drawn one (bias-%), for
// exponential service times of 5 ms on 1 and 32 workers at once.
//
//	go test -run XXX -bench Hold -benchtime 400x ./emulate
func BenchmarkHold(b *testing.B) {
	precise := clock.NewTimer()
	preciseKind := precise.Kind()
	precise.Close()
	kinds := []struct {
		name  string
		timer func() clock.Timer
		debt  bool
	}{
		{"timer=go/debt=no", func() clock.Timer { return clock.GoTimer{} }, false},
		{"timer=go/debt=yes", func() clock.Timer { return clock.GoTimer{} }, true},
		{"timer=" + preciseKind + "/debt=no", clock.NewTimer, false},
		{"timer=" + preciseKind + "/debt=yes", clock.NewTimer, true},
	}
	for _, k := range kinds {
		for _, workers := range []int{1, 32} {
			b.Run(fmt.Sprintf("%s/workers=%d", k.name, workers), func(b *testing.B) {
				type out struct{ over, drawn, held time.Duration }
				results := make(chan out, workers)
				per := max(b.N/workers, 1)
				b.ResetTimer()
				for w := range workers {
					go func() {
						timer := k.timer()
						defer timer.Close()
						h := holder{timer: timer, maxDebt: time.Hour}
						if !k.debt {
							h.maxDebt = 0
						}
						r := rand.New(rand.NewPCG(uint64(w), 3))
						var o out
						for range per {
							d := time.Duration(r.ExpFloat64() * float64(5*time.Millisecond))
							want := d - h.debt
							got, _ := h.hold(time.Now(), d, nil)
							o.over += max(got-want, 0)
							o.drawn += d
							o.held += got
						}
						results <- o
					}()
				}
				var total out
				for range workers {
					o := <-results
					total.over += o.over
					total.drawn += o.drawn
					total.held += o.held
				}
				b.ReportMetric(float64(total.over.Microseconds())/float64(per*workers), "overshoot-µs")
				b.ReportMetric(100*(float64(total.held)/float64(total.drawn)-1), "bias-%")
			})
		}
	}
}
