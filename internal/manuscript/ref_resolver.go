package manuscript

import (
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strings"
)

// RefKind tells what a link or image reference points at.
type RefKind int

const (
	RefExternal RefKind = iota + 1 // an http, https or mailto URL
	RefChapter                     // a chapter of this book, perhaps a heading in it
	RefFile                        // another file of the book folder (an image, say)
)

// Ref is a resolved reference.
type Ref struct {
	Kind     RefKind
	URL      string   // RefExternal: the URL as written
	Path     string   // RefChapter, RefFile: slash path relative to the book folder
	Chapter  *Chapter // RefChapter
	Fragment string   // RefChapter: the ID after "#", or ""
}

// Errors of Resolve; match them with errors.Is.
var (
	ErrOutside  = errors.New("points outside the book folder")
	ErrNotFound = errors.New("no such file in the book folder")
	ErrScheme   = errors.New("URL scheme not allowed (only http, https, mailto and paths inside the book)")
)

// Resolve resolves ref, a link or image URL written in the file from (a
// slash path relative to the book folder, such as "chapters/02-storm.md").
//
// A relative path is tried first relative to from's folder
// ("../assets/images/map.png", "03-calm.md#dawn") and then relative to the
// book folder ("assets/images/map.png"), as pandoc users expect; the first
// that names an existing file wins. "#id" alone is a place in from itself.
// http, https and mailto URLs are external. Everything else fails: other
// schemes (javascript:, data:, file:, …) with ErrScheme; absolute paths,
// host-relative "//host" URLs and paths that climb out of the book folder
// with ErrOutside — lexically, and again at the file system, where os.Root
// refuses symbolic links that lead outside; missing files with ErrNotFound.
// So no Ref ever names a file outside the book folder.
func (m *Manuscript) Resolve(from, ref string) (Ref, error) {
	ref = strings.TrimSpace(ref)
	u, err := url.Parse(ref)
	if err != nil {
		return Ref{}, ErrNotFound
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto":
		return Ref{Kind: RefExternal, URL: ref}, nil
	case "":
	default:
		return Ref{}, ErrScheme
	}
	if u.Host != "" || u.User != nil || strings.HasPrefix(ref, "//") || strings.HasPrefix(u.Path, "/") || strings.Contains(u.Path, "\\") {
		return Ref{}, ErrOutside
	}
	if u.Path == "" {
		c := m.byPath[from]
		if c == nil || u.Fragment == "" {
			return Ref{}, ErrNotFound
		}
		return Ref{Kind: RefChapter, Path: from, Chapter: c, Fragment: u.Fragment}, nil
	}
	// Report ErrOutside when a candidate is refused by os.Root or when every
	// candidate climbs out lexically; a plain missing file is ErrNotFound.
	err = ErrOutside
	for _, p := range [2]string{path.Join(path.Dir(from), u.Path), path.Clean(u.Path)} {
		if !fs.ValidPath(p) || p == "." {
			continue // climbs out of the book folder
		}
		switch m.stat(p) {
		case fileRegular:
			if c := m.byPath[p]; c != nil {
				return Ref{Kind: RefChapter, Path: p, Chapter: c, Fragment: u.Fragment}, nil
			}
			return Ref{Kind: RefFile, Path: p}, nil
		case fileOutside:
			return Ref{}, ErrOutside
		default:
			err = ErrNotFound
		}
	}
	return Ref{}, err
}

type fileKind int

const (
	fileMissing fileKind = iota + 1
	fileRegular
	fileOther   // a folder, device, …
	fileOutside // os.Root refused it: a symbolic link out of the book, a loop, …
)

func (m *Manuscript) stat(p string) fileKind {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.stats[p]; ok {
		return k
	}
	k := fileRegular
	fi, err := m.root.Stat(p)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		k = fileMissing
	case err != nil:
		k = fileOutside
	case !fi.Mode().IsRegular():
		k = fileOther
	}
	m.stats[p] = k
	return k
}

// Image media types a book may use: the EPUB 3.3 core image types, less
// SVG, which can carry scripts. (WebP became a core type in EPUB 3.3;
// package epub converts it to PNG for older readers.)
var imageTypes = map[string]string{
	".jpg":  "image/jpeg",
	".jpeg": "image/jpeg",
	".png":  "image/png",
	".gif":  "image/gif",
	".webp": "image/webp",
}

// ErrNotImage is returned by ImageType for files that are not a JPEG, PNG,
// GIF or WebP image whose content agrees with its extension.
var ErrNotImage = errors.New("not a JPEG, PNG, GIF or WebP image (by extension and content)")

// ImageType returns the media type of the image at the slash path p of the
// book folder. The extension and the first bytes of the content must agree:
// a renamed file (an HTML page called map.png) is refused rather than
// served under a type it does not have.
func (m *Manuscript) ImageType(p string) (string, error) {
	want, ok := imageTypes[strings.ToLower(path.Ext(p))]
	if !ok {
		return "", ErrNotImage
	}
	f, err := m.root.Open(p)
	if err != nil {
		return "", ErrNotFound
	}
	defer f.Close()
	head := make([]byte, 512)
	n, err := io.ReadFull(f, head)
	if err != nil && n == 0 {
		return "", ErrNotImage
	}
	if http.DetectContentType(head[:n]) != want {
		return "", ErrNotImage
	}
	return want, nil
}
