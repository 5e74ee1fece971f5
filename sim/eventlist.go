package sim

// event is one pending event: at time t (seconds), either the end of service
// of visit id (id >= 0) or the next external arrival at workload entry
// -id-1 (id < 0). Sixteen bytes, so four events share a cache line.
type event struct {
	t  float64
	id int32
}

// eventList is the future-event list of one replication: a d-ary min-heap
// on time (d = arity), in a slice that grows once to the largest number of
// pending events and is then reused.
//
// Why a heap. The list holds one event per worker serving a request (not
// one held across its calls, which waits for no event of its own) plus one
// per workload entry: 4 events for M/M/3, about 950 for M/M/1000 at 95%
// utilization. A calendar queue (R. Brown, CACM 31(10), 1988) is O(1) per
// operation, but only pays off past thousands of pending events and needs
// its bucket width tuned to the event times, which here depend on an
// arbitrary topology. container/heap would cost an interface call per
// comparison. What does pay is replaceTop: most events remove the top and
// add one event (a completion that starts the next waiting request, an
// arrival that schedules the next), and one sift-down does both, half the
// work of pop then push.
//
// Why 4-ary. Measured on the 2-core development machine (shared, so ±10%
// noise): in the hold model (BenchmarkEventList) binary and 4-ary heaps
// take 19–24 vs 20–22 ns at n = 4, 44–64 vs 50–53 ns at n = 64, 74–97 vs
// 86–106 ns at n = 1000 and 105–123 vs 115–117 ns at n = 10,000; in the
// kernel (BenchmarkKernel, arity switched) M/M/3 ran at 80–89 vs 75–87 ns
// per request, M/M/1000 at 159–183 vs 180–189 ns and the shop at 315 vs
// 302–323 ns. The two are within the noise everywhere. The 4-ary heap is
// kept because its depth is half the binary one's and a node's four
// children share a cache line (LaMarca & Ladner, "The influence of caches
// on the performance of heaps", ACM JEA 1, 1996), which matters for
// topologies with tens of thousands of workers; arity is a constant to
// re-measure it.
//
// Equal times are ordered by the sequence of heap operations, which a seed
// fixes, so runs are reproducible.
const arity = 4

type eventList struct {
	h []event
}

func (l *eventList) len() int { return len(l.h) }

// top is the earliest event; the list must not be empty.
func (l *eventList) top() event { return l.h[0] }

func (l *eventList) push(e event) {
	l.h = append(l.h, e)
	h := l.h
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / arity
		if h[p].t <= e.t {
			break
		}
		h[i] = h[p]
		i = p
	}
	h[i] = e
}

// pop removes the earliest event.
func (l *eventList) pop() {
	n := len(l.h) - 1
	last := l.h[n]
	l.h = l.h[:n]
	if n > 0 {
		l.siftDown(last)
	}
}

// replaceTop removes the earliest event and adds e.
func (l *eventList) replaceTop(e event) { l.siftDown(e) }

// siftDown places e, which replaces the root, where it belongs.
func (l *eventList) siftDown(e event) {
	h := l.h
	n := len(h)
	i := 0
	for {
		c := i*arity + 1
		if c >= n {
			break
		}
		// The smallest of up to four children.
		m, mt := c, h[c].t
		end := min(c+arity, n)
		for j := c + 1; j < end; j++ {
			if h[j].t < mt {
				m, mt = j, h[j].t
			}
		}
		if e.t <= mt {
			break
		}
		h[i] = h[m]
		i = m
	}
	h[i] = e
}

func (l *eventList) reset() { l.h = l.h[:0] }
