package bookfs

import (
	"errors"
	"io"
	"os"
	"syscall"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/manuscript"
)

// checkMetadata parses an uploaded metadata.yaml with the manuscript's
// limits, so that a broken file is refused at upload (EUNPROCESSABLE with
// "metadata.yaml:LINE: message") instead of breaking the next build.
func checkMetadata(f *os.File) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxMetadataBytes+1))
	if err != nil {
		return err
	}
	if len(data) > maxMetadataBytes {
		return bindery.Errorf(bindery.ETOOLARGE, "metadata.yaml is larger than %d bytes.", maxMetadataBytes)
	}
	if _, err := manuscript.ParseMetadata(data); err != nil {
		return bindery.Errorf(bindery.EUNPROCESSABLE, "%s", err.Error())
	}
	return nil
}

func isNotDir(err error) bool {
	return errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.ELOOP)
}
