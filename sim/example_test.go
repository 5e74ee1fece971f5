package sim_test

import (
	"context"
	"fmt"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/sim"
	"github.com/kendallqn/kendall/topology"
)

// Simulate the shop example and hold the model's mean end-to-end latency
// against the simulated one and its 95% confidence interval.
func ExampleRun() {
	t, err := topology.Load("../examples/shop.yaml")
	if err != nil {
		panic(err)
	}
	r, err := sim.Run(context.Background(), t, sim.Options{Requests: 200_000, Seed: 1})
	if err != nil {
		panic(err)
	}
	e := r.Entries[0]
	m := model.Analyze(t).Predict().Entries[0]
	fmt.Printf("%d replications; catalog at %.0f%% utilization\n", r.Run.Replications, 100*r.Services[1].Utilization)
	fmt.Printf("mean end to end: simulated %.1fms ± %.1fms, model %.1fms\n", 1e3**e.Mean, 1e3*e.CI95.Mean, 1e3**m.Mean)
	// The share of requests slower than 50ms, from the merged histogram.
	fmt.Printf("P(latency > 50ms) = %.3f\n", e.Survival(0.050)[0])
	// Output:
	// 10 replications; catalog at 48% utilization
	// mean end to end: simulated 17.7ms ± 0.1ms, model 17.7ms
	// P(latency > 50ms) = 0.017
}
