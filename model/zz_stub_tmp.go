// Temporary stand-ins for gimc.go and balanced.go, which land from their
// branches; removed at that merge.

package model

import "math"

type gimc struct{ sigma, pWait, meanWait, theta float64 }

func erlangArrivals(k int, lambda float64) func(s float64) float64 {
	return func(s float64) float64 { return math.Pow(float64(k)*lambda/(float64(k)*lambda+s), float64(k)) }
}

func newGIMc(lst func(s float64) float64, lambda, mu float64, c int) gimc {
	sigma := 0.0
	for range 100000 {
		sigma = lst(float64(c) * mu * (1 - sigma))
	}
	th := float64(c) * mu * (1 - sigma)
	return gimc{sigma, sigma, sigma / th, th}
}
