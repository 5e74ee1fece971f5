package random

import (
	"hash/fnv"
	"math/rand/v2"
)

// A run draws every random number from one seed, split into streams: one
// per replication of a simulation, one per target's arrivals, service's
// service times or service's calls in a measurement. Each stream is a PCG
// generator (M. E. O'Neill, "PCG: a family of simple fast space-efficient
// statistically good algorithms for random number generation",
// HMC-CS-2014-0905, 2014) whose 128-bit state is derived from the seed and
// the stream's name by SplitMix64 (G. L. Steele, D. Lea & C. H. Flood,
// "Fast splittable pseudorandom number generators", OOPSLA 2014). Its
// output function is a bijective mixer: PCG states that differ in a few
// bits, as (seed, 1) and (seed, 2) would, are known to give correlated
// streams; mixed states are not related that way, and nearby seeds and
// indexes start far apart in the generator's period. A stream's numbers
// depend on the seed and its name alone, not on which goroutine draws them
// or when, so a run is reproducible.
//
// There are two derivations, Stream and Labelled, because the simulator and
// the load generator grew one each; both are kept bit for bit, since the
// tests of both pin figures to the exact numbers of chosen seeds
// (TestStreamIsStable, TestLabelledIsStable).

// Stream returns the PCG seed of stream index of a run seeded with seed:
// the simulator's replications. It allocates nothing, so that a simulation
// worker reseeds its generator in place between replications
// (rand.PCG.Seed).
func Stream(seed, index uint64) (hi, lo uint64) {
	x := seed
	hi = splitmix64(&x) ^ splitmix64(&x)
	x ^= index * 0xd1342543de82ef95 // any odd constant: a bijection of index
	lo = splitmix64(&x) ^ splitmix64(&x)
	return hi, lo
}

// Labelled returns stream i of the family named label under seed: the
// arrivals of target i, the service times of service i, and so on. The
// label, hashed with FNV-1a, keeps the families apart, so that the service
// times of service 0 are not the arrivals of target 0.
func Labelled(seed uint64, label string, i int) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(label))
	x := seed ^ h.Sum64()
	a := splitmix64(&x)
	x ^= uint64(i) * 0x9e3779b97f4a7c15
	b := splitmix64(&x)
	return rand.New(rand.NewPCG(a, splitmix64(&b)))
}

// splitmix64 advances *x and returns the next output of SplitMix64 (Steele
// et al. 2014, Fig. 1; constants from Vigna's public-domain splitmix64.c).
func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
