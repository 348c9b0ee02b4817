// Package diskspace tells how much room is left in a folder's file system,
// so the server can say it is not ready before a full disk turns every
// write into an error (issue 13: "Disk full").
package diskspace

// Free returns the bytes available to an unprivileged writer in the file
// system that holds dir (statfs's f_bavail × f_bsize: the root-reserved
// blocks do not count, as Bindery should not depend on them). ok is false
// where the platform cannot tell; err reports a folder that cannot be
// examined.
func Free(dir string) (free uint64, ok bool, err error) { return statFree(dir) }
