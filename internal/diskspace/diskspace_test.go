package diskspace_test

import (
	"runtime"
	"testing"

	"github.com/bindery/bindery/internal/diskspace"
)

func TestFree(t *testing.T) {
	free, ok, err := diskspace.Free(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS == "linux" && (!ok || free == 0) {
		t.Fatalf("Free = %d, %v; want a positive figure on Linux", free, ok)
	}
	if _, _, err := diskspace.Free("/no/such/folder/" + t.Name()); err == nil && runtime.GOOS == "linux" {
		t.Fatal("Free of a missing folder: no error")
	}
}
