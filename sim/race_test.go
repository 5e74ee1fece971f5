//go:build race

package sim

// Under the race detector the kernel runs some fifteen times slower. The
// statistical tests then run a quarter of their requests: the same
// assertions, at the same confidence level, on wider intervals. The race
// detector watches Run's goroutines, which a short run exercises as well
// as a long one.
const raceEnabled = true
