package migrate_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bindery/bindery/internal/bindery"
	"github.com/bindery/bindery/internal/blob"
	"github.com/bindery/bindery/internal/migrate"
	"github.com/bindery/bindery/internal/secretbox"
	"github.com/bindery/bindery/internal/store/postgres"
	"github.com/bindery/bindery/internal/store/sqlite"
	"github.com/bindery/bindery/internal/testkit"
)

var t0 = time.Date(2026, 11, 2, 9, 30, 0, 123456789, time.UTC)

// source is a data folder made by the real SQLite store and blob store.
type source struct {
	dir       string
	kr        *secretbox.Keyring
	events    int
	audit     int
	session   []byte            // a session's token hash
	token     []byte            // an API token's hash
	blobKeys  []string          // the keys the data folder's files get
	paths     map[string]string // key → the file in the data folder
	maxEvent  int64
	maxUserID int64
}

func (s *source) dbPath() string { return filepath.Join(s.dir, "bindery.db") }

// newSource builds a realistic data folder through the stores' APIs:
// accounts with encrypted names and second factors, a stored credential,
// a book with a member and an invitation, finished runs with stages,
// many events (several batches), a chained audit log, sessions, API
// tokens, the set-up token, a used challenge, brute-force failures
// (a table without a primary key) and blocks, a publication; and files
// in the data folder's blob store under every kind of key.
func newSource(t *testing.T, kr *secretbox.Keyring) *source {
	t.Helper()
	ctx := context.Background()
	s := &source{dir: t.TempDir(), kr: kr, events: 1234, audit: 57}
	db, err := sqlite.Open(ctx, s.dbPath(), kr)
	if err != nil {
		t.Fatal(err)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	ann := &bindery.User{Email: "ann@example.org", Name: "Ann Ärmel", Role: bindery.RoleAdmin, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: t0, UpdatedAt: t0}
	bob := &bindery.User{Email: "bob@example.org", Role: bindery.RoleAuthor, PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaB", CreatedAt: t0, UpdatedAt: t0}
	gone := &bindery.User{Email: "gone@example.org", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	must(db.CreateUser(ctx, ann))
	must(db.CreateUser(ctx, gone))
	must(db.CreateUser(ctx, bob))
	must(db.DeleteUser(ctx, gone.ID)) // a hole in the ids
	s.maxUserID = bob.ID
	must(db.SetTwoFactorSecret(ctx, ann.ID, "JBSWY3DPEHPK3PXP", t0))
	must(db.EnableTwoFactor(ctx, ann.ID, 1234, []string{"h1", "h2"}, t0))
	must(db.PutCredential(ctx, "ideogram", "sk-ideogram-secret", t0))

	book := &bindery.Book{OwnerID: ann.ID, Title: "Frankenstein", CreatedAt: t0, UpdatedAt: t0}
	must(db.CreateBook(ctx, book))
	must(db.AddMember(ctx, book.ID, bob.ID, t0))
	must(db.CreateInvitation(ctx, &bindery.Invitation{BookID: book.ID, InvitedBy: ann.ID, Email: "carol@example.org", CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour * 365 * 10)}))

	started, finished := t0.Add(time.Second), t0.Add(time.Minute)
	ok := &bindery.Run{BookID: book.ID, State: bindery.RunSucceeded, Formats: []string{"epub", "pdf"}, Publish: true, CreatedBy: ann.ID, CreatedAt: t0, StartedAt: &started, FinishedAt: &finished}
	failed := &bindery.Run{BookID: book.ID, State: bindery.RunFailed, Formats: []string{"html"}, Draft: true, CreatedBy: bob.ID, CreatedAt: t0, Error: "a broken link"}
	must(db.CreateRun(ctx, ok))
	must(db.CreateRun(ctx, failed))
	must(db.PutPublication(ctx, &bindery.Publication{BookID: book.ID, RunID: ok.ID, PublishedBy: ann.ID, PublishedAt: finished, Title: "Frankenstein", Authors: []string{"Mary Shelley"}, Language: "en", Files: []string{"book.epub"}},
		&bindery.AuditEvent{At: t0, Action: bindery.AuditBookPublished, ActorID: &ann.ID, Target: "book"}))

	for i := range s.events {
		e := &bindery.Event{Type: bindery.EventLog, Timestamp: t0.Add(time.Duration(i) * time.Millisecond), RunID: ok.ID, BookID: book.ID, Message: fmt.Sprintf("line %d — ünïcode", i), Level: "info"}
		must(db.AppendEvent(ctx, e))
		s.maxEvent = e.ID
	}
	// Retention removed the newest events (they were the oldest by
	// time): SQLite's AUTOINCREMENT counter is past the largest id left,
	// and ids are never reused.
	for range 10 {
		e := &bindery.Event{Type: bindery.EventLog, Timestamp: t0.Add(-time.Hour), Message: "old"}
		must(db.AppendEvent(ctx, e))
		s.maxEvent = e.ID
	}
	if _, err := db.DeleteEventsBefore(ctx, t0); err != nil {
		t.Fatal(err)
	}
	for i := range s.audit {
		actor := ann.ID
		must(db.AppendAudit(ctx, &bindery.AuditEvent{At: t0.Add(time.Duration(i) * time.Second), Action: "test.action", ActorID: &actor, ClientAddr: "192.0.2.1", Target: fmt.Sprintf("book:%d", i), Detail: "detail"}))
	}
	// Retention removed the oldest audit entries: the chain starts at an
	// anchor past 1.
	if _, err := db.PurgeAudit(ctx, t0.Add(5*time.Second), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	v, err := db.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.AnchorID <= 1 {
		t.Fatalf("the source's audit chain: %+v, %v", v, err)
	}
	s.audit = v.Entries

	s.session = bytes.Repeat([]byte{7}, 32)
	s.token = bytes.Repeat([]byte{9}, 32)
	must(db.CreateSession(ctx, &bindery.Session{ID: "sess-1", UserID: ann.ID, TokenHash: s.session, CreatedAt: t0, LastSeenAt: t0, ExpiresAt: t0.Add(24 * time.Hour * 365 * 10), ClientAddr: "192.0.2.1", UserAgent: "test"}))
	must(db.CreateAPIToken(ctx, &bindery.APIToken{ID: "tok-1", UserID: bob.ID, Name: "ci", TokenHash: s.token, CreatedAt: t0, ExpiresAt: t0.Add(24 * time.Hour * 365 * 10)}))
	must(db.AddSetupToken(ctx, bytes.Repeat([]byte{1}, 32), t0.Add(time.Hour), t0))
	if _, err := db.UseChallenge(ctx, bytes.Repeat([]byte{2}, 32), t0.Add(time.Hour*24*365*10), t0); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := db.GuardFailure(ctx, "addr:192.0.2.9", t0.Add(time.Duration(i)*time.Second), t0.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	must(db.GuardBlock(ctx, "addr:192.0.2.10", t0.Add(24*time.Hour*365*10)))
	must(db.Close())

	// Files as a single server keeps them: book folders, runs'
	// artifacts, the published edition, the image cache.
	s.paths = map[string]string{}
	put := func(key, rel, body string) {
		t.Helper()
		p := filepath.Join(s.dir, filepath.FromSlash(rel))
		must(os.MkdirAll(filepath.Dir(p), 0o700))
		must(os.WriteFile(p, []byte(body), 0o600))
		if key == "" {
			sum := sha256.Sum256([]byte(body))
			key = fmt.Sprintf("books/%d/files/%s", book.ID, hex.EncodeToString(sum[:]))
		}
		s.blobKeys = append(s.blobKeys, key)
		s.paths[key] = p
	}
	put("", fmt.Sprintf("books/%d/chapters/01.md", book.ID), "# Chapter 1\n\nYou will rejoice to hear…")
	put("", fmt.Sprintf("books/%d/metadata.yaml", book.ID), "title: Frankenstein\n")
	put(blob.RunKey(ok.ID, "book.epub"), fmt.Sprintf("artifacts/%d/book.epub", ok.ID), strings.Repeat("epub bytes ", 5000))
	put(blob.EditionKey(book.ID, ok.ID, "book.epub"), fmt.Sprintf("published/%d/book.epub", book.ID), strings.Repeat("epub bytes ", 5000)+"!")
	cache := strings.Repeat("ab", 32)
	put("cache/images/ab/"+cache+".png", "cache/images/ab/"+cache+".png", "png bytes")
	return s
}

// folderDigest hashes every file of a folder tree (names, modes and
// contents): what "the source stays untouched" compares.
func folderDigest(t *testing.T, dir string) string {
	t.Helper()
	h := sha256.New()
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%s %v %d\n", rel, fi.Mode(), fi.Size())
		if d.Type().IsRegular() {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			h.Write(b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// target is a new PostgreSQL schema opened with the store.
func openTarget(t *testing.T, url string, kr *secretbox.Keyring) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), url, kr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// options opens the source read-only and both blob stores.
func options(t *testing.T, s *source, tgt *postgres.DB, dst blob.Store) migrate.Options {
	t.Helper()
	src, err := migrate.OpenSource(s.dbPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	o := migrate.Options{Source: src, Target: tgt, Keyring: s.kr, BatchRows: 100}
	if dst != nil {
		folder, err := migrate.OpenDataFolder(context.Background(), s.dir, src)
		if err != nil {
			t.Fatal(err)
		}
		o.SourceBlobs, o.TargetBlobs, o.BookFiles = folder, dst, folder.BookFiles()
	}
	return o
}

func localStore(t *testing.T) *blob.Local {
	t.Helper()
	l, err := blob.OpenLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func mustRun(t *testing.T, o migrate.Options) *migrate.Report {
	t.Helper()
	rep, err := migrate.Run(context.Background(), o)
	if err != nil {
		t.Fatalf("migrate: %v", err)
	}
	if !rep.OK() {
		var b strings.Builder
		rep.Print(&b)
		t.Fatalf("migrate did not verify:\n%s", b.String())
	}
	return rep
}

// TestMigrate: a data folder moves to PostgreSQL and another blob store
// whole; the target reads back through the PostgreSQL store (an account
// found by its address through the blind index, its decrypted name and
// second factor, the stored credential, a session and a token by hash,
// the invitation by address, the events, the audit chain, which keeps
// growing), new rows get new ids, every file is there, and the source
// folder's bytes did not change. A second run finds everything there.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	s := newSource(t, testkit.Keyring(t))
	before := folderDigest(t, s.dir)
	tgt := openTarget(t, testkit.PostgresURL(t), s.kr)
	dst := localStore(t)

	rep := mustRun(t, options(t, s, tgt, dst))
	var out strings.Builder
	rep.Print(&out)
	t.Logf("\n%s", out.String())
	byName := map[string]migrate.TableReport{}
	for _, tr := range rep.Tables {
		byName[tr.Name] = tr
	}
	if got := byName["events"]; got.Source != int64(s.events) || got.Copied != int64(s.events) {
		t.Errorf("events: %+v, want %d copied", got, s.events)
	}
	for _, name := range []string{"users", "books", "runs", "run_stages", "audit_log", "audit_chain", "sessions", "api_tokens", "guard_failures", "guard_blocks", "recovery_codes", "credentials", "book_invitations", "publications", "setup_tokens", "used_challenges", "key_check", "readiness", "book_members"} {
		if tr, ok := byName[name]; !ok || tr.Source == 0 || !tr.Verified {
			t.Errorf("table %s: %+v", name, tr)
		}
	}
	for _, tr := range rep.Tables {
		if strings.HasPrefix(tr.Name, "river_") || tr.Name == "schema_migrations" {
			t.Errorf("copied %s", tr.Name)
		}
	}
	if rep.Blobs == nil || rep.Blobs.Objects != int64(len(s.blobKeys)) || rep.Blobs.Copied != rep.Blobs.Objects || rep.Blobs.Verified != rep.Blobs.Objects {
		t.Errorf("files: %+v", rep.Blobs)
	}
	if !strings.Contains(out.String(), "Done:") || !strings.Contains(out.String(), fmt.Sprintf("Audit chain: %d entries verified", s.audit)) {
		t.Errorf("report:\n%s", out.String())
	}

	ann, err := tgt.UserByEmail(ctx, "ann@example.org")
	if err != nil || ann.Name != "Ann Ärmel" || !ann.TwoFactor {
		t.Fatalf("ann on the target: %+v, %v", ann, err)
	}
	tf, err := tgt.TwoFactorOf(ctx, ann.ID)
	if err != nil || tf.Secret != "JBSWY3DPEHPK3PXP" {
		t.Errorf("second factor: %+v, %v", tf, err)
	}
	if v, _, err := tgt.Credential(ctx, "ideogram"); err != nil || v != "sk-ideogram-secret" {
		t.Errorf("credential: %q, %v", v, err)
	}
	if _, u, err := tgt.SessionByTokenHash(ctx, s.session); err != nil || u.ID != ann.ID {
		t.Errorf("session: %v", err)
	}
	if _, u, err := tgt.APITokenByHash(ctx, s.token); err != nil || u.Email != "bob@example.org" {
		t.Errorf("token: %v", err)
	}
	if invs, err := tgt.InvitationsFor(ctx, "carol@example.org", t0); err != nil || len(invs) != 1 {
		t.Errorf("invitation: %v, %v", invs, err)
	}
	if evs, err := tgt.EventsAfter(ctx, 0, 5000); err != nil || len(evs) != s.events || evs[7].Message != "line 7 — ünïcode" {
		t.Errorf("events: %d, %v", len(evs), err)
	}
	v, err := tgt.VerifyAudit(ctx)
	if err != nil || !v.OK() || v.Entries != s.audit {
		t.Fatalf("audit on the target: %+v, %v", v, err)
	}

	// The target is a working store: new ids follow the copied ones,
	// and the chain grows and verifies.
	carol := &bindery.User{Email: "carol@example.org", Role: bindery.RoleAuthor, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}
	if err := tgt.CreateUser(ctx, carol); err != nil || carol.ID <= s.maxUserID {
		t.Errorf("new user: id %d after %d, %v", carol.ID, s.maxUserID, err)
	}
	e := &bindery.Event{Type: bindery.EventLog, Timestamp: t0, Message: "after"}
	if err := tgt.AppendEvent(ctx, e); err != nil || e.ID <= s.maxEvent {
		t.Errorf("new event: id %d after %d, %v", e.ID, s.maxEvent, err)
	}
	if err := tgt.AppendAudit(ctx, &bindery.AuditEvent{At: t0.Add(time.Hour), Action: "after.migrate"}); err != nil {
		t.Fatal(err)
	}
	if v, err := tgt.VerifyAudit(ctx); err != nil || !v.OK() || v.Entries != s.audit+1 {
		t.Errorf("audit after an append on the target: %+v, %v", v, err)
	}

	for _, k := range s.blobKeys {
		r, _, err := dst.Open(ctx, k)
		if err != nil {
			t.Errorf("file %s: %v", k, err)
			continue
		}
		b, _ := io.ReadAll(r)
		r.Close()
		if want, err := os.ReadFile(s.paths[k]); err != nil || !bytes.Equal(b, want) {
			t.Errorf("file %s holds other bytes than %s (%v)", k, s.paths[k], err)
		}
	}

	if after := folderDigest(t, s.dir); after != before {
		t.Errorf("the source folder changed")
	}
}

// TestMigrateTwiceIsIdempotent: a second run over a completed copy
// copies nothing and verifies again.
func TestMigrateTwiceIsIdempotent(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	url := testkit.PostgresURL(t)
	dstDir := t.TempDir()
	dst, err := blob.OpenLocal(dstDir)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	first := mustRun(t, options(t, s, openTarget(t, url, s.kr), dst))
	second := mustRun(t, options(t, s, openTarget(t, url, s.kr), dst))
	for i, tr := range second.Tables {
		if tr.Checksum != first.Tables[i].Checksum {
			t.Errorf("table %s: checksum changed", tr.Name)
		}
		if tr.Copied != 0 && tr.Name != "audit_chain" && tr.Name != "key_check" && tr.Name != "readiness" {
			t.Errorf("table %s: %d rows copied again", tr.Name, tr.Copied)
		}
	}
	if second.Blobs.Copied != 0 || second.Blobs.Already != second.Blobs.Objects || second.Blobs.Verified != second.Blobs.Objects {
		t.Errorf("files on the second run: %+v", second.Blobs)
	}

	// A file in the target with the right size but other bytes (a
	// damaged disk, a foreign writer) is found: content keys found
	// already there are hashed again.
	path := filepath.Join(dstDir, filepath.FromSlash(s.blobKeys[0]))
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	third, err := migrate.Run(context.Background(), options(t, s, openTarget(t, url, s.kr), dst))
	if err != nil {
		t.Fatal(err)
	}
	if third.OK() || len(third.Problems) != 1 || !strings.Contains(third.Problems[0], s.blobKeys[0]+" in the target does not hash to its name") {
		t.Errorf("a damaged file in the target: %v", third.Problems)
	}
}

var errCrash = errors.New("simulated crash")

// TestMigrateResumes: a run stopped after any number of committed
// steps (batches of rows, files), then run again, completes with the
// same tables (same checksums, verified against the source) and files
// as an uninterrupted run.
func TestMigrateResumes(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	ref := mustRun(t, options(t, s, openTarget(t, testkit.PostgresURL(t), s.kr), localStore(t)))

	// Count the steps of a whole run.
	steps := 0
	o := options(t, s, openTarget(t, testkit.PostgresURL(t), s.kr), localStore(t))
	migrate.SetStep(&o, func() error { steps++; return nil })
	mustRun(t, o)
	if steps < 20 {
		t.Fatalf("only %d steps: the crash points would not cover batches and files", steps)
	}

	// Every third step: inside the audit log, inside the events (13
	// batches), at table boundaries, among the files.
	for crashAt := 1; crashAt < steps; crashAt += 3 {
		t.Run(fmt.Sprint("crash after step ", crashAt), func(t *testing.T) {
			url := testkit.PostgresURL(t)
			dst := localStore(t)
			o := options(t, s, openTarget(t, url, s.kr), dst)
			n := 0
			migrate.SetStep(&o, func() error {
				if n++; n == crashAt {
					return errCrash
				}
				return nil
			})
			if _, err := migrate.Run(context.Background(), o); !errors.Is(err, errCrash) {
				t.Fatalf("the crashed run: %v", err)
			}
			rep := mustRun(t, options(t, s, openTarget(t, url, s.kr), dst))
			var copied, already int64
			for i, tr := range rep.Tables {
				if tr.Checksum != ref.Tables[i].Checksum || tr.Target != ref.Tables[i].Target {
					t.Errorf("table %s differs from an uninterrupted run", tr.Name)
				}
				copied += tr.Copied
				already += tr.Already
			}
			if crashAt > 2 && already == 0 { // steps 1 and 2: the audit chain's record, the audit log
				t.Errorf("the second run found nothing of the first")
			}
			if rep.Blobs.Verified != int64(len(s.blobKeys)) {
				t.Errorf("files: %+v", rep.Blobs)
			}
		})
	}
}

// TestMigrateRefusesForeignTarget: a database holding Bindery data that
// did not come from this data folder is refused before anything is
// written, and so is one being filled from another data folder.
func TestMigrateRefusesForeignTarget(t *testing.T) {
	ctx := context.Background()
	kr := testkit.Keyring(t)
	s := newSource(t, kr)

	url := testkit.PostgresURL(t)
	tgt := openTarget(t, url, kr)
	if err := tgt.CreateUser(ctx, &bindery.User{Email: "zed@example.org", Role: bindery.RoleAdmin, PasswordHash: "x", CreatedAt: t0, UpdatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Run(ctx, options(t, s, tgt, nil))
	if bindery.ErrorCode(err) != bindery.ECONFLICT || !strings.Contains(bindery.ErrorMessage(err), "did not come from this data folder") {
		t.Fatalf("a foreign target: %v", err)
	}
	if n, err := tgt.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("the foreign target changed: %d users, %v", n, err)
	}
	var marker bool
	if err := tgt.Pool().QueryRow(ctx, `SELECT to_regclass('bindery_migrated_from') IS NOT NULL`).Scan(&marker); err != nil || marker {
		t.Errorf("the refused target got a migration record table: %v, %v", marker, err)
	}

	// A target half-filled from another data folder (same key).
	other := newSource(t, kr)
	url2 := testkit.PostgresURL(t)
	o := options(t, other, openTarget(t, url2, kr), nil)
	migrate.SetStep(&o, func() error { return errCrash })
	if _, err := migrate.Run(ctx, o); !errors.Is(err, errCrash) {
		t.Fatal(err)
	}
	_, err = migrate.Run(ctx, options(t, s, openTarget(t, url2, kr), nil))
	if bindery.ErrorCode(err) != bindery.ECONFLICT || !strings.Contains(bindery.ErrorMessage(err), "filled from another data folder") {
		t.Fatalf("a target of another source: %v", err)
	}
}

// TestMigrateRefusesUnfinishedRuns: a queued run would need a job on the
// target; the source is refused, with what to do.
func TestMigrateRefusesUnfinishedRuns(t *testing.T) {
	ctx := context.Background()
	s := newSource(t, testkit.Keyring(t))
	db, err := sqlite.Open(ctx, s.dbPath(), s.kr)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateRun(ctx, &bindery.Run{BookID: 1, State: bindery.RunQueued, Formats: []string{"epub"}, CreatedBy: 1, CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	tgt := openTarget(t, testkit.PostgresURL(t), s.kr)
	_, err = migrate.Run(ctx, options(t, s, tgt, nil))
	if bindery.ErrorCode(err) != bindery.ECONFLICT || !strings.Contains(bindery.ErrorMessage(err), "1 queued") || !strings.Contains(bindery.ErrorMessage(err), "let the runs finish") {
		t.Fatalf("unfinished runs: %v", err)
	}
	if n, _ := tgt.CountUsers(ctx); n != 0 {
		t.Errorf("the target was written: %d users", n)
	}
}

// TestMigrateRefusesOtherKey: with another ENCRYPTION_KEY the source is
// refused (its values would not decrypt on the target), naming both
// keys by fingerprint only.
func TestMigrateRefusesOtherKey(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	other := testkit.Keyring(t)
	src, err := migrate.OpenSource(s.dbPath())
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	_, err = migrate.Run(context.Background(), migrate.Options{Source: src, Target: openTarget(t, testkit.PostgresURL(t), other), Keyring: other})
	if bindery.ErrorCode(err) != bindery.ECONFLICT || !strings.Contains(bindery.ErrorMessage(err), "ENCRYPTION_KEY") {
		t.Fatalf("another key: %v", err)
	}
}

// TestOpenSourceIsReadOnly: nothing written through the source handle
// reaches the file.
func TestOpenSourceIsReadOnly(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	before := folderDigest(t, s.dir)
	src, err := migrate.OpenSource(s.dbPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{`DELETE FROM users`, `INSERT INTO readiness (id, checked_at) VALUES (2, 0)`, `CREATE TABLE x (y)`} {
		if _, err := src.Exec(q); err == nil {
			t.Errorf("%s succeeded on the source", q)
		}
	}
	src.Close()
	if folderDigest(t, s.dir) != before {
		t.Errorf("the source folder changed")
	}
	if _, err := migrate.OpenSource(filepath.Join(t.TempDir(), "bindery.db")); bindery.ErrorCode(err) != bindery.EINVALID {
		t.Errorf("a missing database: %v", err)
	}
}

// TestMigrateDamagedFile: a book file that changed after it was listed
// (it no longer hashes to the name it was given) stops the migration,
// naming it, and leaves no copy under any name.
func TestMigrateDamagedFile(t *testing.T) {
	s := newSource(t, testkit.Keyring(t))
	dst := localStore(t)
	o := options(t, s, openTarget(t, testkit.PostgresURL(t), s.kr), dst)
	if err := os.WriteFile(s.paths[s.blobKeys[0]], []byte("tampered"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := migrate.Run(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), s.blobKeys[0]) || !strings.Contains(err.Error(), "does not hash to its name") {
		t.Fatalf("a damaged file: %v", err)
	}
	for info, err := range dst.List(context.Background(), "books/") {
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256([]byte("tampered")); strings.HasSuffix(info.Key, hex.EncodeToString(sum[:])) {
			t.Errorf("the damaged bytes were left in the target as %s", info.Key)
		}
	}
}

// TestMigrateDetectsDifferences: a target row that differs from the
// source's (same count, other bytes) fails the verification, naming the
// table, and the migration is not recorded as finished.
func TestMigrateDetectsDifferences(t *testing.T) {
	ctx := context.Background()
	s := newSource(t, testkit.Keyring(t))
	url := testkit.PostgresURL(t)
	tgt := openTarget(t, url, s.kr)
	mustRun(t, options(t, s, tgt, nil))
	if _, err := tgt.Pool().Exec(ctx, `UPDATE books SET title = 'Frankenstein!'`); err != nil {
		t.Fatal(err)
	}
	if _, err := tgt.Pool().Exec(ctx, `UPDATE bindery_migrated_from SET finished_at = NULL`); err != nil {
		t.Fatal(err)
	}
	rep, err := migrate.Run(ctx, options(t, s, tgt, nil))
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	rep.Print(&out)
	if rep.OK() || len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], "table books: the rows differ") || !strings.Contains(out.String(), "MISMATCH") {
		t.Fatalf("a changed row:\n%s", out.String())
	}
	var finished *int64
	if err := tgt.Pool().QueryRow(ctx, `SELECT finished_at FROM bindery_migrated_from`).Scan(&finished); err != nil || finished != nil {
		t.Errorf("a copy that does not verify was recorded as finished: %v, %v", finished, err)
	}
}
