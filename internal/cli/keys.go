package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
)

func runKeys(ctx context.Context, e *env, args []string) error {
	if len(args) > 0 && args[0] == "rotate" {
		return keysRotate(ctx, e, args[1:])
	}
	if len(args) == 0 || args[0] != "generate" {
		return usagef("keys needs a sub-command: generate or rotate")
	}
	// A Fernet key is 32 random bytes in URL-safe base64 (16 signing, 16
	// encryption); the dashboard token is 32 random bytes too.
	fmt.Fprintf(e.stdout, "ENCRYPTION_KEY=%s\n", randomB64(base64.URLEncoding))
	fmt.Fprintf(e.stdout, "DASHBOARD_TOKEN=%s\n", randomB64(base64.RawURLEncoding))
	return nil
}

func randomB64(enc *base64.Encoding) string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return enc.EncodeToString(b)
}

// Version is set at build time with -ldflags "-X github.com/bindery/bindery/internal/cli.Version=v1.2.3".
var Version = "dev"

func runVersion(ctx context.Context, e *env, args []string) error {
	commit := "unknown"
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, s := range info.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	fmt.Fprintf(e.stdout, "bindery %s\ncommit %s\n%s %s/%s\n", Version, commit, runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}
