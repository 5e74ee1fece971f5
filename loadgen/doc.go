// Package loadgen measures real HTTP services: it attacks HTTP targets with
// an open-model load generator built on vegeta
// (github.com/tsenart/vegeta/v12/lib). The services are live ones (a
// topology's endpoint: URLs, TopologyTargets), or a topology emulated as
// real HTTP servers by package emulate (TargetsAt).
//
// With package emulate it is the third of kendall's three answers to the
// same question, after the queueing model (package model) and the
// discrete-event simulator (package sim): emulate serves the topology,
// loadgen measures it, with the semantics stated once in package topology.
//
// # Attack
//
// Attack sends requests to targets at given rates and measures their
// latency. Arrivals follow an absolute schedule fixed by a seed (pacer.go):
// Poisson by default, the assumption of the model, or evenly spaced. The
// k-th request is due at the sum of the first k gaps from the start,
// whatever happened to the requests before it: a closed loop, or a
// generator that waits for a free worker, would let a slow server slow the
// generator down and hide its own latency (coordinated omission, G. Tene,
// "How NOT to Measure Latency", 2015). How far sends fell behind their
// schedule is measured, and a run that fell behind by more than a small
// bound is flagged as not trustworthy.
//
// The generator never waits, but it does not send every request due
// either. The requests in flight are capped (Options.MaxInFlight, 10,000
// by default), which bounds the memory, connections and goroutines of an
// attack whatever the rate asked and however slowly the target answers; a
// request that comes due while the cap is reached is not sent. Nor is one
// due longer ago than Options.SkipAfter (a second by default): a generator
// that cannot keep up with the rate asked would otherwise send its whole
// backlog, however late, long past the end of the run. Requests not sent
// are counted, by reason (EntryResult.NotSent, RunStats.NotSentAtCap and
// NotSentBehind), and make the run not trustworthy, with a warning that
// says how many and why. An attack ends at its warm-up plus its duration,
// then waits for the requests in flight, each at most its timeout.
//
// # Replicas
//
// A target may be a service of several replicas (Target.Replicas, and
// TargetsAtReplicas for a topology's entries): the load generator is then
// one client of the service, as topology.Balancer defines, and spreads the
// target's requests over the replicas with one balancer (package balance)
// of the service's policy, seeded by Options.Seed. A request is in flight
// at its replica, for the balancer, from its send until its response has
// been read or it failed: vegeta builds every request from one URL and has
// no hook for its end, so an HTTP transport between it and the network
// picks the replica, rewrites the URL, and ends the request's time in
// flight when its body is closed (replicas.go). The result says how many
// requests went to each replica, and how many of them failed
// (EntryResult.Replicas).
//
// A target's replicas may also be found, and followed while the attack
// runs, by Target.Discover (registry.Scope.Watch finds those of a topology
// served through etcd): each request goes to a replica known when it is
// sent; one that leaves gets no more, and the requests in flight there
// are counted, failed or not, like any other; the result lists every
// replica the target had, with when it joined or left.
//
// Failed requests are counted by class, not by message (errclass.go):
// connection reset, connection refused, timeout, TLS, EOF, DNS, too many
// open files, one class per failing HTTP status, and other, each with one
// example message. Certificates are verified unless Options.Insecure says
// otherwise.
//
// Latencies go into HDR histograms (recorder.go), so memory stays bounded
// however long the run; a warm-up period is excluded from the figures; the
// realized arrival rate and the coefficient of variation of the gaps are
// checked against what was asked. Every result can be written in vegeta's
// own gob format, so that vegeta report and vegeta plot read it.
package loadgen
