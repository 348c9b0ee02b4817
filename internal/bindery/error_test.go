package bindery_test

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/bindery/bindery/internal/bindery"
)

// sqliteErr stands for the SQLite driver's error: a Code method with the
// (extended) result code.
type sqliteErr int

func (e sqliteErr) Error() string { return fmt.Sprintf("sqlite error %d", int(e)) }
func (e sqliteErr) Code() int     { return int(e) }

func TestErrorCodeOfAFullDisk(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"ENOSPC in a path error", fmt.Errorf("upload: %w", &fs.PathError{Op: "write", Path: "/data/x", Err: syscall.ENOSPC}), bindery.EINSUFFICIENT},
		{"EDQUOT", fmt.Errorf("w: %w", syscall.EDQUOT), bindery.EINSUFFICIENT},
		{"SQLITE_FULL", fmt.Errorf("insert: %w", sqliteErr(13)), bindery.EINSUFFICIENT},
		{"SQLITE_IOERR_WRITE (778) is not a full disk", sqliteErr(778), bindery.EINTERNAL},
		{"SQLITE_CONSTRAINT", sqliteErr(19), bindery.EINTERNAL},
		{"EACCES", syscall.EACCES, bindery.EINTERNAL},
		{"an *Error wins", fmt.Errorf("%w: %w", bindery.Errorf(bindery.ETOOLARGE, "big"), syscall.ENOSPC), bindery.ETOOLARGE},
		{"other", errors.New("boom"), bindery.EINTERNAL},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := bindery.ErrorCode(tc.err); got != tc.want {
				t.Errorf("ErrorCode = %q, want %q", got, tc.want)
			}
			msg := bindery.ErrorMessage(tc.err)
			if tc.want == bindery.EINSUFFICIENT && msg != bindery.MessageNoSpace {
				t.Errorf("ErrorMessage = %q", msg)
			}
			if tc.want == bindery.EINTERNAL && msg != "Internal error." {
				t.Errorf("ErrorMessage = %q leaks detail", msg)
			}
		})
	}
}
