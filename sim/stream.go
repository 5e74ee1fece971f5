package sim

import (
	"math/rand/v2"

	"github.com/kendallqn/kendall/internal/random"
)

// Every replication draws from its own stream, derived from the run's seed
// and the replication's index (random.Stream): a replication's numbers
// depend on (seed, index) alone, not on which worker runs it or when.

// pilotStream is the index of the stream of the warm-up pilot run, apart
// from every replication's.
const pilotStream = 1 << 63

// seedStream reseeds src as stream index of seed, in place: a worker keeps
// its generator from one replication to the next.
func seedStream(src *rand.PCG, seed, index uint64) {
	src.Seed(random.Stream(seed, index))
}
