package postgres

import (
	"context"
	"slices"
	"testing"

	"github.com/bindery/bindery/internal/testkit"
)

// TestEveryEncryptedColumnIsRotated keeps encryptedColumns in step with the
// schema: a *_enc column that `keys rotate` does not walk would be left
// under a key the operator is about to drop.
func TestEveryEncryptedColumnIsRotated(t *testing.T) {
	d, err := Open(context.Background(), testkit.PostgresURL(t), testkit.Keyring(t))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	inSchema, err := d.encryptedColumnNames(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var listed []string
	for _, c := range encryptedColumns {
		listed = append(listed, c.String())
	}
	for _, c := range inSchema {
		if !slices.Contains(listed, c) {
			t.Errorf("column %s is not in encryptedColumns", c)
		}
	}
	if len(inSchema) < 6 {
		t.Fatalf("schema lists only %v", inSchema)
	}
}
