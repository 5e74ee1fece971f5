package registry_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/kendallqn/kendall/registry"
)

// A process that serves replica 0 of db registers it; a process that calls
// db waits for a replica, then follows the list as it changes.
func Example() {
	ctx := context.Background()
	r, err := registry.Open(ctx, "etcd://127.0.0.1:2379", registry.Options{})
	if err != nil {
		log.Fatal(err) // names the address and says to start etcd
	}
	defer r.Close() // withdraws this process's replicas at once

	if _, err := r.Register(ctx, "shop", "db", 0, "http://127.0.0.1:8081"); err != nil {
		log.Fatal(err) // errors.Is(err, registry.ErrOwned): another process serves db
	}

	urls, err := r.WaitFor(ctx, "shop", "db", 30*time.Second)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(urls)

	watchCtx, stop := context.WithCancel(ctx)
	defer stop()
	go r.Watch(watchCtx, "shop", "db", func(urls []string) {
		fmt.Println("db replicas:", urls) // e.g. update a load balancer
	})
}
