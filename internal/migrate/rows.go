package migrate

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"hash"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// pgTypes are the PostgreSQL column types Run converts SQLite's values
// to. A column of another type stops the migration (loadSchema) rather
// than be copied by a guess.
var pgTypes = map[string]bool{"bigint": true, "integer": true, "smallint": true, "boolean": true, "text": true, "bytea": true}

// toPG converts a value read from SQLite to what the PostgreSQL column
// of c holds: integers stay int64, an INTEGER 0 or 1 becomes a boolean,
// TEXT a string (valid UTF-8), BLOB a byte slice. A value of another
// kind is an error naming the column and the kind, never the value
// (which may be a secret's hash or ciphertext).
func toPG(v any, c column) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c.pgType {
	case "bigint", "integer", "smallint":
		if x, ok := v.(int64); ok {
			return x, nil
		}
	case "boolean":
		if x, ok := v.(int64); ok && (x == 0 || x == 1) {
			return x == 1, nil
		}
	case "text":
		switch x := v.(type) {
		case string:
			if utf8.ValidString(x) && !strings.ContainsRune(x, 0) {
				return x, nil
			}
		case []byte:
			if utf8.Valid(x) && !strings.ContainsRune(string(x), 0) {
				return string(x), nil
			}
		}
	case "bytea":
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
	}
	return nil, fmt.Errorf("column %s: a %T value does not fit PostgreSQL's %s", c.name, v, c.pgType)
}

// fromPG normalises a value pgx read to toPG's kinds (int64 for every
// integer width).
func fromPG(v any) any {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int16:
		return int64(x)
	}
	return v
}

// encodeValue appends the canonical encoding of one normalised value to
// the checksum: a kind byte, then a fixed-width integer or a length and
// the bytes, so that no two different rows encode alike.
func encodeValue(h hash.Hash, v any) error {
	var b []byte
	switch x := v.(type) {
	case nil:
		b = []byte{'N'}
	case int64:
		b = binary.BigEndian.AppendUint64([]byte{'I'}, uint64(x)) // #nosec G115 -- the bits, not the value, are hashed
	case bool:
		b = []byte{'B', 0}
		if x {
			b[1] = 1
		}
	case string:
		b = append(binary.AppendUvarint([]byte{'T'}, uint64(len(x))), x...)
	case []byte:
		b = append(binary.AppendUvarint([]byte{'X'}, uint64(len(x))), x...)
	default:
		return fmt.Errorf("a %T value has no canonical encoding", v)
	}
	h.Write(b)
	return nil
}

// columnList is the table's columns, comma-separated (names checked
// against identifier by loadSchema).
func (t *table) columnList() string {
	names := make([]string, len(t.cols))
	for i, c := range t.cols {
		names[i] = q(c.name)
	}
	return strings.Join(names, ", ")
}

// sourceOrder is the ORDER BY of a full scan of the source: the primary
// key, or every column for a table without one.
func (t *table) sourceOrder() string {
	if t.pk != nil {
		return quoteAll(t.pk)
	}
	return t.columnList()
}

// targetOrder is the same order in PostgreSQL: text compared bytewise
// (COLLATE "C", as SQLite's default BINARY collation) and NULLs first
// (as SQLite sorts them), so both scans meet the rows in one order.
func (t *table) targetOrder() string {
	keys := t.pk
	if keys == nil {
		for _, c := range t.cols {
			keys = append(keys, c.name)
		}
	}
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = q(k)
		for _, c := range t.cols {
			if c.name == k && c.text {
				parts[i] += ` COLLATE "C"`
			}
		}
		parts[i] += " NULLS FIRST"
	}
	return strings.Join(parts, ", ")
}

// pkIndexes are the positions of the primary key's columns in t.cols.
func (t *table) pkIndexes() []int {
	var out []int
	for _, k := range t.pk {
		for i, c := range t.cols {
			if c.name == k {
				out = append(out, i)
			}
		}
	}
	return out
}

// batchSize keeps a batch's parameters under PostgreSQL's 65,535.
func (m *migration) batchSize(t *table) int {
	return max(1, min(m.o.BatchRows, 60000/len(t.cols)))
}

