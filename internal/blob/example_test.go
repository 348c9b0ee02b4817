package blob_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/bindery/bindery/internal/blob"
)

// A caller stores an edition under its content key, then (only then)
// points its database row at that key; readers resolve the row and open
// the key, which never changes under them.
func ExampleStore_PutContent() {
	dir, _ := os.MkdirTemp("", "blob-example")
	defer os.RemoveAll(dir)
	store, err := blob.OpenLocal(dir)
	if err != nil {
		panic(err)
	}
	defer store.Close()
	ctx := context.Background()

	info, err := store.PutContent(ctx, "editions/", strings.NewReader("hello"))
	if err != nil {
		panic(err)
	}
	// UPDATE publications SET blob_key = info.Key WHERE book_id = ? (in
	// the transaction that publishes).
	fmt.Println(info.Key, info.Size)

	f, _, err := store.Open(ctx, info.Key)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	fmt.Println(string(b))
	// Output:
	// editions/2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824 5
	// hello
}
