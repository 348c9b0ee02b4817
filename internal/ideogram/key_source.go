package ideogram

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/bindery/bindery/internal/config"
)

// Variable names, as in the original system's .env (CONTRACT §2).
const (
	EnvKey            = "IDEOGRAM_API_KEY"
	EnvKeyVersionFmt  = "IDEOGRAM_API_KEY_V%d"
	EnvCurrentVersion = "IDEOGRAM_API_KEY_CURRENT_VERSION"
)

// maxKeyVersions bounds the scan for IDEOGRAM_API_KEY_V1…Vn, as config does.
const maxKeyVersions = 99

// maxKeyFileBytes bounds a *_FILE read, as config does.
const maxKeyFileBytes = 64 << 10

// ErrNoKey is returned (wrapped) when no Ideogram key is configured. It is
// not a failure of a run: the Generator answers it with a local cover.
var ErrNoKey = errors.New("ideogram: no API key configured")

// Key is one API key and its version label. Every printed form of a Key
// (fmt verbs, slog, JSON) shows the version and "[REDACTED]", so passing a
// Key to a logger, an error or a panic by mistake leaks nothing; only
// Reveal returns the value, and only the request builder calls it.
type Key struct {
	Version string // "v1", "v2", …; "" for the unversioned IDEOGRAM_API_KEY
	value   string
}

// Reveal returns the secret value. Call it only to set the Api-Key header.
func (k Key) Reveal() string { return k.value }

// String implements fmt.Stringer without the value.
func (k Key) String() string { return "ideogram key " + versionLabel(k.Version) + " [REDACTED]" }

// GoString implements fmt.GoStringer without the value.
func (k Key) GoString() string { return "ideogram.Key{" + versionLabel(k.Version) + ", [REDACTED]}" }

// Format implements fmt.Formatter so that every verb (%v, %+v, %#v, %s, %q,
// %x) prints String and never the value.
func (k Key) Format(f fmt.State, verb rune) { io.WriteString(f, k.String()) }

// LogValue implements slog.LogValuer without the value.
func (k Key) LogValue() slog.Value { return slog.StringValue(k.String()) }

// MarshalJSON implements json.Marshaler without the value.
func (k Key) MarshalJSON() ([]byte, error) { return []byte(`"[REDACTED]"`), nil }

func versionLabel(v string) string {
	if v == "" {
		return "unversioned"
	}
	return v
}

// KeyStatus is what an admin view may show about the keys: names, never
// values.
type KeyStatus struct {
	Configured bool     `json:"configured"`
	Version    string   `json:"version"`         // active version; "" for the unversioned key
	Versions   []string `json:"versions"`        // every configured version, sorted
	FromFile   bool     `json:"from_file"`       // the active key comes from a *_FILE
	Error      string   `json:"error,omitempty"` // why the active key cannot be used (names a variable, never a value)
}

// KeySource holds the Ideogram API keys and says which one is current.
//
// Versions and the current pointer are kept apart (the original kept
// "current" in the same dictionary as the keys and silently returned None
// for a missing one, NOTES.md #4). A value given as X_FILE is re-read when
// the file's modification time, size or identity changes, checked with one
// stat on each use, so a rotated secret file (Kubernetes, Vault Agent) is
// picked up without a restart; Reload re-reads the whole environment and is
// what the server calls on SIGHUP. The zero value is not usable; a nil
// *KeySource has no key. Safe for concurrent use; mu guards set.
type KeySource struct {
	mu  sync.Mutex
	set *keySet

	stat     func(string) (fs.FileInfo, error)
	readFile func(string) (string, error)

	// stored, when set, returns a key an admin entered through the API
	// (kept encrypted in the database). It is used only when the
	// environment configures no key: the operator's configuration wins.
	stored func() (string, bool)
}

// StoredVersion is the version label of a key entered through the API.
const StoredVersion = "stored"

// SetStored sets where to find a key entered through the API. Safe to call
// once, before use.
func (s *KeySource) SetStored(f func() (string, bool)) {
	s.mu.Lock()
	s.stored = f
	s.mu.Unlock()
}

