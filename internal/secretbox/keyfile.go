package secretbox

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// KeyFileName is the development key file in the data directory.
const KeyFileName = "encryption.key"

// Settings is what Open needs from the configuration.
type Settings struct {
	Key        string   // ENCRYPTION_KEY; "" to use the development key file
	Previous   []string // ENCRYPTION_KEY_PREVIOUS, split on commas
	DataDir    string   // BINDERY_DATA_DIR: where the development key file lives
	Production bool     // BINDERY_ENV=production: a missing Key is an error
	// ExistingData, when set, says that the data directory already holds
	// encrypted data (and under which key): a missing development key
	// file is then not generated, and Open fails with a *KeyError naming
	// ENCRYPTION_KEY whose reason ends with this text. A new key could
	// not read that data, and whatever it encrypted would be unreadable to
	// the process that holds the right key.
	ExistingData string
}

// KeySource tells the caller where the current key came from, for its
// start-up log. It holds paths only, never a key.
type KeySource struct {
	// File is the development key file used, "" when the key came from
	// ENCRYPTION_KEY.
	File string
	// Created reports that Open generated File just now. Log it: the file
	// must be backed up with the data, which is unreadable without it.
	Created bool
	// Unused is the path of a key file found in the data directory while
	// ENCRYPTION_KEY is set and which is not part of the keyring: values it
	// encrypted no longer decrypt. Warn: the operator should add its
	// content to ENCRYPTION_KEY_PREVIOUS and run `bindery keys rotate`.
	Unused string
}

// Open builds the keyring for the configuration.
//
// With Key set, the keyring is Key and Previous. With Key empty, in
// production Open fails with a *KeyError naming ENCRYPTION_KEY: a key kept
// in the data directory sits next to the data it protects, so a copy of
// that directory (a backup, a stolen disk) would carry both. In
// development it reads the key from DataDir/encryption.key, creating the
// directory and generating the file on first use (see LoadKeyFile), so that
// `bindery serve` works out of the box.
func Open(s Settings) (*Keyring, KeySource, error) {
	var src KeySource
	key := s.Key
	path := ""
	if s.DataDir != "" {
		path = filepath.Join(s.DataDir, KeyFileName)
	}
	switch {
	case key != "":
	case s.Production:
		return nil, src, &KeyError{Var: EnvKey, Reason: "is required in production (a key file in the data directory would sit next to the data it protects); generate one with `bindery keys generate`"}
	case path == "":
		return nil, src, &KeyError{Var: EnvKey, Reason: "is not set and there is no data directory to keep a development key in"}
	default:
		if s.ExistingData != "" {
			if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
				return nil, src, &KeyError{Var: EnvKey, Reason: "is not set, and no development key is generated: " + s.ExistingData}
			}
		}
		k, created, err := LoadKeyFile(path)
		if err != nil {
			return nil, src, err
		}
		key, src.File, src.Created = k, path, created
	}
	kr, err := NewKeyring(key, s.Previous...)
	if err != nil {
		return nil, src, err
	}
	if src.File == "" && path != "" {
		src.Unused = kr.unusedKeyFile(path)
	}
	return kr, src, nil
}

// unusedKeyFile returns path when it holds a readable key that kr lacks.
func (kr *Keyring) unusedKeyFile(path string) string {
	data, err := readSmall(path)
	if err != nil {
		return ""
	}
	k, err := parseKey(strings.TrimSpace(string(data)))
	if err != nil {
		return ""
	}
	for _, have := range kr.keys {
		if *have == *k {
			return ""
		}
	}
	return path
}

// maxKeyFileBytes bounds what LoadKeyFile reads: a key is 44 bytes.
const maxKeyFileBytes = 1 << 10

// LoadKeyFile returns the key stored at path, generating it first when the
// file does not exist (created reports that). The file holds the key and a
// newline, with mode 0600; its directory is created with mode 0700 when
// missing.
//
// A key file that other users may read or write (any of mode 0077) is
// refused with a *KeyError that says how to fix it, rather than used with a
// warning: a warning scrolls by, and a group- or world-readable key makes
// the encryption pointless for anyone with an account on the machine. On
// Windows, where Unix modes mean nothing, the check is skipped.
//
// Two processes starting at once both end up with the same key: the file
// is written under a temporary name and hard-linked into place, which fails
// if the other process got there first; the loser then reads the winner's
// file. A reader never sees a half-written key.
func LoadKeyFile(path string) (key string, created bool, err error) {
	key, err = readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return key, false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("secretbox: create key directory: %w", err)
	}
	key = GenerateKey()
	switch err := publish(path, []byte(key+"\n")); {
	case err == nil:
		return key, true, nil
	case errors.Is(err, fs.ErrExist):
		key, err = readKeyFile(path)
		return key, false, err
	default:
		return "", false, fmt.Errorf("secretbox: write key file: %w", err)
	}
}

// publish writes data to a new file at path, failing with fs.ErrExist if
// path exists.
func publish(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".encryption.key-*") // mode 0600
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Link(tmp.Name(), path)
}

// readKeyFile reads and checks an existing key file. A missing file is an
// error satisfying errors.Is(err, fs.ErrNotExist).
func readKeyFile(path string) (string, error) {
	data, err := readSmall(path)
	if err != nil {
		return "", err
	}
	key := strings.TrimSpace(string(data))
	if _, err := parseKey(key); err != nil {
		return "", &KeyError{Var: path, Reason: "does not hold a Fernet key; if nothing was encrypted with it, delete it and a new one is generated"}
	}
	return key, nil
}

// readSmall opens path, checks its mode on the open file (no race between
// check and read), and reads at most maxKeyFileBytes.
func readSmall(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("secretbox: read key file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("secretbox: read key file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, &KeyError{Var: path, Reason: "is not a regular file"}
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, &KeyError{Var: path, Reason: fmt.Sprintf("is accessible to other users (mode %04o); run `chmod 600 %s`", fi.Mode().Perm(), path)}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("secretbox: read key file: %w", err)
	}
	if len(data) > maxKeyFileBytes {
		return nil, &KeyError{Var: path, Reason: "is too large to be a key file"}
	}
	return data, nil
}
