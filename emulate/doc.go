// Package emulate serves a topology as real HTTP services, one server per
// replica of each service on loopback, so that a load generator (package loadgen, or any
// other) can measure what the queueing model (package model) predicts and
// the simulator (package sim) computes. It is the third interpreter of the
// semantics stated once in package topology, after those two.
//
// Start turns every service of a topology into an HTTP server on
// 127.0.0.1 (one per replica: see Replicas below). A request waits in the
// service's one FIFO queue for one of its
// Servers workers (workers.go: Go's net/http serves each request in its own
// goroutine, so the queue is explicit), holds the worker for a service time
// drawn from the service's distribution (the same sampler as the
// simulator's), and then makes the service's calls in order, as real HTTP
// requests to the callees' servers (calls.go). Each server answers at three
// paths only: / is the service, whatever the method; /metrics reports its
// counters in Prometheus text format (metrics.go), to GET and HEAD (405
// Method Not Allowed otherwise); and POST /admin/stop stops the replica
// (see Several processes). Any other path is 404 Not Found, with a body
// that names them, and is not counted as a request.
//
// The worker is released when the service time is over. With hold: true
// it stays busy until the request's calls have returned (those the request
// waits for: a group's calls not waited for do not hold it), as a
// thread-per-request server's thread or a database connection does, and
// the requests behind it wait in the queue meanwhile. The service times
// realized and reported are of the service's own work either way; the time
// held across calls is reported apart (ServiceStats.HeldInCalls and
// HeldInCallsMean).
//
// A call is made count times in a row, each time with its probability, and
// the request goes on when the callee, with its own calls, has answered. A
// group of parallel calls (parallel:, with wait:) is made as a Go handler
// makes it: the coins of its calls are flipped in call order, one a call
// (not one a repetition, as in sequence), then each call that came up is
// made in its own goroutine, count times in a row there, and answers when
// the last of them has (a success if all of them succeeded). The answers
// come back on a channel, and the request goes on when Waits(n) of the n
// calls made have succeeded: all of them by default, the first for wait:
// any, k of them for a quorum. The calls not waited for run on to the end
// in the background and load their callees all the same (a follower still
// applies the write); they are counted (ServiceStats.Parallel), and they
// end with the emulation at the latest: Close waits for them. A group none
// of whose calls came up is done at once.
//
// A request whose calls failed answers 502 Bad Gateway and lists the
// failures. A failed call in sequence does not stop the calls after it. A
// group, though, waits for successes: once so many of its calls have
// failed that Waits(n) of them can no longer succeed, the request answers
// 502 at once, without the calls after the group, as a quorum write that
// cannot reach a majority does; a failure it can do without (one of three
// when it waits for two) leaves the request's answer 200.
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
// # Replicas
//
// A service of several replicas (replicas:) is that many servers, each a
// station of its own, as topology.Service defines: its own port, its own
// Servers workers and FIFO queue, its own streams of service times and
// coin flips, and its own /metrics. Every replica of a calling service
// keeps one balancer (package balance) for each service it calls, with
// the callee's policy (balancer:) over the callee's replicas, and routes
// all its calls to that service through it, sequential, repeated and
// parallel alike; a call is in flight, for the balancer, from the moment
// it is sent until its response has been read (or it failed). A balancer
// counts only its own calls, as topology.Balancer says: the replicas of a
// caller do not share what they know.
//
// The replicas of a service with a listen: address listen on consecutive
// ports from it: listen: 127.0.0.1:9000 with replicas: 3 serves replica 0
// at 9000, replica 1 at 9001 and replica 2 at 9002. A listen: port so high
// that the last replica's would pass 65535 is an error naming the field;
// with port 0, or no listen:, each replica has a free port of its own.
// Emulation.URL is replica 0's URL, Emulation.URLs all of them, in order.
//
// Each replica's /metrics reports its own counters, labelled with the
// service and, when the service has several replicas, the replica
// (replica="1", from 0), as the processes of a real service report theirs:
// sum by (service) is the service's. Emulation.Stats gives each service's
// state over all its replicas, with each replica's beside it
// (ServiceStats.Replicas), and Emulation.ReplicaStats each replica's.
//
// # Several processes
//
// One topology can run in several processes, each serving some of its
// services (Options.Services), every replica of each. They find each other
// through a Discovery (Options.Discovery; registry.Scope is one, on etcd):
// each process publishes the replicas it serves, and watches the replicas
// of every service that its replicas call, its own services' too, so that
// every caller sees one list whichever process serves the callee. The
// watch updates the callers' balancers (balance.Balancer.Update): a
// replica that starts is called as soon as it is published, one that
// stops is called no more once its withdrawal is seen, and the calls in
// flight at a replica that remains keep their place. A call to a service
// with no replica published fails at once, without waiting, as a call
// error whose message names the service and says "no replica registered",
// and its request answers 502; a caller therefore starts even when its
// callees' processes start later. Start publishes before it watches and
// returns once every watch has delivered its first list; Close withdraws
// every replica before it stops the servers.
//
// StopReplica, or POST /admin/stop at a replica's URL, stops one replica
// as a real one stops: withdrawn first (from Discovery, or from the
// callers' balancers in this process without one), it goes on serving for
// Options.StopGrace while the callers learn of it, then refuses new
// connections and answers the requests it holds. Calls that reach it too
// late fail and are counted by their callers. Replicas stopped at once
// all leave the balancers: their stops apply one at a time. A
// client in the same process follows the replicas serving with
// WatchReplicas, as kendall attack --emulate does (loadgen's
// Target.Discover), and sends a stopped one no more. Each replica's /metrics
// reports, for each service it calls, the replicas its balancer knows now
// (kendall_callee_replicas) and the calls it sent each
// (kendall_callee_calls_total, by url), which shows the callers moving.
//
// A seed (Options.Seed) fixes the service times and the calls' coin flips:
// the k-th request to start service at a service gets the k-th service time
// of its stream, and a request flips the coins of its calls in call order
// from its service's stream (those of a group all at once, before any of
// the group's goroutines starts), so that with a seeded arrival schedule
// the sample path of an emulation is known in advance as far as the order
// of its requests is, and what it measured can be set beside what that
// path would give with no emulation error at all
// (TestEmulationMatchesModel). Each replica has streams of its own
// (replica 0 those a service of one replica has), and each balancer one
// of its own, so the seed fixes which replica each call goes to as far as
// the order of the calls and of their answers is fixed.
package emulate
