package blob

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"strings"
	"unicode"
)

// Secret holds a credential. Its String, GoString, LogValue and
// MarshalText say "[redacted]", so a config printed with %v or %#v,
// logged with slog or encoded as JSON never shows it; only an explicit string(s) does, at the one place that
// hands it to the S3 client.
type Secret string

// String implements fmt.Stringer.
func (Secret) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer (%#v).
func (Secret) GoString() string { return `"[redacted]"` }

// LogValue implements slog.LogValuer.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText implements encoding.TextMarshaler, which encoding/json
// (and so slog's JSON handler, given a whole S3Config) uses.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// DefaultPartSize is the multipart part size of S3 uploads of unknown
// length: the one buffer an upload holds in memory (plus up to
// smallObjectBytes read ahead to tell small objects from large ones), and,
// times S3's 10,000 parts, the largest object (80 GiB).
const DefaultPartSize = 8 << 20

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

// S3Config says where an S3 store is. Endpoint, Bucket, AccessKey and
// SecretKey are required.
type S3Config struct {
	// Endpoint is the server: "host[:port]" or "https://host[:port]"
	// (TLS), or "http://host[:port]" only for a loopback host
	// (127.0.0.0/8, ::1, localhost), where the traffic never leaves the
	// machine.
	Endpoint string
	// Bucket must exist; the store never creates it.
	Bucket string
	// Region is sent in signatures; "" lets the client ask the server.
	Region string
	// AccessKey and SecretKey are the credentials.
	AccessKey string
	SecretKey Secret
	// Insecure allows plain http to a non-loopback Endpoint. Tests only;
	// S3ConfigFromEnv never sets it.
	Insecure bool
	// Prefix, "" or ending in "/", is put before every key in the bucket,
	// so that several deployments (or tests) share one bucket.
	Prefix string
	// PartSize is the multipart part size in bytes, DefaultPartSize if 0;
	// at least 5 MiB.
	PartSize int64
}

// The environment variables of S3ConfigFromEnv.
const (
	EnvS3Endpoint  = "BINDERY_S3_ENDPOINT"
	EnvS3Bucket    = "BINDERY_S3_BUCKET"
	EnvS3Region    = "BINDERY_S3_REGION"
	EnvS3AccessKey = "BINDERY_S3_ACCESS_KEY"
	EnvS3SecretKey = "BINDERY_S3_SECRET_KEY"
	// EnvS3Prefix is optional: a folder of the bucket ("bindery/") that
	// holds this deployment's objects, so that one bucket can serve
	// several deployments.
	EnvS3Prefix = "BINDERY_S3_PREFIX"
)

// maxSettingFileBytes bounds a _FILE setting: a key or a URL, never a
// large file (and never /dev/zero read forever).
const maxSettingFileBytes = 4 << 10

// S3ConfigFromEnv reads the S3 settings through getenv: each of
// BINDERY_S3_ENDPOINT, _BUCKET, _REGION, _ACCESS_KEY and _SECRET_KEY, or
// the same name with _FILE naming a file holding the value (trimmed of
// surrounding white space; for secrets mounted by systemd, Docker or
// Kubernetes rather than passed in the environment, where /proc and
// crash reports can show them). Setting both forms of one name is an
// error. It returns ok=false and no error when none is set (the local
// folder is used), and an error naming the setting, never its value, when
// they are incomplete or malformed.
func S3ConfigFromEnv(getenv func(string) string) (cfg S3Config, ok bool, err error) {
	vals := map[string]string{}
	anySet := false
	for _, name := range []string{EnvS3Endpoint, EnvS3Bucket, EnvS3Region, EnvS3AccessKey, EnvS3SecretKey, EnvS3Prefix} {
		v, set, err := settingFromEnv(getenv, name)
		if err != nil {
			return S3Config{}, false, err
		}
		anySet = anySet || set
		vals[name] = v
	}
	if !anySet {
		return S3Config{}, false, nil
	}
	cfg = S3Config{
		Endpoint:  vals[EnvS3Endpoint],
		Bucket:    vals[EnvS3Bucket],
		Region:    vals[EnvS3Region],
		AccessKey: vals[EnvS3AccessKey],
		SecretKey: Secret(vals[EnvS3SecretKey]),
		Prefix:    vals[EnvS3Prefix],
	}
	if err := cfg.Validate(); err != nil {
		return S3Config{}, false, err
	}
	return cfg, true, nil
}

// settingFromEnv returns the value of name or of name_FILE, and whether
// either was set.
func settingFromEnv(getenv func(string) string, name string) (string, bool, error) {
	v, file := getenv(name), getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		return "", false, fmt.Errorf("%s and %s_FILE are both set; set one", name, name)
	case file == "":
		return v, v != "", nil
	}
	// #nosec G304 -- the operator names this file in the server's own environment, as for every _FILE setting
	f, err := os.Open(file)
	if err != nil {
		return "", false, fmt.Errorf("%s_FILE: cannot read the file: %w", name, errors.Unwrap(err))
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSettingFileBytes+1))
	if err != nil {
		return "", false, fmt.Errorf("%s_FILE: cannot read the file: %w", name, errors.Unwrap(err))
	}
	if len(b) > maxSettingFileBytes {
		return "", false, fmt.Errorf("%s_FILE: the file is larger than %d bytes", name, maxSettingFileBytes)
	}
	v = strings.TrimSpace(string(b))
	if v == "" {
		return "", false, fmt.Errorf("%s_FILE: the file is empty", name)
	}
	return v, true, nil
}

