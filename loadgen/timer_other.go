//go:build !(linux && (amd64 || arm64))

package loadgen

// newPreciseTimer returns Go's timer where no better one is implemented; the
// workers' overshoot debt still keeps the realized mean service time exact.
func newPreciseTimer() preciseTimer { return goTimer{} }
