#!/usr/bin/env bash
# Times `bindery migrate` of one data folder into a new PostgreSQL schema,
# N times: median wall time, and rows and bytes per second.
#
#   eval "$(scripts/postgres.sh start)"     # or any postgres:// URL
#   BINDERY_TEST_POSTGRES_URL=… bench/migrate.sh [EVENTS] [FILES] [RUNS]
#
# The data folder holds one account, EVENTS run events (default 100000,
# inserted with python3's sqlite3 module) and FILES files of 256 KiB in
# its blob store (default 200), copied to a folder with --blobs DIR. Each
# run gets a new schema (dropped afterwards), so every run copies
# everything; the verification (checksums of both sides, the audit chain,
# every file's size) is part of the time, as it is of every migrate.
set -euo pipefail

events=${1:-100000}
files=${2:-200}
runs=${3:-5}
url=${BINDERY_TEST_POSTGRES_URL:?set BINDERY_TEST_POSTGRES_URL (eval "\$(scripts/postgres.sh start)")}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

(cd "$top" && CGO_ENABLED=0 go build -o "$tmp/bindery" ./cmd/bindery)
data=$tmp/data
key=$("$tmp/bindery" keys generate | sed -n 's/^ENCRYPTION_KEY=//p')
export BINDERY_DATA_DIR=$data ENCRYPTION_KEY=$key
printf 'correct horse battery staple\n' | "$tmp/bindery" user add --email ann@example.org --role admin >/dev/null
python3 - "$data/bindery.db" "$events" <<'EOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("""WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?)
  INSERT INTO events (at, type, run_id, book_id, body)
  SELECT x, 'log', 0, 0, '{"type":"log","level":"info","message":"line ' || x || ' of the build log"}' FROM c""", (int(sys.argv[2]),))
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
EOF
# Files under content keys (books/1/files/<sha256>), as blob.Local keeps them.
for i in $(seq "$files"); do
	head -c 262144 /dev/urandom >"$tmp/f"
	sum=$(sha256sum "$tmp/f" | cut -d' ' -f1)
	mkdir -p "$data/blobs/books/1/files"
	mv "$tmp/f" "$data/blobs/books/1/files/$sum"
done
chmod -R go-rwx "$data"

: >"$tmp/times"
for i in $(seq "$runs"); do
	schema=bench_migrate_$$_$i
	psql -q "$url" -c "CREATE SCHEMA $schema" >/dev/null
	sep='?'; [[ $url == *\?* ]] && sep='&'
	start=$(date +%s.%N)
	"$tmp/bindery" migrate --to "$url${sep}search_path=$schema" --blobs "$tmp/blobs-$i" >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }' >>"$tmp/times"
	psql -q "$url" -c "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" >/dev/null
	rm -rf "$tmp/blobs-$i"
done
tail -n 4 "$tmp/out"
bytes=$((files * 262144))
sort -n "$tmp/times" | awk -v n="$runs" -v rows="$events" -v bytes="$bytes" -v load="$(cut -d' ' -f1-3 /proc/loadavg)" '
	{ t[NR] = $1 }
	END {
		m = t[int((n + 1) / 2)]
		printf "migrate of %d events and %d MiB of files: median %.2f s of %d runs (min %.2f, max %.2f): %.0f rows/s, %.1f MiB/s; load %s\n",
			rows, bytes / 1048576, m, n, t[1], t[n], rows / m, bytes / 1048576 / m, load
	}'
