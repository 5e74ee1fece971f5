// Package random is what kendall's packages share of randomness: the random
// streams a run derives from its one seed (stream.go), from which the
// simulator (package sim) draws its replications, the emulation (package
// emulate) its service times and coin flips, and the load generator
// (package loadgen) its arrivals; and the service times drawn from them
// (servicetime.go), parameterized as the model (package model) reads the
// topology's distributions. The simulator and the emulation draw their
// service times here, so that a distribution means the same thing in both.
package random
