package manuscript

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
)

// Manuscript is a loaded book folder.
//
// It keeps using the *os.Root given to Load to read images and stylesheets
// on demand (ReadFile), so the caller must keep that root open until it has
// finished rendering, and close it afterwards. A Manuscript is safe for
// concurrent use; its exported fields must not be modified after Load.
type Manuscript struct {
	Metadata Metadata
	Chapters []*Chapter

	root   *os.Root
	limits Limits
	byPath map[string]*Chapter
	// noMetadata: the folder has no metadata.yaml at all (Check says so,
	// rather than listing each field as missing).
	noMetadata bool

	mu    sync.Mutex
	stats map[string]fileKind // cache of root.Stat results, by slash path
}

// Load reads the book folder behind root with DefaultLimits.
func Load(root *os.Root) (*Manuscript, error) {
	return LoadContext(context.Background(), root)
}

// LoadContext is Load that stops with ctx's error soon after ctx is done
// (between chapters, and within the parse of a chapter).
func LoadContext(ctx context.Context, root *os.Root) (*Manuscript, error) {
	return LoadLimits(ctx, root, DefaultLimits)
}

// LoadLimits reads the book folder behind root under lim (a zero field
// takes its default): metadata.yaml (optional, but Check reports what it
// lacks) and chapters/*.md in file-name order (at least one). Errors are
// *Error values naming the file and line, except failures of the file
// system itself and ctx's error, returned soon after ctx is done.
func LoadLimits(ctx context.Context, root *os.Root, lim Limits) (*Manuscript, error) {
	return loadLimits(ctx, root, lim)
}

func loadLimits(ctx context.Context, root *os.Root, lim Limits) (*Manuscript, error) {
	lim = lim.withDefaults()
	m := &Manuscript{root: root, limits: lim, byPath: map[string]*Chapter{}, stats: map[string]fileKind{}}

	data, err := m.readFile(MetadataFile, lim.MaxMetadataBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		m.noMetadata = true
	case err != nil:
		return nil, err
	default:
		if m.Metadata, err = parseMetadata(data, lim); err != nil {
			return nil, err
		}
	}

	names, err := m.chapterFiles()
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	var text int64
	for i, name := range names {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		data, err := m.readFile(name, lim.MaxChapterBytes)
		if err != nil {
			return nil, err
		}
		text += int64(len(data))
		if err := lim.BookTextProblem(name, text); err != nil {
			return nil, err
		}
		c, err := parseChapter(ctx, name, data, lim)
		if err != nil {
			return nil, err
		}
		c.Index, c.ID = i, chapterID(name, used)
		m.Chapters = append(m.Chapters, c)
		m.byPath[name] = c
	}
	return m, nil
}

// LoadChapter reads, under lim, only what a preview of one chapter needs:
// metadata.yaml, the names of the chapter files (for chapter IDs and links
// between chapters) and the chapter file itself, which it returns parsed.
// The other chapters are listed with Path, Index, ID and a title made from
// the file name, but are neither read nor parsed (Body and Doc are nil), so
// previewing a one-line chapter of a book of large chapters costs one line,
// and a broken or pathological other chapter cannot make it fail. The
// result is for rendering that chapter only; Check and the book outputs
// need Load. file is a slash path such as "chapters/02-storm.md"; a file
// that is not a chapter of the book gives fs.ErrNotExist.
// It stops with ctx's error soon after ctx is done.
func LoadChapter(ctx context.Context, root *os.Root, file string, lim Limits) (*Manuscript, *Chapter, error) {
	lim = lim.withDefaults()
	m := &Manuscript{root: root, limits: lim, byPath: map[string]*Chapter{}, stats: map[string]fileKind{}}
	data, err := m.readFile(MetadataFile, lim.MaxMetadataBytes)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, nil, err
	default:
		if m.Metadata, err = parseMetadata(data, lim); err != nil {
			return nil, nil, err
		}
	}
	names, err := m.chapterFiles()
	if err != nil {
		return nil, nil, err
	}
	var target *Chapter
	used := map[string]bool{}
	for i, name := range names {
		c := &Chapter{Path: name, Title: titleFromFileName(name)}
		if name == file {
			data, err := m.readFile(name, lim.MaxChapterBytes)
			if err != nil {
				return nil, nil, err
			}
			if c, err = parseChapter(ctx, name, data, lim); err != nil {
				return nil, nil, err
			}
			target = c
		}
		c.Index, c.ID = i, chapterID(name, used)
		m.Chapters = append(m.Chapters, c)
		m.byPath[name] = c
	}
	if target == nil {
		return nil, nil, fs.ErrNotExist
	}
	return m, target, nil
}

// chapterFiles lists chapters/*.md (and *.markdown), sorted by name. Hidden
// files ("._x.md" from macOS, editor swap files) are skipped.
func (m *Manuscript) chapterFiles() ([]string, error) {
	dir, err := m.root.Open(ChaptersDir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, errorf(ChaptersDir+"/", 0, "no chapters folder")
		}
		return nil, errorf(ChaptersDir+"/", 0, "%v", cleanPathError(err))
	}
	defer dir.Close()
	var names []string
	for {
		entries, err := dir.ReadDir(256)
		for _, e := range entries {
			n := e.Name()
			if strings.HasPrefix(n, ".") || e.IsDir() {
				continue
			}
			if ext := strings.ToLower(path.Ext(n)); ext != ".md" && ext != ".markdown" {
				continue
			}
			if len(names) == m.limits.MaxChapters {
				return nil, errorf(ChaptersDir+"/", 0, "more than %d chapters", m.limits.MaxChapters)
			}
			names = append(names, ChaptersDir+"/"+n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, errorf(ChaptersDir+"/", 0, "%v", cleanPathError(err))
		}
	}
	if len(names) == 0 {
		return nil, errorf(ChaptersDir+"/", 0, "no chapter files (*.md)")
	}
	sort.Strings(names)
	return names, nil
}

// Chapter returns the chapter with the given slash path, or nil.
func (m *Manuscript) Chapter(file string) *Chapter { return m.byPath[file] }

// ReadFile reads a file of the book folder (a slash path as returned by
// Resolve), refusing files over Limits.MaxAssetBytes. The read goes through
// the os.Root, so it cannot leave the book folder even if the file was
// replaced by a symbolic link after it was resolved.
func (m *Manuscript) ReadFile(name string) ([]byte, error) {
	return m.readFile(name, m.limits.MaxAssetBytes)
}

func (m *Manuscript) readFile(name string, max int64) ([]byte, error) {
	f, err := m.root.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, errorf(name, 0, "%v", cleanPathError(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, errorf(name, 0, "%v", cleanPathError(err))
	}
	if !fi.Mode().IsRegular() {
		return nil, errorf(name, 0, "not a regular file")
	}
	if fi.Size() > max {
		return nil, errorf(name, 0, "file too large: %d bytes (limit %d)", fi.Size(), max)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, errorf(name, 0, "%v", cleanPathError(err))
	}
	if int64(len(data)) > max {
		return nil, errorf(name, 0, "file too large (limit %d bytes)", max)
	}
	return data, nil
}

// cleanPathError drops the path from an *fs.PathError: our messages name the
// book-relative file already, and the OS path must not leak into reports.
func cleanPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Op, pe.Err)
	}
	return err
}
