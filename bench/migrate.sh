#!/usr/bin/env bash
# Times `bindery migrate` of one data folder into a new PostgreSQL schema,
# N times: median wall time, and rows and bytes per second.
#
#   eval "$(scripts/postgres.sh start)"     # or any postgres:// URL
#   eval "$(scripts/versitygw.sh start)"    # or any BINDERY_TEST_S3_… bucket
#   bench/migrate.sh [EVENTS] [FILES] [RUNS]
#
# The data folder holds one account, EVENTS run events (default 100000,
# inserted with python3's sqlite3 module) and one book of FILES files of
# 256 KiB (default 200), copied to the bucket with --blobs s3 (each run
# under its own BINDERY_S3_PREFIX). Each run gets a new schema (dropped
# afterwards), so every run copies everything; the verification
# (checksums of both sides, the audit chain, every file's size and hash)
# is part of the time, as it is of every migrate.
set -euo pipefail

events=${1:-100000}
files=${2:-200}
runs=${3:-5}
url=${BINDERY_TEST_POSTGRES_URL:?set BINDERY_TEST_POSTGRES_URL (eval "\$(scripts/postgres.sh start)")}
: "${BINDERY_TEST_S3_ENDPOINT:?set BINDERY_TEST_S3_… (eval "\$(scripts/versitygw.sh start)")}"
export BINDERY_S3_ENDPOINT=$BINDERY_TEST_S3_ENDPOINT BINDERY_S3_BUCKET=$BINDERY_TEST_S3_BUCKET \
	BINDERY_S3_ACCESS_KEY=$BINDERY_TEST_S3_ACCESS_KEY BINDERY_S3_SECRET_KEY=$BINDERY_TEST_S3_SECRET_KEY
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
db.execute("INSERT INTO books (id, owner_id, title, created_at, updated_at) VALUES (1, 1, 'Bench', 0, 0)")
db.commit()
db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
db.close()
EOF
# The book's folder, as a single server keeps it.
mkdir -p "$data/books/1/chapters"
for i in $(seq "$files"); do
	head -c 262144 /dev/urandom >"$data/books/1/chapters/$i.md"
done
chmod -R go-rwx "$data"

: >"$tmp/times"
for i in $(seq "$runs"); do
	schema=bench_migrate_$$_$i
	psql -q "$url" -c "CREATE SCHEMA $schema" >/dev/null
	sep='?'; [[ $url == *\?* ]] && sep='&'
	start=$(date +%s.%N)
	BINDERY_S3_PREFIX=bench-migrate-$$-$i/ "$tmp/bindery" migrate --to "$url${sep}search_path=$schema" --blobs s3 >"$tmp/out" 2>&1 || { cat "$tmp/out"; exit 1; }
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f\n", b - a }' >>"$tmp/times"
	psql -q "$url" -c "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE" >/dev/null
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
