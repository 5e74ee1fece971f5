// Package validate puts kendall's three views of one topology side by side
// over a sweep of load: at each rate, the queueing model's prediction
// (package model), a simulation to a set precision (package sim), and a
// measurement of real HTTP services (package loadgen: the topology's own
// endpoints, or its emulation on loopback). The result is a reports.Report,
// which package reports draws as plots, tables and a page.
//
// A measurement is one short run, and near saturation its percentiles
// scatter from run to run. So that a gap between the model and a
// measurement can be told from the luck of one run, each measured figure is
// given the run-to-run spread of a measurement that long: the 95%
// prediction interval of one more run, from simulated runs of the same
// number of requests (Spread).
//
// The sweep is resumable in the sense that matters: after each rate the
// caller's Checkpoint is called with the report so far, so nothing measured
// is lost when a later rate fails or the run is interrupted.
package validate
