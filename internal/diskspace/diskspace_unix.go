//go:build unix

package diskspace

import "golang.org/x/sys/unix"

func statFree(dir string) (uint64, bool, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, false, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), true, nil // #nosec G115 -- block size and count are never negative
}
