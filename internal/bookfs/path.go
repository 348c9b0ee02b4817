// Package bookfs stores the files of server-side books: one folder per
// book under the data folder, every access through an os.Root opened on
// that folder, so that neither ".." nor a symbolic link can reach outside
// it (NOTES.md #5: the original's startswith() check did not resolve
// links and raced with the file system). Uploads are validated while they
// stream (size, extension, content), written to a temporary file, and
// renamed into place, so a crash never leaves half a file where the old
// one was.
package bookfs

import (
	"path"
	"strings"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/bindery"
	"golang.org/x/text/unicode/norm"
)

// Path limits.
const (
	MaxPathBytes      = 512
	MaxComponentBytes = 255
	MaxDepth          = 6
)

// CleanPath validates a file name from a client and returns it in its one
// canonical form: Unicode NFC, forward slashes, no "." or ".." components,
// relative. It refuses (EINVALID, naming the problem) rather than repairs:
// empty names, absolute paths, backslashes, control characters, format
// characters (bidirectional controls, zero-width characters), ".." and
// ".", hidden names (a leading dot: our temporary files, .htaccess and
// the like), Windows device names (CON, NUL, COM1, …), and names too long
// or too deep. Refusing is safer than guessing what a client meant, and
// the canonical form makes one file have one name (no "é" twice).
func CleanPath(name string) (string, error) {
	bad := func(why string) (string, error) {
		return "", bindery.Errorf(bindery.EINVALID, "Invalid file name: %s.", why)
	}
	if name == "" {
		return bad("it is empty")
	}
	if !utf8.ValidString(name) {
		return bad("it is not valid UTF-8")
	}
	name = norm.NFC.String(name)
	if len(name) > MaxPathBytes {
		return bad("it is too long")
	}
	// Control and format characters (bidirectional overrides, zero-width
	// spaces: bindery.NameRune) make a name display as something else.
	if r, found := bindery.NameRune(name); found {
		return bad("it contains " + bindery.DescribeRune(r))
	}
	if strings.ContainsRune(name, '\\') {
		return bad("use / to separate folders, not \\")
	}
	if strings.HasPrefix(name, "/") {
		return bad("it must be relative to the book folder")
	}
	parts := strings.Split(name, "/")
	if len(parts) > MaxDepth {
		return bad("it is nested too deeply")
	}
	for _, p := range parts {
		switch {
		case p == "":
			return bad("it has an empty folder name")
		case p == "." || p == "..":
			return bad(`"." and ".." are not allowed`)
		case strings.HasPrefix(p, "."):
			return bad("names may not start with a dot")
		case len(p) > MaxComponentBytes:
			return bad("a part of it is too long")
		case strings.TrimRight(p, " .") != p:
			return bad("names may not end with a space or a dot")
		case reservedName(p):
			return bad("it uses a reserved device name")
		case strings.ContainsAny(p, `:*?"<>|`):
			return bad(`it contains one of : * ? " < > |`)
		}
	}
	return path.Join(parts...), nil
}

// reservedName reports Windows device names, with or without extension:
// harmless on Linux, but a book folder is copied to authors' machines.
func reservedName(p string) bool {
	base, _, _ := strings.Cut(strings.ToUpper(p), ".")
	switch base {
	case "CON", "PRN", "AUX", "NUL":
		return true
	}
	if len(base) == 4 && (strings.HasPrefix(base, "COM") || strings.HasPrefix(base, "LPT")) && base[3] >= '0' && base[3] <= '9' {
		return true
	}
	return false
}
