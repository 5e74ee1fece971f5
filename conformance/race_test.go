//go:build race

package conformance

// raceEnabled is set when the tests run under the race detector, which
// makes the simulator about 20 times and the emulation about 4 times as
// expensive in CPU.
const raceEnabled = true