// Validate checks the settings and returns an error naming the first bad
// one (by its environment variable), never quoting a credential.
func (c S3Config) Validate() error {
	if c.Endpoint == "" {
		return fmt.Errorf("%s is required with the other BINDERY_S3_ settings", EnvS3Endpoint)
	}
	if _, _, err := c.endpoint(); err != nil {
		return err
	}
	if err := checkBucket(c.Bucket); err != nil {
		return err
	}
	if c.Region != "" {
		for _, r := range c.Region {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') || len(c.Region) > 64 {
				return fmt.Errorf("%s must be a region name like us-east-1 (lowercase letters, digits, -)", EnvS3Region)
			}
		}
	}
	if err := checkCredential(EnvS3AccessKey, c.AccessKey); err != nil {
		return err
	}
	if err := checkCredential(EnvS3SecretKey, string(c.SecretKey)); err != nil {
		return err
	}
	if c.Prefix != "" {
		if err := CheckPrefix(c.Prefix); err != nil {
			return fmt.Errorf("the S3 key prefix: %w", err)
		}
	}
	if c.PartSize != 0 && c.PartSize < minPartSize {
		return fmt.Errorf("the S3 part size must be at least %d bytes", minPartSize)
	}
	return nil
}

func checkCredential(name, v string) error {
	switch {
	case v == "":
		return fmt.Errorf("%s is required with the other BINDERY_S3_ settings", name)
	case len(v) > 256:
		return fmt.Errorf("%s is longer than 256 characters", name)
	}
	for _, r := range v {
		if r > unicode.MaxASCII || !unicode.IsPrint(r) || r == ' ' {
			return fmt.Errorf("%s must be printable ASCII without spaces", name)
		}
	}
	return nil
}

// checkBucket applies S3's bucket naming rules (3 to 63 lowercase letters,
// digits, dots and hyphens, beginning and ending with a letter or digit),
// which every S3-compatible server accepts.
func checkBucket(b string) error {
	bad := fmt.Errorf("%s must be a bucket name of 3 to 63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit", EnvS3Bucket)
	if b == "" {
		return fmt.Errorf("%s is required with the other BINDERY_S3_ settings", EnvS3Bucket)
	}
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") {
		return bad
	}
	alnum := func(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }
	if !alnum(b[0]) || !alnum(b[len(b)-1]) {
		return bad
	}
	for i := range len(b) {
		if !alnum(b[i]) && b[i] != '-' && b[i] != '.' {
			return bad
		}
	}
	return nil
}

// endpoint returns the host[:port] to dial and whether to use TLS.
// Credentials in the URL are refused (they belong in the key settings,
// and would be logged with the URL); so are paths, queries and
// fragments, which the S3 client would silently ignore.
func (c S3Config) endpoint() (host string, tls bool, err error) {
	raw := c.Endpoint
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", false, fmt.Errorf("%s must be host[:port] or https://host[:port]", EnvS3Endpoint)
	}
	switch {
	case u.User != nil:
		return "", false, fmt.Errorf("%s must not contain credentials; use %s and %s", EnvS3Endpoint, EnvS3AccessKey, EnvS3SecretKey)
	case u.Path != "" && u.Path != "/", u.RawQuery != "", u.Fragment != "":
		return "", false, fmt.Errorf("%s must be host[:port] or https://host[:port], without a path or query", EnvS3Endpoint)
	}
	switch u.Scheme {
	case "https":
		return u.Host, true, nil
	case "http":
		if c.Insecure || loopback(u.Hostname()) {
			return u.Host, false, nil
		}
		return "", false, fmt.Errorf("%s uses http to a host that is not loopback; use https so that keys and books are not sent in clear", EnvS3Endpoint)
	}
	return "", false, fmt.Errorf("%s must use https (or http to a loopback address)", EnvS3Endpoint)
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
