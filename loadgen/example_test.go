package loadgen_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/kendallqn/kendall/loadgen"
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
