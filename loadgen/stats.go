package loadgen

import (
	"math"

	"github.com/kendallqn/kendall/internal/moments"
)

// Batches is the number of batches into which the measurement window is
// cut to compute EntryResult.MeanCI95 (batchMeansHalfWidth).
const Batches = 10

// batchMeansHalfWidth is the 95% confidence half-width of the mean latency
// of a run, by batch means (A. M. Law, Simulation Modeling and Analysis,
// 5th ed., 2015, §9.5.3): the measurement window, second by second, is cut
// into Batches consecutive batches of whole seconds; each batch's mean
// latency is one observation, and the interval is Student t on those,
// t_{k-1, 0.975}·s/√k. Latencies of nearby requests are correlated (they
// meet the same queues), so the spread of the individual latencies would
// understate the uncertainty; batches of a second or more are far less
// correlated. NaN when the window has fewer than two seconds with requests.
func batchMeansHalfWidth(series []Point) float64 {
	var secs []Point
	for _, p := range series {
		if !p.Warmup && p.Successes > 0 && p.Mean != nil {
			secs = append(secs, p)
		}
	}
	k := min(Batches, len(secs))
	if k < 2 {
		return math.NaN()
	}
	size := len(secs) / k
	secs = secs[len(secs)-k*size:] // whole batches, the latest seconds
	var m moments.Moments
	for b := 0; b < k; b++ {
		var sum float64
		var n int64
		for _, p := range secs[b*size : (b+1)*size] {
			sum += *p.Mean * float64(p.Successes)
			n += p.Successes
		}
		m.Add(sum / float64(n))
	}
	return m.HalfWidth(0.95)
}
