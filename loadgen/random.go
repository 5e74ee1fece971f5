package loadgen

import (
	"hash/fnv"
	"math/rand/v2"
)

// newRand returns random stream number i of the family named label under
// seed: the arrivals of entry i, the service times of service i, and so on.
// Every stream of a run comes from one seed, so a run is reproducible, and
// the streams are independent of each other.
//
// The two PCG seeds are derived with SplitMix64 (G. L. Steele, D. Lea,
// C. H. Flood, "Fast splittable pseudorandom number generators", OOPSLA
// 2014), whose output function is a bijective mixer: PCG states that differ
// in a few bits, as (seed, 1) and (seed, 2) would, are known to give
// correlated streams; mixed states are not related that way.
func newRand(seed uint64, label string, i int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(label))
	x := seed ^ h.Sum64()
	a := splitmix64(&x)
	x ^= uint64(i) * 0x9e3779b97f4a7c15
	b := splitmix64(&x)
	return rand.New(rand.NewPCG(a, splitmix64(&b)))
}

// splitmix64 advances *x and returns the next SplitMix64 output (Steele et
// al. 2014, Fig. 1).
func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