// keySet is one reading of the environment.
type keySet struct {
	versions map[string]*secretVar // version → key; "" for IDEOGRAM_API_KEY
	current  *secretVar            // IDEOGRAM_API_KEY_CURRENT_VERSION; nil when unset
}

// secretVar is one variable's value, either from the environment or from
// the file named by its _FILE variant.
type secretVar struct {
	name  string      // the variable, e.g. IDEOGRAM_API_KEY_V2
	path  string      // name_FILE's value; "" when the value came from the environment
	value string      // never printed
	info  fs.FileInfo // the file as last read
}

// NewKeySource reads the Ideogram keys through getenv with the rules of
// config.Load: X or X_FILE (not both); IDEOGRAM_API_KEY alone, or
// IDEOGRAM_API_KEY_V1…V99 with IDEOGRAM_API_KEY_CURRENT_VERSION naming one
// of them. No key at all is not an error (Status().Configured is false and
// Key returns ErrNoKey). Errors are *config.VarError naming the variable,
// never its value.
func NewKeySource(getenv func(string) string) (*KeySource, error) {
	s := &KeySource{stat: os.Stat, readFile: readSecretFile}
	set, err := s.load(getenv)
	if err != nil {
		return nil, err
	}
	s.set = set
	return s, nil
}

// NewStaticKeySource returns a KeySource holding c's keys as they are, with
// no file to watch (Reload still works). For callers that already hold a
// loaded config.
func NewStaticKeySource(c config.Ideogram) *KeySource {
	set := &keySet{versions: map[string]*secretVar{}}
	for v, k := range c.Keys {
		if k != "" {
			set.versions[v] = &secretVar{name: varForVersion(v), value: k}
		}
	}
	if len(set.versions) > 0 {
		set.current = &secretVar{name: EnvCurrentVersion, value: c.CurrentVersion}
	}
	return &KeySource{set: set, stat: os.Stat, readFile: readSecretFile}
}

// Reload re-reads every variable through getenv. When the new environment
// is invalid, the previous keys stay in use and the error (naming the
// variable) is returned: a typo during rotation must not take the images
// stage down.
func (s *KeySource) Reload(getenv func(string) string) error {
	set, err := s.load(getenv)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.set = set
	s.mu.Unlock()
	return nil
}

