package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestEventListOrder checks the heap against sorting: random pushes, pops
// and top replacements come out in time order.
func TestEventListOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var l eventList
	var ref []float64
	for i := range 20000 {
		switch op := r.IntN(3); {
		case op == 0 || l.len() == 0:
			e := event{t: r.Float64(), id: int32(i)}
			l.push(e)
			ref = append(ref, e.t)
		case op == 1:
			slices.Sort(ref)
			if got := l.top().t; got != ref[0] {
				t.Fatalf("step %d: top %v, want %v", i, got, ref[0])
			}
			l.pop()
			ref = ref[1:]
		default:
			slices.Sort(ref)
			if got := l.top().t; got != ref[0] {
				t.Fatalf("step %d: top %v, want %v", i, got, ref[0])
			}
			e := event{t: ref[0] + r.Float64(), id: int32(i)}
			l.replaceTop(e)
			ref[0] = e.t
		}
	}
}

// binaryHeap is the textbook alternative to eventList, kept to measure the
// choice (BenchmarkEventList).
type binaryHeap struct{ h []event }

func (b *binaryHeap) push(e event) {
	b.h = append(b.h, e)
	i := len(b.h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if b.h[p].t <= e.t {
			break
		}
		b.h[i] = b.h[p]
		i = p
	}
	b.h[i] = e
}

func (b *binaryHeap) replaceTop(e event) {
	h := b.h
	n := len(h)
	i := 0
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if c+1 < n && h[c+1].t < h[c].t {
			c++
		}
		if e.t <= h[c].t {
			break
		}
		h[i] = h[c]
		i = c
	}
	h[i] = e
}

// BenchmarkEventList runs the hold model (Jones, "An empirical comparison of
// priority-queue and event-set implementations", CACM 29(4), 1986): n
// pending events, each step takes the earliest and schedules one an
// exponential time later, as a station's completions do.
func BenchmarkEventList(b *testing.B) {
	for _, n := range []int{4, 64, 1000, 10000} {
		fill := func(push func(event)) *rand.Rand {
			r := rand.New(rand.NewPCG(1, 1))
			for i := range n {
				push(event{t: r.ExpFloat64(), id: int32(i)})
			}
			return r
		}
		b.Run(fmt.Sprintf("4ary/n=%d", n), func(b *testing.B) {
			var l eventList
			r := fill(l.push)
			b.ResetTimer()
			for range b.N {
				e := l.top()
				l.replaceTop(event{t: e.t + r.ExpFloat64(), id: e.id})
			}
		})
		b.Run(fmt.Sprintf("binary/n=%d", n), func(b *testing.B) {
			var l binaryHeap
			r := fill(l.push)
			b.ResetTimer()
			for range b.N {
				e := l.h[0]
				l.replaceTop(event{t: e.t + r.ExpFloat64(), id: e.id})
			}
		})
	}
}
