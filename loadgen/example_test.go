package loadgen_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/topology"
)

// Attack a URL at 100 requests per second, Poisson arrivals, for 30 seconds
// after a 5-second warm-up, and write every result for vegeta report.
func ExampleAttack() {
	out, err := os.Create("results.bin")
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	res, err := loadgen.Attack(context.Background(),
		[]loadgen.Target{{URL: "http://127.0.0.1:8080/", Rate: 100}},
		loadgen.Options{Duration: 30 * time.Second, Warmup: 5 * time.Second, Output: out})
	if err != nil {
		log.Fatal(err)
	}
	e := res.Entries[0]
	fmt.Printf("p99 %.1fms, P(latency > 50ms) = %.4f, trustworthy %v\n",
		e.Percentiles.P99*1e3, e.Survival([]float64{0.050})[0], res.Run.Trustworthy)
}

// Emulate a topology as real HTTP services, attack its workload entries,
// and set what was measured beside what the model predicts.
func ExampleEmulate() {
	t, err := topology.Load("examples/shop.yaml")
	if err != nil {
		log.Fatal(err)
	}
	em, err := loadgen.Emulate(context.Background(), t, loadgen.EmulateOptions{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer em.Close()
	res, err := loadgen.Attack(context.Background(), em.Targets(),
		loadgen.Options{Duration: time.Minute, Warmup: 10 * time.Second, Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	pred := model.Analyze(t).Predict()
	for i, e := range res.Entries {
		fmt.Printf("%s: mean %.2fms measured, %.2fms predicted\n", e.Entry, *e.Mean*1e3, *pred.Entries[i].Mean*1e3)
	}
	for _, s := range em.Stats() {
		fmt.Printf("%s: service time %.2fms realized, %.2fms in the file\n", s.Name, *s.RealizedMean*1e3, s.ServiceTime*1e3)
	}
}
