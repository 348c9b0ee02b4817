package secretbox

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

// memSource is an in-memory encrypted column with the semantics the SQL
// implementation must have: ordered batches, all-or-nothing compare-and-swap
// commits.
type memSource struct {
	tokens  map[int64]string
	indexes map[int64]string
	indexed bool

	failCommit   int // fail the commit with this 1-based number
	commits      int
	beforeCommit func() // runs inside Commit, before the writes
}

func (s *memSource) BlindIndexed() bool { return s.indexed }

func (s *memSource) Rows(ctx context.Context, after int64, limit int) ([]Row, error) {
	var rows []Row
	for _, id := range slices.Sorted(maps.Keys(s.tokens)) {
		if id > after && len(rows) < limit {
			rows = append(rows, Row{ID: id, Token: s.tokens[id]})
		}
	}
	return rows, nil
}

func (s *memSource) Commit(ctx context.Context, updates []Update) (int, error) {
	s.commits++
	if s.commits == s.failCommit {
		return 0, errors.New("database is locked")
	}
	if s.beforeCommit != nil {
		s.beforeCommit()
	}
	n := 0
	for _, u := range updates {
		if s.tokens[u.ID] == u.Old {
			s.tokens[u.ID] = u.New
			if s.indexed {
				s.indexes[u.ID] = u.Index
			}
			n++
		}
	}
	return n, nil
}

// newColumn holds n e-mail addresses: multiples of 3 under the current
// key, id 5 empty, the others under the previous key.
func newColumn(t *testing.T, n int, oldKr, kr *Keyring) *memSource {
	t.Helper()
	s := &memSource{tokens: map[int64]string{}, indexes: map[int64]string{}, indexed: true}
	for id := int64(1); id <= int64(n); id++ {
		email := fmt.Sprintf("user%d@example.org", id)
		switch {
		case id == 5:
			s.tokens[id] = ""
		case id%3 == 0:
			s.tokens[id] = mustEncrypt(t, kr, email)
			s.indexes[id] = kr.BlindIndex(email)
		default:
			s.tokens[id] = mustEncrypt(t, oldKr, email)
			s.indexes[id] = oldKr.BlindIndex(email)
		}
	}
	return s
}

// checkAllCurrent checks that every value decrypts with the current key
// alone and that every index is current.
func checkAllCurrent(t *testing.T, s *memSource, kr *Keyring) {
	t.Helper()
	current := &Keyring{&ring{keys: kr.keys[:1], index: kr.index[:1]}}
	for id, tok := range s.tokens {
		if tok == "" {
			continue
		}
		msg, err := current.Decrypt(tok)
		if err != nil {
			t.Fatalf("row %d not under the current key: %v", id, err)
		}
		if s.indexed && s.indexes[id] != kr.BlindIndex(string(msg)) {
			t.Errorf("row %d: index not recomputed", id)
		}
	}
}

func TestRotate(t *testing.T) {
	oldKr := mustKeyring(t, keyB)
	kr := mustKeyring(t, keyA, keyB)
	n := 2*RotateBatch + 7 // three batches, the last one short
	s := newColumn(t, n, oldKr, kr)
	rotated, err := Rotate(context.Background(), s, kr)
	if err != nil {
		t.Fatal(err)
	}
	if want := n - n/3 - 1; rotated != want {
		t.Errorf("rotated = %d, want %d", rotated, want)
	}
	checkAllCurrent(t, s, kr)

	// Running again finds nothing to do.
	commits := s.commits
	if rotated, err := Rotate(context.Background(), s, kr); err != nil || rotated != 0 {
		t.Errorf("second Rotate = %d, %v; want 0, nil", rotated, err)
	}
	if s.commits != commits {
		t.Errorf("second Rotate committed %d batches, want none", s.commits-commits)
	}
}

