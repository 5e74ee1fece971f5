//go:build linux && (amd64 || arm64)

package clock

import (
	"os"
	"syscall"
	"time"
	"unsafe"
)

// timerfd is a Timer on a Linux timerfd (timerfd_create(2)) that the
// Go runtime's netpoller watches like a socket: a goroutine that reads it
// parks without holding a thread, and wakes when the kernel's
// high-resolution timer fires rather than at the next millisecond of
// epoll_wait's timeout.
type timerfd struct {
	f   *os.File
	raw syscall.RawConn
	buf [8]byte
}

// itimerspec is struct itimerspec of timerfd_settime(2).
type itimerspec struct {
	interval syscall.Timespec
	value    syscall.Timespec
}

const clockMonotonic = 1 // CLOCK_MONOTONIC, unaffected by changes of the wall clock

// NewTimer returns a timerfd, or Go's timer if the kernel will not give one.
func NewTimer() Timer {
	fd, _, errno := syscall.Syscall(syscall.SYS_TIMERFD_CREATE, clockMonotonic, syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if errno != 0 {
		return GoTimer{} // out of descriptors, or a kernel without timerfd
	}
	f := os.NewFile(fd, "timerfd") // non-blocking, so the netpoller takes it
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return GoTimer{}
	}
	return &timerfd{f: f, raw: raw}
}

func (t *timerfd) Sleep(d time.Duration) {
	if d <= 0 {
		return
	}
	spec := itimerspec{value: syscall.NsecToTimespec(int64(d))}
	var errno syscall.Errno
	err := t.raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall6(syscall.SYS_TIMERFD_SETTIME, fd, 0, uintptr(unsafe.Pointer(&spec)), 0, 0, 0)
	})
	if err != nil || errno != 0 {
		time.Sleep(d)
		return
	}
	// The read blocks (parks the goroutine) until the timer has fired, and
	// returns the number of expirations.
	if _, err := t.f.Read(t.buf[:]); err != nil {
		time.Sleep(d)
	}
}

func (t *timerfd) Close()       { t.f.Close() }
func (t *timerfd) Kind() string { return "timerfd" }
