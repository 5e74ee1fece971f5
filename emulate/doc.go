// Package emulate serves a topology as real HTTP services, one server per
// service on loopback, so that a load generator (package loadgen, or any
// other) can measure what the queueing model (package model) predicts and
// the simulator (package sim) computes. It is the third interpreter of the
// semantics stated once in package topology, after those two.
//
// Start turns every service of a topology into an HTTP server on
// 127.0.0.1. A request waits in the service's one FIFO queue for one of its
// Servers workers (workers.go: Go's net/http serves each request in its own
// goroutine, so the queue is explicit), holds the worker for a service time
// drawn from the service's distribution (the same sampler as the
// simulator's), releases it, and then makes the service's calls in order,
// as real HTTP requests to the callees' servers, each repetition of a call
// with the call's probability. Each server answers at two paths only: / is
// the service, whatever the method; /metrics reports its counters in
// Prometheus text format (metrics.go), to GET and HEAD (405 Method Not
// Allowed otherwise). Any other path is 404 Not Found, with a body that
// names the two, and is not counted as a request.
//
// Service times are realized against a deadline, not with time.Sleep. On
// Linux, Go's timers wake through epoll with millisecond resolution, so
// time.Sleep overshoots by 0 to 1 ms (about 0.6 ms on average, measured on
// the 2-core development machine), which biases a 5 ms service time by 13%.
// A worker instead waits on its own timerfd, which the runtime's netpoller
// wakes with the kernel's high-resolution timers (about 0.1 ms late), and
// carries what overshoot remains forward as a debt that the worker's next
// service time repays (holder.go). The realized mean and coefficient of
// variation of each service's service times are measured and reported
// (Emulation.Stats, and /metrics).
//
// A seed (Options.Seed) fixes the service times and the calls' coin flips:
// the k-th request to start service at a service gets the k-th service time
// of its stream, so that with a seeded arrival schedule the sample path of
// an emulation is known in advance, and what it measured can be set beside
// what that path would give with no emulation error at all
// (TestEmulationMatchesModel).
package emulate
