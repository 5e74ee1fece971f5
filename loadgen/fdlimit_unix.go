//go:build unix

package loadgen

import "syscall"

// fileLimit is the process's limit of open files (RLIMIT_NOFILE, which the
// Go runtime raises to the hard limit at start on Linux and the BSDs), or 0
// when it cannot be read.
func fileLimit() int {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	n := lim.Cur
	if n > 1<<30 { // RLIM_INFINITY, or near enough
		n = 1 << 30
	}
	return int(n)
}
