//go:build !linux

package main

import (
	"errors"
	"sync/atomic"
)

// The clients' poller uses epoll; elsewhere the bench does not run.
type poller struct{}

func newPoller() (*poller, error) {
	return nil, errors.New("bench/ws: the clients need Linux (epoll)")
}
func (*poller) add(*wsConn) error              { return nil }
func (*poller) close()                         {}
func (*poller) loop(*atomic.Bool, func(int64)) {}
func writeFD(int, []byte) error                { return errors.ErrUnsupported }
func closeFD(int)                              {}
