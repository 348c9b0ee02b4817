package bookfs

import (
	"context"
	"errors"
	"io"
	"os"
	"path"
	"strings"
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

// isChapter reports whether name is where the build looks for chapters
// (chapters/*.md, *.markdown).
func isChapter(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return path.Dir(name) == "chapters" && (ext == ".md" || ext == ".markdown")
}

// checkChapter refuses a chapter that the build would refuse on its own —
// too large, nested too deeply, shaped to make parsing super-linear — with
// the build's message (manuscript.CheckChapter), so that an upload never
// stores what would then break every build and preview of the book.
func checkChapter(ctx context.Context, f *os.File, name string, lim manuscript.Limits) error {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	data, err := io.ReadAll(io.LimitReader(f, lim.MaxChapterBytes+1))
	if err != nil {
		return err
	}
	if err := manuscript.CheckChapter(ctx, name, data, lim); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return bindery.Errorf(bindery.EUNPROCESSABLE, "%s", err)
	}
	return nil
}
