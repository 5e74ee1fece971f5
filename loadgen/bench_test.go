package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// BenchmarkAttackCeiling measures the load generator's own ceiling: it
// attacks a trivial server on loopback, in the same process, at increasing
// rates, and reports the rate it sent (sent-req/s) and got answered
// (ok-req/s), how far it fell behind its schedule (lag-max-ms, lag-p99-ms),
// the latency it measured (p99-ms), whether it would call the run
// trustworthy (trustworthy, 1 or 0), the memory it allocated per request
// (B/req), the share of the requests due that it did not send
// (not-sent-%), the most requests it had in flight (peak-in-flight), and
// how long the attack took, warm-up included (elapsed-s). The ceiling is
// the highest rate still sent in full with a small lag. Past it, the
// attack still ends at its duration (elapsed-s stays near 6), sending what
// it can and counting the rest as not sent. Each iteration is one attack
// of benchDuration after a warm-up of a second;
//
//	go test -run XXX -bench AttackCeiling -benchtime 1x ./loadgen
//
// The server shares the machine's cores with the generator, as it would on
// a developer's machine; on the 2-core development machine the figures are
// those of the README.
func BenchmarkAttackCeiling(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	const benchDuration = 5 * time.Second
	for _, rate := range []int{1000, 2000, 4000, 8000, 16000, 32000, 1_000_000} {
		b.Run(fmt.Sprintf("rate=%d", rate), func(b *testing.B) {
			for b.Loop() {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				res, err := Attack(b.Context(), []Target{{Name: "trivial", URL: srv.URL, Rate: float64(rate)}},
					Options{Duration: benchDuration, Warmup: time.Second, Timeout: 5 * time.Second, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				runtime.ReadMemStats(&after)
				e := res.Entries[0]
				b.ReportMetric(res.Run.RateAchieved, "sent-req/s")
				b.ReportMetric(e.Throughput, "ok-req/s")
				b.ReportMetric(res.Run.MaxLag*1e3, "lag-max-ms")
				b.ReportMetric(res.Run.LagP99*1e3, "lag-p99-ms")
				if e.Percentiles != nil {
					b.ReportMetric(e.Percentiles.P99*1e3, "p99-ms")
				}
				trust := 0.0
				if res.Run.Trustworthy {
					trust = 1
				}
				b.ReportMetric(trust, "trustworthy")
				var sent float64
				for _, p := range e.Series {
					sent += p.Offered
				}
				b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/sent, "B/req")
				r := res.Run
				b.ReportMetric(100*float64(r.NotSent)/float64(r.Requests+r.NotSent), "not-sent-%")
				b.ReportMetric(float64(r.PeakInFlight), "peak-in-flight")
				b.ReportMetric(r.Elapsed, "elapsed-s")
			}
		})
	}
}

// BenchmarkInFlightCost measures what a request in flight costs, the
// figure behind DefaultMaxInFlight: it attacks a server that holds every
// request until it times out, fast enough to reach the cap of requests in
// flight, and reports at the peak the heap in use (B/in-flight), the file
// descriptors (fd/in-flight) and the goroutines (goroutines/in-flight) per
// request in flight, over those before the attack. The server runs in the
// same process, as the emulation of kendall attack --emulate does, so its
// side of each connection is counted too: a descriptor and a goroutine per
// request are the server's.
//
//	go test -run XXX -bench InFlightCost -benchtime 1x ./loadgen
func BenchmarkInFlightCost(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer srv.Close()
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			return 0
		}
		return len(ents)
	}
	for _, maxInFlight := range []int{1000, 4000} {
		b.Run(fmt.Sprintf("max=%d", maxInFlight), func(b *testing.B) {
			for b.Loop() {
				runtime.GC()
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				heap0, fd0, g0 := m.HeapInuse, fds(), runtime.NumGoroutine()
				var heap uint64
				var fd, g int
				done := make(chan struct{})
				watched := make(chan struct{})
				go func() {
					defer close(watched)
					tick := time.NewTicker(20 * time.Millisecond)
					defer tick.Stop()
					for {
						select {
						case <-done:
							return
						case <-tick.C:
						}
						runtime.ReadMemStats(&m)
						heap, fd, g = max(heap, m.HeapInuse), max(fd, fds()), max(g, runtime.NumGoroutine())
					}
				}()
				// Twice the cap a second reaches it within the first
				// second; the requests time out after the end.
				res, err := Attack(b.Context(), []Target{{Name: "hang", URL: srv.URL, Rate: float64(2 * maxInFlight)}},
					Options{Duration: 2 * time.Second, Timeout: 3 * time.Second, MaxInFlight: maxInFlight})
				close(done)
				<-watched
				if err != nil {
					b.Fatal(err)
				}
				n := float64(res.Run.PeakInFlight)
				b.ReportMetric(n, "peak-in-flight")
				b.ReportMetric(float64(heap-heap0)/n, "B/in-flight")
				if fd > 0 {
					b.ReportMetric(float64(fd-fd0)/n, "fd/in-flight")
				}
				b.ReportMetric(float64(g-g0)/n, "goroutines/in-flight")
				srv.CloseClientConnections()
			}
		})
	}
}

// BenchmarkRecorder measures what recording one result costs: the
// recorder's memory does not grow with the number of results (see
// TestRecorderMemoryIsBounded), and recording should not allocate.
func BenchmarkRecorder(b *testing.B) {
	start := time.Now()
	r := newRecorder([]string{"a"}, start, 0, time.Hour, 30*time.Second)
	res := &vegeta.Result{Attack: "a", Code: 200, Latency: 3 * time.Millisecond}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res.Timestamp = start.Add(time.Duration(i) * 100 * time.Microsecond) // 10,000 a second
		r.add(res, nil, false)
		i++
	}
}
