package pdf

import (
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"
	"sync"
	"unicode"

	"github.com/bindery/bindery/internal/fontcheck"
)

// Limits of the fallback font search (see Options.FontDirs). A font
// folder is walked once per process; the walk stops after
// maxFallbackEntries entries and maxFallbackDepth levels, and at most
// maxFallbackParsed font files are ever read and parsed, so that a book
// of characters no font has costs a bounded amount of work however many
// fonts the system holds.
const (
	maxFallbackEntries = 20000
	maxFallbackDepth   = 6
	maxFallbackParsed  = 48
)

// fontFile is a font file found in a fallback folder.
type fontFile struct {
	dir  string // the folder of Options.FontDirs it was found in
	path string // slash path inside dir
	key  string // lower-case base name without extension, for matching
}

// fallbackSet is the fallback fonts of one list of folders: the files
// found, in order of preference, and those parsed so far. It is shared by
// concurrent renders: mu guards parsed, nparsed and byRune.
type fallbackSet struct {
	files []fontFile

	mu      sync.Mutex
	parsed  []*parsedFont // by files index; nil: not read yet
	tried   []bool        // by files index: read (usable or not)
	nparsed int
	byRune  map[rune]int // the file that covers a rune, -1 for none
}

var (
	fallbackMu   sync.Mutex
	fallbackSets = map[string]*fallbackSet{}
)

// fallbackFonts returns the fallback fonts of dirs, walking them on the
// first call of the process for that list. Nil for no folders.
func fallbackFonts(dirs []string) *fallbackSet {
	if len(dirs) == 0 {
		return nil
	}
	key := strings.Join(dirs, "\x00")
	fallbackMu.Lock()
	defer fallbackMu.Unlock()
	if s, ok := fallbackSets[key]; ok {
		return s
	}
	s := &fallbackSet{byRune: map[rune]int{}}
	entries := 0
	for _, dir := range dirs {
		if dir == "" {
			continue
		}
		s.files = append(s.files, scanFontDir(dir, &entries)...)
	}
	slices.SortStableFunc(s.files, func(a, b fontFile) int { return fontRank(a.key) - fontRank(b.key) })
	s.parsed = make([]*parsedFont, len(s.files))
	s.tried = make([]bool, len(s.files))
	fallbackSets[key] = s
	return s
}

