// Package leaktest checks, in tests, that every goroutine a test started has
// ended with it: the load generator and the emulation promise that none of
// theirs outlives its owner.
package leaktest

import (
	"runtime"
	"testing"
	"time"
)

// Check fails the test if, some time after it ends, more goroutines run
// than when Check was called. Goroutines that end on their own shortly
// after, such as an HTTP connection's closing, are given 5 seconds; those
// left after that are printed.
func Check(t testing.TB) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before {
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				t.Errorf("%d goroutines left running, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
