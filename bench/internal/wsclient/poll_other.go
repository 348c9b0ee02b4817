//go:build !linux

package wsclient

import (
	"errors"
	"sync/atomic"
)

// The clients' poller uses epoll; elsewhere the bench does not run.
type Poller struct{}

func NewPoller() (*Poller, error) {
	return nil, errors.New("wsclient: the clients need Linux (epoll)")
}
func (*Poller) Add(*Conn) error                { return nil }
func (*Poller) Close()                         {}
func (*Poller) Loop(*atomic.Bool, func(int64)) {}
func writeFD(int, []byte) error                { return errors.ErrUnsupported }
func closeFD(int)                              {}