// copyTable copies one table: in primary-key order, in batches of one
// transaction each, inserting only the rows the target lacks (a re-run
// resumes where a crash stopped, and a table whose row count already
// matches is not read again: the verification compares its rows). The
// rows postgres.Open made (openerRows) are replaced by the source's. A
// table without a primary key is replaced whole in one transaction:
// without a key, "the rows the target lacks" cannot be told.
func (m *migration) copyTable(ctx context.Context, t *table) (TableReport, error) {
	tr := TableReport{Name: t.name}
	if err := m.o.Source.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+q(t.name)).Scan(&tr.Source); err != nil {
		return tr, err
	}
	if !openerRows[t.name] {
		var have int64
		if err := m.pool.QueryRow(ctx, `SELECT COUNT(*) FROM `+q(t.name)).Scan(&have); err != nil {
			return tr, err
		}
		if have == tr.Source {
			tr.Already = have
			return tr, nil
		}
	}
	if t.pk == nil {
		return tr, m.replaceTable(ctx, t, &tr)
	}
	n := m.batchSize(t)
	keys := t.pkIndexes()
	var after []any // the last key copied: the batches are a keyset scan
	for {
		query := `SELECT ` + t.columnList() + ` FROM ` + q(t.name)
		if after != nil {
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(after)), ", ")
			query += ` WHERE (` + quoteAll(t.pk) + `) > (` + marks + `)`
		}
		query += ` ORDER BY ` + t.sourceOrder() + ` LIMIT ` + strconv.Itoa(n)
		raw, rows, err := m.readSource(ctx, t, query, after...)
		if err != nil {
			return tr, err
		}
		if len(rows) == 0 {
			return tr, nil
		}
		inserted, err := m.insert(ctx, m.pool, t, rows)
		if err != nil {
			return tr, err
		}
		tr.Copied += inserted
		tr.Already += int64(len(rows)) - inserted
		if err := m.stepped(); err != nil {
			return tr, err
		}
		if len(rows) < n {
			return tr, nil
		}
		last := raw[len(raw)-1]
		after = after[:0]
		for _, i := range keys {
			after = append(after, last[i])
		}
	}
}

