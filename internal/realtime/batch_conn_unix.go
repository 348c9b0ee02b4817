//go:build unix

package realtime

import "syscall"

// writeNow writes p to fd, a socket in non-blocking mode (as every
// socket of the Go runtime is), once and without waiting. It returns how
// many bytes the socket took: 0 when its buffer is full, or on an error,
// which the slow path then meets and reports.
func writeNow(fd uintptr, p []byte) int {
	for {
		n, err := syscall.Write(int(fd), p)
		if err == syscall.EINTR {
			continue
		}
		return max(n, 0)
	}
}
