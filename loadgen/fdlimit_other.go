//go:build !unix

package loadgen

// fileLimit is 0, unknown, where there is no RLIMIT_NOFILE to read.
func fileLimit() int { return 0 }
