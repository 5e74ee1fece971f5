package sim

import "math/rand/v2"

// Every replication draws from its own stream: a PCG generator (M. E.
// O'Neill, "PCG: a family of simple fast space-efficient statistically good
// algorithms for random number generation", HMC-CS-2014-0905, 2014) whose
// 128-bit state is derived from the run's seed and the replication's index
// by SplitMix64 (G. Steele, D. Lea & C. Flood, "Fast splittable pseudorandom
// number generators", OOPSLA 2014). Nearby seeds and indexes thus start far
// apart in the generator's period, and a replication's numbers depend on
// (seed, index) alone, not on which worker runs it or when.

// pilotStream is the index of the stream of the warm-up pilot run, apart
// from every replication's.
const pilotStream = 1 << 63

// streamSeed returns the PCG seed of stream index of a run seeded with seed.
func streamSeed(seed, index uint64) (hi, lo uint64) {
	x := seed
	hi = splitmix64(&x) ^ splitmix64(&x)
	x ^= index * 0xd1342543de82ef95 // any odd constant: a bijection of index
	lo = splitmix64(&x) ^ splitmix64(&x)
	return hi, lo
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

// seedStream reseeds src as stream index of seed.
func seedStream(src *rand.PCG, seed, index uint64) {
	src.Seed(streamSeed(seed, index))
}
