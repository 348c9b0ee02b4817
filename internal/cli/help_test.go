package cli_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/bindery/bindery/internal/cli"
)

// TestEveryCommandHasHelp: `bindery NAME --help` exits 0 and shows the
// command's arguments and an example, for every command of the usage list.
func TestEveryCommandHasHelp(t *testing.T) {
	var list bytes.Buffer
	cli.Run(context.Background(), []string{"help"}, func(string) string { return "" }, strings.NewReader(""), &list, &list)
	var names []string
	for _, line := range strings.Split(list.String(), "\n") {
		if strings.HasPrefix(line, "  ") {
			names = append(names, strings.Fields(line)[0])
		}
	}
	if len(names) < 12 {
		t.Fatalf("the usage lists %d commands:\n%s", len(names), list.String())
	}
	for _, name := range names {
		var out bytes.Buffer
		code := cli.Run(context.Background(), []string{name, "--help"}, func(string) string { return "" }, strings.NewReader(""), &out, &out)
		text := out.String()
		if code != 0 || !strings.Contains(text, "Usage: bindery "+name) {
			t.Errorf("%s --help: exit %d\n%s", name, code, text)
		}
		if name != "version" && !strings.Contains(text, "Example") {
			t.Errorf("%s --help shows no example:\n%s", name, text)
		}
	}
}
