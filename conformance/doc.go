// Package conformance holds kendall's conformance suite: one set of small
// topologies, each with reference figures computed independently of
// kendall, against which all three interpreters of the topology's
// semantics are judged: the queueing model (package model), the
// discrete-event simulator (package sim) and the emulation of the topology
// as real HTTP services (package loadgen). The package has no code of its
// own; its tests are the suite, and `go test ./...` runs them.
//
// # Cases
//
// A case is a topology, testdata/NAME.yaml, and its reference figures,
// testdata/NAME.ref.tsv: one line per figure, naming a service's or an
// entry's statistic (utilization, wait_probability, mean_wait,
// mean_response, mean, p50 to p999, with the names of kendall's JSON), its
// exact value, its source, and how each view is judged on it
// (testdata/README.md gives the columns). The values are written by two
// scripts beside them, which say how each is computed and check their own
// methods against closed forms first: reference.m (GNU Octave's queueing
// package, and closed-form distributions) for the exponential cases,
// reference.py (Python with mpmath) for the others. The files are
// committed; run the scripts to regenerate them.
//
// The first cases pin the semantics kendall has today: M/M/1, M/M/2, M/M/8
// and M/M/64 at several loads; a tandem of single-worker services, whose
// end-to-end distribution is exact by Reich's theorem; a probabilistic
// call on an overtake-free route, exact by Walrand and Varaiya; a network
// of probabilistic and repeated calls with a shared database, whose
// per-service figures and end-to-end mean are exact (a Kelly network);
// one station for each non-exponential distribution (M/D/1, M/E4/1, M/LN/1
// at cv 0.5 and 2); and M/D/2. The cases of issue 10 ("never overclaim")
// follow: M/D/8 at 30% load, light smooth load on which the simulator's
// warm-up rule once misfired; a deterministic service feeding another,
// which never has a request waiting (its wait is exactly 0, on every
// sample path); M/E4/2 at 0.8, exact by the CTMC of its phases, where the
// model approximates; and a request that calls a single-worker database
// six times in a row, whose per-service figures and mean are exact (Kelly)
// and whose end-to-end percentiles, which the model approximates, are
// exact by a branching-process transform. Parallel calls and held workers
// (issue 11) add a fork-join of two M/M/1 branches, whose end-to-end mean
// is exact by Flatto and Hahn; the first of two calls and 2 of 3, to
// services that never wait, exact by order statistics of independent
// exponentials; and a worker, then a pool of two, held across a call that
// never waits, exactly M/D/1 and M/D/2 with the holding time as the
// service time. Every later feature adds its cases here: a field is not
// done until the three interpreters agree on a case that uses it.
//
// # How each view is judged
//
// The model (TestModel) is held to each figure by relative error: 1e-9
// for closed forms, 1e-6 or 1e-5 where it inverts a transform numerically;
// a figure whose value is 0 by absolute error, and the simulator to
// exactly 0 there.
// A figure the model only approximates is marked approx in the reference,
// with the error the model makes today as its tolerance, so that a change
// that makes it worse fails and one that makes it better shows in the log.
// The model must not label exact a service with an approximate figure.
//
// The simulator (TestSimulator) runs every case with a fixed seed per case
// and independent replications, and each figure's distance from the
// reference is measured in standard errors of the estimate. A case's m
// checks are made each at level 1 − 10⁻⁶/m, so that together they fail a
// correct simulator with probability below 10⁻⁶ (Bonferroni), and the suite
// below 10⁻⁴ while it has fewer than a hundred cases. The bound is the
// Student t quantile for the replications (8.5 standard errors with 20),
// not a percentage; a percentile has an allowance for the resolution of
// the histogram it is read from, derived in TestSimulator. The runs are
// sized so that a wrong semantics is far beyond the bound; under the race
// detector they are five or more times shorter, with wider intervals, and
// the cases at utilization 0.9 and above are not judged on their p99 and
// p999, whose intervals such short replications make too short (simRuns
// says why).
//
// The emulation (TestMeasured) runs the cases that have figures marked for
// it, as real HTTP services on loopback, several copies side by side, for a
// few seconds, with fixed seeds. Each measured end-to-end figure is judged
// by its z-score: its distance from the reference over the run-to-run
// standard deviation of a measurement that long, which the simulator
// computes from a hundred runs of the same number of requests. The real
// HTTP overhead, which the semantics leave out, only adds latency, and is
// forgiven up to a bound per visit on that side. A run the load generator
// marks not trustworthy, or with a failed request, is not judged: the test
// makes it again, and fails, saying the machine could not run it, if no
// attempt is trustworthy. With -short the emulation is skipped.
//
// Seeds are fixed everywhere, so each test either always passes or always
// fails on given code; the levels above are how unlikely it is that a
// correct implementation fails with the seeds chosen.
package conformance
