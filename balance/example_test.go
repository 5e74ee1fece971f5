package balance_test

import (
	"fmt"
	"log"
	"math/rand/v2"

	"github.com/kendallqn/kendall/balance"
	"github.com/kendallqn/kendall/topology"
)

// Route a client's requests to three replicas with least-requests: each
// goes to a replica with the fewest of this client's requests in flight,
// and done, called when the reply has come back, counts it out.
func Example() {
	replicas := []string{"127.0.0.1:9000", "127.0.0.1:9001", "127.0.0.1:9002"}
	b, err := balance.New(topology.BalancerLeastRequests, replicas, rand.NewPCG(1, 2))
	if err != nil {
		log.Fatal(err)
	}
	var dones []func()
	for range 3 { // three requests in flight at once: one at each replica
		_, done, err := b.Pick()
		if err != nil {
			log.Fatal(err)
		}
		dones = append(dones, done)
	}
	for _, e := range b.Endpoints() {
		fmt.Println(e.Addr, e.InFlight)
	}
	for _, done := range dones {
		done() // the replies have come back
	}

	// A replica goes away and another comes: the two that remain keep
	// their counts.
	b.Update([]string{"127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"})
	for _, e := range b.Endpoints() {
		fmt.Println(e.Addr, e.InFlight, e.Picks)
	}
	// Output:
	// 127.0.0.1:9000 1
	// 127.0.0.1:9001 1
	// 127.0.0.1:9002 1
	// 127.0.0.1:9001 0 1
	// 127.0.0.1:9002 0 1
	// 127.0.0.1:9003 0 0
}
