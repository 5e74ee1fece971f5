//go:build !(linux && (amd64 || arm64))

package clock

// NewTimer returns Go's timer where no better one is implemented; the
// emulated workers' overshoot debt still keeps the realized mean service
// time exact.
func NewTimer() Timer { return GoTimer{} }