func TestRotateResumesAfterInterruption(t *testing.T) {
	oldKr := mustKeyring(t, keyB)
	kr := mustKeyring(t, keyA, keyB)
	n := 3 * RotateBatch
	s := newColumn(t, n, oldKr, kr)
	s.failCommit = 2
	first, err := Rotate(context.Background(), s, kr)
	if err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("err = %v, want the commit failure", err)
	}
	if first == 0 {
		t.Fatal("the first batch was not kept")
	}
	s.failCommit = 0
	second, err := Rotate(context.Background(), s, kr)
	if err != nil {
		t.Fatal(err)
	}
	if want := n - n/3 - 1; first+second != want {
		t.Errorf("rotated %d + %d, want %d in all", first, second, want)
	}
	checkAllCurrent(t, s, kr)
}

func TestRotateKeepsConcurrentWrites(t *testing.T) {
	oldKr := mustKeyring(t, keyB)
	kr := mustKeyring(t, keyA, keyB)
	s := newColumn(t, 10, oldKr, kr)
	fresh := mustEncrypt(t, kr, "changed@example.org")
	s.beforeCommit = func() { s.tokens[1] = fresh } // the app writes row 1 meanwhile
	if _, err := Rotate(context.Background(), s, kr); err != nil {
		t.Fatal(err)
	}
	if s.tokens[1] != fresh {
		t.Error("Rotate overwrote a value written during the rotation")
	}
}

func TestRotateStopsOnUndecryptableRow(t *testing.T) {
	lost := mustKeyring(t, keyC)
	kr := mustKeyring(t, keyA, keyB)
	s := newColumn(t, 10, mustKeyring(t, keyB), kr)
	s.tokens[7] = mustEncrypt(t, lost, "secret-content")
	_, err := Rotate(context.Background(), s, kr)
	if !errors.Is(err, ErrInvalidToken) || !strings.Contains(err.Error(), "row 7") {
		t.Fatalf("err = %v, want ErrInvalidToken naming row 7", err)
	}
	if strings.Contains(err.Error(), "secret-content") || strings.Contains(err.Error(), s.tokens[7]) {
		t.Errorf("err = %q shows the value", err)
	}
}

func TestRotateHonoursContext(t *testing.T) {
	kr := mustKeyring(t, keyA, keyB)
	s := newColumn(t, 3*RotateBatch, mustKeyring(t, keyB), kr)
	ctx, cancel := context.WithCancel(context.Background())
	s.beforeCommit = cancel // cancelled during the first batch
	rotated, err := Rotate(ctx, s, kr)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if s.commits != 1 || rotated == 0 {
		t.Errorf("commits = %d, rotated = %d; want the batch in progress committed and no other", s.commits, rotated)
	}
}

type unorderedSource struct{ memSource }

func (s *unorderedSource) Rows(ctx context.Context, after int64, limit int) ([]Row, error) {
	return []Row{{ID: 2}, {ID: 1}}, nil
}

func TestRotateRefusesUnorderedSource(t *testing.T) {
	_, err := Rotate(context.Background(), &unorderedSource{}, mustKeyring(t, keyA))
	if err == nil || !strings.Contains(err.Error(), "increasing ID order") {
		t.Errorf("err = %v, want an ordering error", err)
	}
}

func TestRotateWithoutIndex(t *testing.T) {
	kr := mustKeyring(t, keyA, keyB)
	s := newColumn(t, 10, mustKeyring(t, keyB), kr)
	s.indexed = false
	s.indexes = map[int64]string{}
	var got []Update
	s.beforeCommit = nil
	src := &recordingSource{memSource: s, got: &got}
	if _, err := Rotate(context.Background(), src, kr); err != nil {
		t.Fatal(err)
	}
	for _, u := range got {
		if u.Index != "" {
			t.Fatalf("update of row %d carries an index for a column without one", u.ID)
		}
	}
}

type recordingSource struct {
	*memSource
	got *[]Update
}

func (s *recordingSource) Commit(ctx context.Context, updates []Update) (int, error) {
	*s.got = append(*s.got, updates...)
	return s.memSource.Commit(ctx, updates)
}