// Key returns the current key. It re-reads file-backed variables that
// changed on disk. Errors: ErrNoKey (wrapped) when no key is configured;
// a *config.VarError when the current version names no key or a key file
// cannot be read or is empty.
func (s *KeySource) Key() (Key, error) {
	if s == nil {
		return Key{}, ErrNoKey
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.currentLocked()
}

func (s *KeySource) currentLocked() (Key, error) {
	set := s.set
	if set == nil || len(set.versions) == 0 {
		if s.stored != nil {
			if v, ok := s.stored(); ok {
				return Key{Version: StoredVersion, value: v}, nil
			}
		}
		return Key{}, ErrNoKey
	}
	version := ""
	if set.current != nil {
		if err := s.refresh(set.current); err != nil {
			return Key{}, err
		}
		version = strings.ToLower(set.current.value)
	}
	if version == "" && (len(set.versions) > 1 || set.versions[""] == nil) {
		return Key{}, &config.VarError{Var: EnvCurrentVersion, Reason: "must name the key version to use (for example v2) when IDEOGRAM_API_KEY_V1… are set"}
	}
	sv := set.versions[version]
	if sv == nil {
		return Key{}, &config.VarError{Var: EnvCurrentVersion, Reason: fmt.Sprintf("is %q but %s is not set", clipVersion(version), varForVersion(version))}
	}
	if err := s.refresh(sv); err != nil {
		return Key{}, err
	}
	return Key{Version: version, value: sv.value}, nil
}

// Status reports the active version for an admin view. It never returns a
// key value.
func (s *KeySource) Status() KeyStatus {
	if s == nil {
		return KeyStatus{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.set == nil || len(s.set.versions) == 0 {
		if s.stored != nil {
			if _, ok := s.stored(); ok {
				return KeyStatus{Configured: true, Version: StoredVersion, Versions: []string{StoredVersion}}
			}
		}
		return KeyStatus{}
	}
	st := KeyStatus{Configured: true}
	for v := range s.set.versions {
		st.Versions = append(st.Versions, v)
	}
	sort.Strings(st.Versions)
	k, err := s.currentLocked()
	if err != nil {
		st.Error = err.Error()
		return st
	}
	st.Version = k.Version
	st.FromFile = s.set.versions[k.Version].path != ""
	return st
}

// refresh re-reads v's file when it changed since the last read. A file
// replaced by rename (the usual way secrets are rotated) has a new identity;
// one rewritten in place has a new modification time or size.
func (s *KeySource) refresh(v *secretVar) error {
	if v.path == "" {
		return nil
	}
	fi, err := s.stat(v.path)
	if err != nil {
		return &config.VarError{Var: v.name + "_FILE", Reason: "cannot be read: " + safeFSError(err)}
	}
	if v.info != nil && fi.ModTime().Equal(v.info.ModTime()) && fi.Size() == v.info.Size() && os.SameFile(fi, v.info) {
		return nil
	}
	val, err := s.readFile(v.path)
	if err != nil {
		return &config.VarError{Var: v.name + "_FILE", Reason: "cannot be read: " + safeFSError(err)}
	}
	if val == "" {
		return &config.VarError{Var: v.name + "_FILE", Reason: "names an empty file"}
	}
	v.value, v.info = val, fi
	return nil
}

// load reads one keySet through getenv and checks it.
func (s *KeySource) load(getenv func(string) string) (*keySet, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	set := &keySet{versions: map[string]*secretVar{}}
	read := func(name string) (*secretVar, error) {
		v := &secretVar{name: name, value: strings.TrimSpace(getenv(name)), path: strings.TrimSpace(getenv(name + "_FILE"))}
		if v.path == "" {
			if v.value == "" {
				return nil, nil
			}
			return v, nil
		}
		if v.value != "" {
			return nil, &config.VarError{Var: name, Reason: "and " + name + "_FILE are both set; set only one"}
		}
		if err := s.refresh(v); err != nil {
			return nil, err
		}
		return v, nil
	}
	sv, err := read(EnvKey)
	if err != nil {
		return nil, err
	} else if sv != nil {
		set.versions[""] = sv
	}
	for i := 1; i <= maxKeyVersions; i++ {
		name := fmt.Sprintf(EnvKeyVersionFmt, i)
		sv, err := read(name)
		if err != nil {
			return nil, err
		} else if sv != nil {
			set.versions[fmt.Sprintf("v%d", i)] = sv
		}
	}
	if set.current, err = read(EnvCurrentVersion); err != nil {
		return nil, err
	}
	if set.current == nil {
		set.current = &secretVar{name: EnvCurrentVersion}
	}
	if len(set.versions) == 0 {
		if set.current.value != "" {
			return nil, &config.VarError{Var: EnvCurrentVersion, Reason: fmt.Sprintf("is %q but no IDEOGRAM_API_KEY_V… is set", clipVersion(set.current.value))}
		}
		return set, nil
	}
	// Validate now, so that a bad environment fails at start-up or Reload
	// rather than at the first cover.
	probe := &KeySource{set: set, stat: s.stat, readFile: s.readFile}
	if _, err := probe.currentLocked(); err != nil {
		return nil, err
	}
	return set, nil
}

// varForVersion names the variable holding version v.
func varForVersion(v string) string {
	if v == "" {
		return EnvKey
	}
	return EnvKey + "_" + strings.ToUpper(v)
}

// clipVersion shortens a version label for an error message. A version is
// not a secret, but an operator may paste a key into the wrong variable, so
// anything longer than a plausible label is not echoed.
func clipVersion(v string) string {
	if len(v) > 8 {
		return "(a long value)"
	}
	return v
}

// safeFSError describes a file error without its path's content (the path
// is not secret, the error text of os.PathError is "op path: reason").
func safeFSError(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	if errors.Is(err, errKeyFileTooLarge) {
		return err.Error()
	}
	return "read error"
}

var errKeyFileTooLarge = fmt.Errorf("file is larger than %d bytes", maxKeyFileBytes)

// readSecretFile reads a secret file, bounded and trimmed.
func readSecretFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxKeyFileBytes+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxKeyFileBytes {
		return "", errKeyFileTooLarge
	}
	return strings.TrimSpace(string(data)), nil
}
