package emulate_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/kendallqn/kendall/emulate"
	"github.com/kendallqn/kendall/loadgen"
	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/topology"
)

// Emulate a topology as real HTTP services, attack its workload entries,
// and set what was measured beside what the model predicts.
func ExampleStart() {
	t, err := topology.Load("examples/shop.yaml")
	if err != nil {
		log.Fatal(err)
	}
	em, err := emulate.Start(context.Background(), t, emulate.Options{Seed: 1})
	if err != nil {
		log.Fatal(err)
	}
	defer em.Close()
	targets, err := loadgen.TargetsAtReplicas(t, em.URLs) // every replica of each entry
	if err != nil {
		log.Fatal(err)
	}
	res, err := loadgen.Attack(context.Background(), targets,
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
