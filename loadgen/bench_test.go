package loadgen

import (
	"fmt"
	"net/http"
	"net/http/httptest"
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
// trustworthy (trustworthy, 1 or 0), and the memory it allocated per
// request (B/req). The ceiling is the highest rate still sent in full with
// a small lag. Each iteration is one attack of benchDuration;
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
	for _, rate := range []int{1000, 2000, 4000, 8000, 16000} {
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
