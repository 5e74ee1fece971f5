// Package topology reads kendall's topology file: the services of a system,
// their workers and service times, the calls between them, and the external
// workload that drives them.
//
// The topology is the one contract shared by the analytic model, the
// discrete-event simulator and the real-service emulation, so its semantics
// are stated once, here:
//
// A request arriving at a service waits in one FIFO queue for a free worker,
// holds it for a random service time, releases it, then makes its calls in
// order. Each call is a new request at the callee, queued there like any
// other, and the caller's request goes on when that call (with all of its own
// calls) has finished. A call with a count is made that many times in a
// row, and with a probability each of those times is made, independently,
// with that probability (count 3 and probability 0.5 make 0 to 3 calls,
// 1.5 on average). A
// request's latency is its own wait and service plus the latencies of the
// calls it made. External requests arrive at each workload entry as a Poisson
// process with the entry's rate. Calls form a directed acyclic graph.
//
// A service of several replicas is that many such stations, each with its
// own workers and queue, and each request to it, external or a call, goes
// to one replica, chosen by the caller's own client-side balancer (see
// Service.Replicas and Balancer for the policies, what a caller is and
// what it counts as in flight): one semantics, which the model, the
// simulator and the emulation each implement.
//
// Files are YAML; the same document written as JSON is accepted. Parse and
// Load return errors that name the file, the line and the field, say what is
// wrong, and how to fix it.
package topology
