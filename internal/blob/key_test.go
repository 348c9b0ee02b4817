package blob_test

import (
	"path"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
)

func TestCheckKey(t *testing.T) {
	for _, key := range []string{
		"a", "books/12/sources/chapters/01 Intro.md", "content/0123abcdef", "é/ü/日本語.md", "a-b_c~d (1).png",
		strings.Repeat("a", blob.MaxComponentBytes), strings.Repeat("a/", blob.MaxKeyDepth-1) + "a",
	} {
		if err := blob.CheckKey(key); err != nil {
			t.Errorf("CheckKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range []string{
		"", "/", "/a", "a/", "a//b", ".", "..", "../a", "a/..", "a/../b", "./a", "a/.", ".tmp/x", ".hidden", "a/.b",
		`a\b`, `..\a`, "a\x00b", "a\nb", "a\rb", "a\tb", "\x7f", "a\u0085b", "a\u202eb", "a\u200bb", "a\ufeffb", "a\u2028b",
		"\xff", "a/\xc0\xaf", strings.Repeat("a", blob.MaxComponentBytes+1), strings.Repeat("a/", blob.MaxKeyDepth) + "a",
		strings.Repeat("abcd/", blob.MaxKeyBytes/5) + "abcdef",
	} {
		err := blob.CheckKey(key)
		if bindery.ErrorCode(err) != bindery.EINVALID {
			t.Errorf("CheckKey(%q) = %v, want EINVALID", key, err)
		}
	}
}

func TestCheckPrefix(t *testing.T) {
	for _, p := range []string{"", "a/", "books/12/"} {
		if err := blob.CheckPrefix(p); err != nil {
			t.Errorf("CheckPrefix(%q) = %v", p, err)
		}
	}
	for _, p := range []string{"a", "/", "//", "a//", "../", ".tmp/", "a/b"} {
		if bindery.ErrorCode(blob.CheckPrefix(p)) != bindery.EINVALID {
			t.Errorf("CheckPrefix(%q) accepted", p)
		}
	}
}

// FuzzCheckKey checks the promises a backend relies on for every key
// CheckKey accepts: relative, clean (path.Clean leaves it alone, so no
// "." or ".." and no empty component), within the limits, free of
// backslashes, control and format characters, and not naming a dot file
// (the temporary files). Its error message never echoes the key. Seeds
// are in testdata/fuzz/FuzzCheckKey.
func FuzzCheckKey(f *testing.F) {
	for _, s := range []string{"a/b", "../x", "a\x00", ".tmp/x", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		err := blob.CheckKey(key)
		if err != nil {
			if bindery.ErrorCode(err) != bindery.EINVALID {
				t.Fatalf("CheckKey(%q) = %v, not EINVALID", key, err)
			}
			if len(key) > 3 && strings.Contains(err.Error(), key) {
				t.Fatalf("the error echoes the key: %v", err)
			}
			return
		}
		if key == "" || len(key) > blob.MaxKeyBytes || !utf8.ValidString(key) {
			t.Fatalf("accepted %q: empty, too long or not UTF-8", key)
		}
		if path.IsAbs(key) || path.Clean(key) != key || strings.ContainsRune(key, '\\') {
			t.Fatalf("accepted %q: not a clean relative slash path", key)
		}
		if r, bad := bindery.NameRune(key); bad {
			t.Fatalf("accepted %q with %U", key, r)
		}
		parts := strings.Split(key, "/")
		if len(parts) > blob.MaxKeyDepth {
			t.Fatalf("accepted %q: too deep", key)
		}
		for _, p := range parts {
			if p == "" || p[0] == '.' || len(p) > blob.MaxComponentBytes {
				t.Fatalf("accepted %q: component %q", key, p)
			}
		}
		if blob.CheckPrefix(key+"/") != nil {
			t.Fatalf("key %q accepted but %q refused as a prefix", key, key+"/")
		}
	})
}
