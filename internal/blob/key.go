package blob

import (
	"context"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/bindery"
)

// Key limits. MaxKeyBytes leaves room under S3's 1,024-byte object name
// for a deployment prefix (S3Config.Prefix) and under Linux's PATH_MAX;
// MaxComponentBytes is NAME_MAX, so every component is a legal file name
// for the local backend.
const (
	MaxKeyBytes       = 768
	MaxComponentBytes = 255
	MaxKeyDepth       = 16
)

// CheckKey reports whether key is a valid blob key, and is the one
// function every backend calls before touching storage. A key is a
// relative slash path of 1 to MaxKeyBytes bytes of valid UTF-8, at most
// MaxKeyDepth components of 1 to MaxComponentBytes bytes each, with:
//
//   - no leading or trailing "/", and no empty component ("a//b"): one
//     object has one name, on a file system and in a bucket alike;
//   - no "." or ".." component, and no component starting with "." at
//     all: ".." would climb out of the local root (os.Root refuses it too,
//     but the key should never get that far), and dot names are reserved
//     for the backends' own temporary files (".tmp/…"), which therefore
//     can never be named, listed, opened or overwritten through a key;
//   - no backslash, which Windows tools and some S3 gateways read as a
//     separator;
//   - no control or format character (bindery.NameRune: NUL, newlines,
//     bidirectional overrides, zero-width characters): they end C strings,
//     split log lines and make one name display as another.
//
// It returns nil or an EINVALID *bindery.Error whose message names the
// problem but never echoes the key (a hostile key must not reach a log
// line or a client through our error text).
func CheckKey(key string) error {
	return checkPath(key, false)
}

// CheckPrefix reports whether prefix may be given to List or PutContent:
// "" (everything) or a valid key followed by "/" (one folder of keys).
// A bare "a/b" (no trailing slash) is refused so that "books/1" never
// also lists "books/10/…".
func CheckPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	if !strings.HasSuffix(prefix, "/") {
		return invalid("a prefix must be empty or end with /")
	}
	return checkPath(strings.TrimSuffix(prefix, "/"), true)
}

func invalid(why string) error {
	return bindery.Errorf(bindery.EINVALID, "Invalid storage key: %s.", why)
}

func checkPath(key string, isPrefix bool) error {
	switch {
	case key == "":
		if isPrefix {
			return invalid("a prefix may not be just /")
		}
		return invalid("it is empty")
	case len(key) > MaxKeyBytes:
		return invalid("it is too long")
	case !utf8.ValidString(key):
		return invalid("it is not valid UTF-8")
	case strings.ContainsRune(key, '\\'):
		return invalid(`it contains \`)
	case key[0] == '/':
		return invalid("it starts with /")
	}
	if r, bad := bindery.NameRune(key); bad {
		return invalid("it contains " + bindery.DescribeRune(r))
	}
	depth := 0
	for part := range strings.SplitSeq(key, "/") {
		depth++
		switch {
		case depth > MaxKeyDepth:
			return invalid("it is nested too deeply")
		case part == "":
			return invalid("it has an empty component")
		case part == "." || part == "..":
			return invalid(`"." and ".." are not allowed`)
		case part[0] == '.':
			return invalid("a component may not start with a dot")
		case len(part) > MaxComponentBytes:
			return invalid("a component is too long")
		}
	}
	return nil
}

// The keys of the layout in the package doc, in one place.

// BooksPrefix is the folder of every book's files.
const BooksPrefix = "books/"

// BookPrefix is the folder of everything stored for book bookID.
func BookPrefix(bookID int64) string { return BooksPrefix + strconv.FormatInt(bookID, 10) + "/" }

// BookFilesPrefix is the folder of book bookID's file versions, each
// named by the lowercase hex SHA-256 of its bytes (Store.PutContent).
func BookFilesPrefix(bookID int64) string { return BookPrefix(bookID) + "files/" }

// BookFileKey is the version of a file of book bookID whose bytes hash
// to sha256 (lowercase hex).
func BookFileKey(bookID int64, sha256 string) string { return BookFilesPrefix(bookID) + sha256 }

// RunPrefix is the folder of run runID's artifacts.
func RunPrefix(runID int64) string { return "runs/" + strconv.FormatInt(runID, 10) + "/" }

// RunKey is artifact name of run runID. A run writes each artifact once,
// when its format stage ends, and never again (the run's state is the
// pointer that makes them visible), so the key is the name rather than
// the content hash.
func RunKey(runID int64, name string) string { return RunPrefix(runID) + name }

// EditionsPrefix is the folder of every book's published editions.
const EditionsPrefix = "editions/"

// EditionPrefix is the folder of book bookID's published editions.
func EditionPrefix(bookID int64) string { return EditionsPrefix + strconv.FormatInt(bookID, 10) + "/" }

// ImageCachePrefix is the folder of the generated-image cache that every
// node shares (ideogram.NewCache).
const ImageCachePrefix = "cache/images/"

// EditionKey is file name of book bookID's edition made from run runID:
// each edition has its own folder, and the book's publication row is the
// pointer that names the current one.
func EditionKey(bookID, runID int64, name string) string {
	return EditionPrefix(bookID) + strconv.FormatInt(runID, 10) + "/" + name
}

// DeletePrefix deletes every object under prefix.
func DeletePrefix(ctx context.Context, s Store, prefix string) error {
	var keys []string
	for info, err := range s.List(ctx, prefix) {
		if err != nil {
			return err
		}
		keys = append(keys, info.Key)
	}
	_, err := DeleteKeys(ctx, s, keys)
	return err
}

// DeleteKeys deletes keys one by one and returns how many it deleted
// before the first error.
func DeleteKeys(ctx context.Context, s Store, keys []string) (int, error) {
	for i, k := range keys {
		if err := s.Delete(ctx, k); err != nil {
			return i, err
		}
	}
	return len(keys), nil
}
