//go:build !plan9

package loadgen

import (
	"errors"
	"syscall"
)

// errnoClass is the class of the system error in err, or "".
func errnoClass(err error) string {
	switch {
	case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE):
		return ClassTooManyOpenFiles
	case errors.Is(err, syscall.ECONNREFUSED):
		return ClassConnectionRefused
	case errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNABORTED):
		return ClassConnectionReset
	}
	return ""
}