// replaceTable copies a table without a primary key in one transaction:
// delete what the target has, insert every source row.
func (m *migration) replaceTable(ctx context.Context, t *table, tr *TableReport) error {
	_, rows, err := m.readSource(ctx, t, `SELECT `+t.columnList()+` FROM `+q(t.name)+` ORDER BY rowid`)
	if err != nil {
		return err
	}
	err = pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM `+q(t.name)); err != nil {
			return err
		}
		n := m.batchSize(t)
		for i := 0; i < len(rows); i += n {
			if _, err := m.insert(ctx, tx, t, rows[i:min(i+n, len(rows))]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	tr.Copied = int64(len(rows))
	return m.stepped()
}

// readSource runs q on the source and returns each row twice: as read
// (for the next batch's key) and converted for the target.
func (m *migration) readSource(ctx context.Context, t *table, q string, args ...any) (raw, conv [][]any, err error) {
	rows, err := m.o.Source.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r, c, err := scanSource(rows, t)
		if err != nil {
			return nil, nil, err
		}
		raw, conv = append(raw, r), append(conv, c)
	}
	return raw, conv, rows.Err()
}

// scanSource reads one source row, as read and converted.
func scanSource(rows *sql.Rows, t *table) (raw, conv []any, err error) {
	raw = make([]any, len(t.cols))
	ptrs := make([]any, len(t.cols))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, nil, err
	}
	conv = make([]any, len(t.cols))
	for i, c := range t.cols {
		if conv[i], err = toPG(raw[i], c); err != nil {
			return nil, nil, err
		}
	}
	return raw, conv, nil
}

// execer is the pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// insert writes rows into t in one statement (so one transaction) and
// returns how many it inserted (or, for openerRows, replaced); rows
// already there are left alone.
func (m *migration) insert(ctx context.Context, db execer, t *table, rows [][]any) (int64, error) {
	var b strings.Builder
	b.WriteString(`INSERT INTO ` + q(t.name) + ` (` + t.columnList() + `) VALUES `)
	args := make([]any, 0, len(rows)*len(t.cols))
	for r, row := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i, v := range row {
			if i > 0 {
				b.WriteString(", ")
			}
			args = append(args, v)
			b.WriteString("$" + strconv.Itoa(len(args)))
		}
		b.WriteByte(')')
	}
	if openerRows[t.name] {
		sets := make([]string, len(t.cols))
		for i, c := range t.cols {
			sets[i] = q(c.name) + " = EXCLUDED." + q(c.name)
		}
		b.WriteString(` ON CONFLICT (` + quoteAll(t.pk) + `) DO UPDATE SET ` + strings.Join(sets, ", "))
	} else {
		b.WriteString(` ON CONFLICT DO NOTHING`)
	}
	tag, err := db.Exec(ctx, b.String(), args...)
	if err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}

// sourceChecksum and targetChecksum scan a whole table in the same
// order and return its row count and the SHA-256 of the canonical
// encoding of its rows (the table's name and columns first).
func (m *migration) sourceChecksum(ctx context.Context, t *table) (int64, []byte, error) {
	rows, err := m.o.Source.QueryContext(ctx, `SELECT `+t.columnList()+` FROM `+q(t.name)+` ORDER BY `+t.sourceOrder())
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	h := t.checksum()
	var n int64
	for rows.Next() {
		_, conv, err := scanSource(rows, t)
		if err != nil {
			return 0, nil, err
		}
		for _, v := range conv {
			if err := encodeValue(h, v); err != nil {
				return 0, nil, err
			}
		}
		n++
	}
	return n, h.Sum(nil), rows.Err()
}

func (m *migration) targetChecksum(ctx context.Context, t *table) (int64, []byte, error) {
	rows, err := m.pool.Query(ctx, `SELECT `+t.columnList()+` FROM `+q(t.name)+` ORDER BY `+t.targetOrder())
	if err != nil {
		return 0, nil, err
	}
	defer rows.Close()
	h := t.checksum()
	var n int64
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return 0, nil, err
		}
		for _, v := range vals {
			if err := encodeValue(h, fromPG(v)); err != nil {
				return 0, nil, err
			}
		}
		n++
	}
	return n, h.Sum(nil), rows.Err()
}

// checksum starts a table's checksum with its name and columns.
func (t *table) checksum() hash.Hash {
	h := sha256.New()
	encodeValue(h, t.name)         //nolint:errcheck // strings always encode
	encodeValue(h, t.columnList()) //nolint:errcheck
	return h
}

// advanceSequences moves every id sequence of the target past the ids
// the source handed out, so that the next row the server adds gets a new
// id: past the largest id copied, and past SQLite's AUTOINCREMENT
// counter (sqlite_sequence), which may be further (events and
// invitations whose newest rows were deleted: their ids are never
// reused). The audit log's counter (audit_log_seq, the chain's "last id
// handed out") gets the source's. A sequence never moves back.
func (m *migration) advanceSequences(ctx context.Context) error {
	counters := map[string]int64{}
	rows, err := m.o.Source.QueryContext(ctx, `SELECT name, seq FROM sqlite_sequence`)
	if err == nil {
		for rows.Next() {
			var name string
			var seq int64
			if err := rows.Scan(&name, &seq); err != nil {
				rows.Close()
				return err
			}
			counters[name] = seq
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	} else if !strings.Contains(err.Error(), "no such table") {
		return err
	}
	for _, t := range m.tables {
		for _, col := range t.serial {
			var seqName string
			if err := m.pool.QueryRow(ctx, `SELECT pg_get_serial_sequence($1, $2)`, t.name, col).Scan(&seqName); err != nil {
				return err
			}
			var top int64
			if err := m.pool.QueryRow(ctx, `SELECT COALESCE(MAX(`+q(col)+`), 0) FROM `+q(t.name)).Scan(&top); err != nil {
				return err
			}
			top = max(top, counters[t.name])
			if top < 1 {
				continue
			}
			if _, err := m.pool.Exec(ctx, `SELECT setval($1::regclass, GREATEST($2::bigint, COALESCE(pg_sequence_last_value($1::regclass), 0)), true)`, seqName, top); err != nil {
				return err
			}
		}
	}
	_, err = m.pool.Exec(ctx, `UPDATE audit_log_seq SET seq = GREATEST(seq, $1) WHERE id = 1`, counters["audit_log"])
	return err
}

// q quotes an identifier (already checked against identifier, so it
// holds no quote): "key" and "at" are words of SQL too.
func q(name string) string { return `"` + name + `"` }

// quoteAll quotes and joins names.
func quoteAll(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = q(n)
	}
	return strings.Join(out, ", ")
}
