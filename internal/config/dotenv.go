package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// maxDotEnvBytes bounds the .env file: it is configuration, not data.
const maxDotEnvBytes = 1 << 20

// WithDotEnv returns a getenv that answers from the real environment first
// and falls back to the KEY=VALUE pairs of the file at path (a missing file
// is no error). The real environment always wins, so an operator can
// override a checked-in or copied .env without editing it.
func WithDotEnv(getenv func(string) string, path string) (func(string) string, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return getenv, nil
	} else if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	vars, err := ParseDotEnv(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, nil
}

// ParseDotEnv parses the common .env dialect: KEY=VALUE lines, optional
// "export " prefix, blank lines and # comments, values optionally in single
// quotes (literal) or double quotes (with \n, \", \\ escapes), and a " #"
// comment after an unquoted value. Errors name the line number and never
// its content, because values are often secrets.
func ParseDotEnv(data []byte) (map[string]string, error) {
	if len(data) > maxDotEnvBytes {
		return nil, fmt.Errorf("larger than %d bytes", maxDotEnvBytes)
	}
	vars := make(map[string]string)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxDotEnvBytes)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validKey(key) {
			return nil, fmt.Errorf("line %d: expected KEY=VALUE", n)
		}
		v, err := dotEnvValue(strings.TrimSpace(value))
		if err != nil {
			return nil, fmt.Errorf("line %d (%s): %w", n, key, err)
		}
		vars[key] = v
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return vars, nil
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for i, c := range k {
		switch {
		case c == '_', c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func dotEnvValue(v string) (string, error) {
	switch {
	case strings.HasPrefix(v, `'`):
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", errors.New("unterminated single quote")
		}
		return v[1 : 1+end], nil
	case strings.HasPrefix(v, `"`):
		var b strings.Builder
		for i := 1; i < len(v); i++ {
			switch c := v[i]; c {
			case '"':
				return b.String(), nil
			case '\\':
				if i+1 >= len(v) {
					return "", errors.New("unterminated double quote")
				}
				i++
				switch v[i] {
				case 'n':
					b.WriteByte('\n')
				case 't':
					b.WriteByte('\t')
				default:
					b.WriteByte(v[i])
				}
			default:
				b.WriteByte(c)
			}
		}
		return "", errors.New("unterminated double quote")
	default:
		if i := strings.Index(v, " #"); i >= 0 {
			v = strings.TrimSpace(v[:i])
		}
		return v, nil
	}
}
