#!/usr/bin/env bash
# Authenticated GET /api/v1/me on one `bindery serve` with PostgreSQL,
# side by side with the same on SQLite (issue 16: the PostgreSQL store
# must keep issue 2's targets, ≥ 10,000 req/s and p99 ≤ 20 ms). Both
# servers run at once, idle in turn; wrk (same settings as bench/http.sh)
# alternates between them run by run, so that drift in the machine's load
# falls on both alike. Prints medians, min–max and the ratio.
#
# PostgreSQL is a throwaway instance from scripts/postgres.sh: on a Unix
# socket, with fsync, synchronous_commit and full_page_writes off. GET /me
# reads (session, user) and writes nothing durable, so those settings do
# not flatter this figure; they would flatter write-heavy ones.
#
# Usage: bench/postgres.sh [runs=5] [seconds=10] [connections=64] [wrk threads=1]
# wrk, both servers and PostgreSQL share the machine's cores: on 2 cores
# that understates a server alone, PostgreSQL's the more (its backends
# compete with the server it answers).
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5} secs=${2:-10} conns=${3:-64} threads=${4:-1}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh

work=$(mktemp -d)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  postgres_stop "${BINDERY_TEST_POSTGRES_DIR:-}"
  rm -rf "$work"
}
trap cleanup EXIT
CGO_ENABLED=0 go build -o "$work/bindery" ./cmd/bindery
postgres_start
keys=$("$work/bindery" keys generate)
ENCRYPTION_KEY=$(sed -n 's/^ENCRYPTION_KEY=//p' <<<"$keys")
export ENCRYPTION_KEY BINDERY_LOG_LEVEL=warn
port=${PORT:-18768}
pw='correct horse battery staple'

# serve NAME PORT [DATABASE_URL]: a server with its own data folder and
# the bench account, signed in; sets cookie_NAME and base_NAME.
serve() {
  local name=$1 p=$2 db=${3:-} pid
  mkdir -p "$work/$name"
  (
    export BINDERY_DATA_DIR="$work/$name/data" WEBSOCKET_PORT=$p
    if [[ -n $db ]]; then export BINDERY_DATABASE_URL=$db; fi
    printf '%s\n' "$pw" | "$work/bindery" user add --email bench@example.com --role author >/dev/null
    cd "$work/$name" && exec "$work/bindery" serve >"$work/$name/out" 2>"$work/$name/err"
  ) &
  pid=$!
  pids+=("$pid")
  printf -v "base_$name" '%s' "http://127.0.0.1:$p"
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$p/healthz" >/dev/null && break; sleep 0.1; done
  if ! kill -0 "$pid" 2>/dev/null; then
    echo "the $name server exited (port $p taken? set PORT):" >&2
    cat "$work/$name/err" >&2
    exit 1
  fi
  curl -fs -o /dev/null -c "$work/$name/jar" -H 'Content-Type: application/json' \
    -d "{\"email\":\"bench@example.com\",\"password\":\"$pw\"}" "http://127.0.0.1:$p/api/v1/auth/login"
  printf -v "cookie_$name" '%s' "$(awk '$6=="bindery_session"{print $7}' "$work/$name/jar")"
}
serve sqlite "$port"
serve postgres "$((port + 1))" "$BINDERY_TEST_POSTGRES_URL"

# GET /me is answered from the principal cache (internal/auth: a session
# is looked up in the database at most once a second), so it measures the
# HTTP path more than the store; GET /books lists the caller's books with
# a query on every request (none here: the query, not the rows).
paths=(/api/v1/me /api/v1/books)

# measure NAME PATH: one wrk run against that server; appends to rps and
# p99 under "NAME PATH".
declare -A rps p99
measure() {
  local name=$1 path=$2 base cookie out r p
  base=base_$name cookie=cookie_$name
  out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "Cookie: bindery_session=${!cookie}" "${!base}$path")
  grep -q 'Non-2xx' <<<"$out" && { echo "non-2xx answers from $name $path:"; echo "$out"; exit 1; }
  r=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  rps["$name $path"]+=" $r" p99["$name $path"]+=" $p"
  echo "run $i $name $path: $r req/s, p99 $p ms (load $(cut -d' ' -f1 /proc/loadavg))"
}
for i in $(seq "$runs"); do
  for path in "${paths[@]}"; do
    # Alternate which store goes first.
    if ((i % 2)); then measure sqlite "$path"; measure postgres "$path"; else measure postgres "$path"; measure sqlite "$path"; fi
  done
done

median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
minmax() { printf '%s\n' "$@" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
echo
echo "$conns connections, ${secs}s × $runs runs each (wrk, $threads thread(s), on the same $(nproc) cores), median (min–max):"
echo
echo "| request | store | req/s | p99 |"
echo "|---|---|---:|---:|"
for path in "${paths[@]}"; do
  for name in sqlite postgres; do
    # shellcheck disable=SC2086 # the lists are space-separated numbers
    echo "| GET ${path#/api/v1} | $name | $(median ${rps["$name $path"]}) ($(minmax ${rps["$name $path"]})) | $(median ${p99["$name $path"]}) ms ($(minmax ${p99["$name $path"]})) |"
  done
done
echo
for path in "${paths[@]}"; do
  # shellcheck disable=SC2086
  echo "GET ${path#/api/v1}, PostgreSQL / SQLite: throughput $(ratio "$(median ${rps["postgres $path"]})" "$(median ${rps["sqlite $path"]})"), p99 $(ratio "$(median ${p99["postgres $path"]})" "$(median ${p99["sqlite $path"]})")"
done
