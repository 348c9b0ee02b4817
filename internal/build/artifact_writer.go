package build

import (
	"bufio"
	"io"
	"os"
	"path/filepath"
)

// WriteAtomic writes the file at path through write: into a temporary file
// in the same folder (same file system, so the rename is atomic), flushed
// and synced, then renamed over path. On any error the temporary file is
// removed and path is left as it was.
func WriteAtomic(path string, write func(io.Writer) error) (a Artifact, err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return a, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return a, err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 256<<10)
	cw := &countingWriter{w: bw}
	if err = write(cw); err != nil {
		return a, err
	}
	if err = bw.Flush(); err != nil {
		return a, err
	}
	if err = tmp.Sync(); err != nil {
		return a, err
	}
	if err = tmp.Chmod(0o644); err != nil { // CreateTemp makes 0600
		return a, err
	}
	if err = tmp.Close(); err != nil {
		return a, err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return a, err
	}
	return Artifact{Path: path, Size: cw.n}, nil
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