// scanFontDir lists the TrueType and OpenType files under dir (not font
// collections, which the embedder cannot read), through an os.Root: a
// symbolic link leading out of the folder is not followed, so the search
// never reads outside the folders it is given. Italic, bold and other
// non-regular styles are left out: a fallback sets characters the book's
// family lacks, in the regular weight (made slanted or bold as the text
// asks, see shaper.systemFace).
func scanFontDir(dir string, entries *int) []fontFile {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil
	}
	defer root.Close()
	var out []fontFile
	_ = fs.WalkDir(root.FS(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		*entries++
		if *entries > maxFallbackEntries {
			return fs.SkipAll
		}
		if d.IsDir() {
			if strings.Count(p, "/") >= maxFallbackDepth {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		ext := strings.ToLower(path.Ext(p))
		if ext != ".ttf" && ext != ".otf" {
			return nil
		}
		key := strings.ToLower(strings.TrimSuffix(path.Base(p), path.Ext(p)))
		for _, style := range []string{"bold", "italic", "oblique", "light", "thin", "black", "medium", "semi", "extra", "condensed", "narrow", "mono", "display"} {
			if strings.Contains(key, style) {
				return nil
			}
		}
		if info, err := d.Info(); err != nil || info.Size() > MaxFontBytes {
			return nil
		}
		out = append(out, fontFile{dir: dir, path: p, key: key})
		return nil
	})
	return out
}

// fontRank orders fallback candidates: Noto before others, serif before
// sans (the bundled text face is a serif), text faces before display and
// calligraphic ones (Kufi, Rashi, Nastaliq, Looped), UI variants last.
func fontRank(key string) int {
	r := 0
	switch {
	case strings.Contains(key, "serif"):
	case strings.Contains(key, "sans"):
		r++
	default:
		r += 2
	}
	for _, d := range []string{"kufi", "rashi", "nastaliq", "looped", "ui"} {
		if strings.Contains(key, d) {
			r += 3
		}
	}
	if !strings.HasPrefix(key, "noto") {
		r += 8
	}
	return r
}

// scriptHints are file-name fragments of fonts for a script other than
// its name: Noto calls its CJK fonts "CJK", Debian's TrueType CJK font is
// Droid Sans Fallback, emoji are in Symbola or an emoji font.
var scriptHints = map[string][]string{
	"han": {"cjk", "fallback", "han"}, "hiragana": {"cjk", "fallback", "jp"}, "katakana": {"cjk", "fallback", "jp"},
	"hangul": {"cjk", "fallback", "kr"}, "bopomofo": {"cjk", "fallback"},
	"common": {"symbols", "symbola", "emoji", "math", "notosans-regular", "fallback"},
}

// scriptOf returns the lower-case name of r's Unicode script.
func scriptOf(r rune) string {
	for name, tab := range unicode.Scripts {
		if unicode.Is(tab, r) {
			return strings.ToLower(name)
		}
	}
	return "common"
}

// lookup returns a font that has a glyph for r, or nil. Fonts whose
// names name r's script are tried first, then the others in order of
// preference, reading at most maxFallbackParsed files in all.
func (s *fallbackSet) lookup(r rune) *parsedFont {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i, ok := s.byRune[r]; ok {
		if i < 0 {
			return nil
		}
		return s.parsed[i]
	}
	script := scriptOf(r)
	hints := append([]string{script}, scriptHints[script]...)
	found := -1
	try := func(i int) bool {
		pf := s.load(i)
		if pf == nil {
			return false
		}
		if g, ok := pf.gt.NominalGlyph(r); ok && g != 0 {
			found = i
			return true
		}
		return false
	}
	// Fonts already read first (cheap), then those named for the script,
	// then any.
	for i := range s.files {
		if s.parsed[i] != nil && try(i) {
			break
		}
	}
	if found < 0 {
	hinted:
		for _, h := range hints {
			for i, f := range s.files {
				if strings.Contains(f.key, h) && try(i) {
					break hinted
				}
			}
		}
	}
	if found < 0 {
		for i := range s.files {
			if try(i) {
				break
			}
		}
	}
	s.byRune[r] = found
	if found < 0 {
		return nil
	}
	return s.parsed[found]
}

// load reads and parses file i once; nil when it cannot be used (it does
// not parse, has no TrueType outlines, or its licence forbids embedding:
// a restricted font is skipped, never embedded) or the parse budget is
// spent. s.mu is held.
func (s *fallbackSet) load(i int) *parsedFont {
	if s.tried[i] {
		return s.parsed[i]
	}
	if s.nparsed >= maxFallbackParsed {
		return nil
	}
	s.tried[i] = true
	s.nparsed++
	f := s.files[i]
	root, err := os.OpenRoot(f.dir)
	if err != nil {
		return nil
	}
	defer root.Close()
	data, err := readLimited(root, f.path)
	if err != nil {
		return nil
	}
	if fontcheck.Licence(data) != nil {
		return nil
	}
	pf, err := parseData(data)
	if err != nil {
		return nil
	}
	s.parsed[i] = &pf
	return &pf
}

// readLimited reads a file of root, refusing one over MaxFontBytes (it
// may have grown since the folder was walked).
func readLimited(root *os.Root, name string) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() || info.Size() > MaxFontBytes {
		return nil, fs.ErrInvalid
	}
	buf := make([]byte, info.Size())
	n, err := f.Read(buf)
	for n < len(buf) && err == nil {
		var m int
		m, err = f.Read(buf[n:])
		n += m
	}
	if n < len(buf) {
		return nil, fs.ErrInvalid
	}
	return buf, nil
}
