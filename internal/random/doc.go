// Package random is what the simulator (package sim) and the emulation
// (package emulate) share of randomness: the random streams a run derives
// from its one seed (stream.go), and the service times drawn from them
// (servicetime.go), parameterized as the model (package model) reads the
// topology's distributions. Both interpreters draw their service times
// here, so that a distribution means the same thing in both.
package random
