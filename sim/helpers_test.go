package sim

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/kendallqn/kendall/topology"
)

// oneStation builds a topology of one service with c workers, mean service
// time mean and the given distribution, at utilization rho.
func oneStation(tb testing.TB, c int, mean time.Duration, d topology.Distribution, rho float64) *topology.Topology {
	tb.Helper()
	rate := rho * float64(c) / mean.Seconds()
	t, err := topology.New("station", []topology.Workload{{Entry: "s", Rate: rate}},
		[]*topology.Service{{Name: "s", Servers: c, ServiceTime: mean, Distribution: d}})
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func loadFile(tb testing.TB, path string) *topology.Topology {
	tb.Helper()
	t, err := topology.Load(path)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func run(tb testing.TB, t *topology.Topology, o Options) *Result {
	tb.Helper()
	r, err := Run(context.Background(), t, o)
	if err != nil {
		tb.Fatal(err)
	}
	return r
}

// within reports whether want lies in the interval got ± hw.
func within(got, hw, want float64) bool { return math.Abs(got-want) <= hw }

// scaled is the number of requests n for a statistical test: a quarter of
// it under the race detector (see race_test.go).
func scaled(n int64) int64 {
	if raceEnabled {
		return n / 4
	}
	return n
}

var exponential = topology.Distribution{Kind: topology.Exponential}
