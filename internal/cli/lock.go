package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on the data folder for the life of
// the server. The SQLite deployment is one server per data folder: the job
// queue's crash recovery relies on it (a run marked running belongs to a
// process that is gone), and two servers would race on the book files.
// The lock is released by the kernel when the process dies, even by
// SIGKILL, so a crash never leaves a stale lock.
func lockDataDir(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("BINDERY_DATA_DIR: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "serve.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("BINDERY_DATA_DIR: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("BINDERY_DATA_DIR (%s) is in use by another bindery serve", dir)
		}
		return nil, fmt.Errorf("BINDERY_DATA_DIR: locking: %w", err)
	}
	return func() { f.Close() }, nil
}
