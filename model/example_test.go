package model_test

import (
	"fmt"
	"log"

	"github.com/kendallqn/kendall/model"
	"github.com/kendallqn/kendall/topology"
)

// An M/M/2 queue: two servers of 10 requests per second each, offered 15.
func ExampleMMc() {
	q := model.MMc{Lambda: 15, Mu: 10, C: 2}
	fmt.Printf("utilization %.3f\n", q.Utilization())
	fmt.Printf("P(wait) %.4f\n", q.WaitProbability())
	fmt.Printf("mean response %.4fs\n", q.MeanResponse())
	fmt.Printf("p99 response %.4fs\n", q.ResponseQuantile(0.99))
	// Output:
	// utilization 0.750
	// P(wait) 0.6429
	// mean response 0.2286s
	// p99 response 0.9710s
}

// Erlang C stays exact with ten thousand servers at 99.9% utilization.
func ExampleErlangC() {
	fmt.Printf("%.6f\n", model.ErlangC(9990, 10000))
	// Output: 0.880542
}

func ExampleAnalyze() {
	t, err := topology.Load("../examples/shop.yaml")
	if err != nil {
		log.Fatal(err)
	}
	p := model.Analyze(t).Predict()
	fmt.Printf("%s: max rate %.0f req/s, bottleneck %s\n", p.Topology, p.MaxRate, p.Bottleneck)
	fmt.Printf("mean %.1fms, p99 %.1fms\n", *p.Entries[0].Mean*1e3, p.Entries[0].Percentiles.P99*1e3)
	// Output:
	// shop: max rate 250 req/s, bottleneck catalog
	// mean 17.7ms, p99 54.7ms
}
