#!/usr/bin/env bash
# HTTP throughput of a real `bindery serve` on loopback, measured with wrk
# (Debian package `wrk`): authenticated GET /api/v1/me, plus the latency of
# a sign-in (one argon2id verification) and the server's peak RSS.
#
# Targets (issue #2): ≥ 10,000 req/s, p99 ≤ 20 ms, peak RSS ≤ 80 MB,
# sign-in between 30 and 150 ms. wrk shares the machine's cores with the
# server: on 2 cores that understates the server alone.
#
# Usage: bench/http.sh [runs=5] [seconds=10] [connections=64] [wrk threads=1]
# One wrk thread by default: on 2 cores a second load thread mostly steals
# CPU from the server it measures.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5} secs=${2:-10} conns=${3:-64} threads=${4:-1}
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 1; }

work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/bindery" ./cmd/bindery
export BINDERY_DATA_DIR="$work/data" BINDERY_LOG_LEVEL=warn WEBSOCKET_PORT=${PORT:-18765}
pw='correct horse battery staple'
printf '%s\n' "$pw" | "$work/bindery" user add --email bench@example.com --role author >/dev/null
(cd "$work" && exec ./bindery serve >"$work/out" 2>"$work/err") &
pid=$!
base="http://127.0.0.1:$WEBSOCKET_PORT"
for _ in $(seq 100); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done

# Sign-in latency: 21 sequential logins, median.
login_ms=()
for _ in $(seq 21); do
  t=$(curl -s -o /dev/null -w '%{time_total}' -c "$work/jar" -H 'Content-Type: application/json' \
      -d "{\"email\":\"bench@example.com\",\"password\":\"$pw\"}" "$base/api/v1/auth/login")
  login_ms+=("$(awk -v t="$t" 'BEGIN{printf "%.1f", t*1000}')")
done
login_median=$(printf '%s\n' "${login_ms[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
cookie=$(awk '$6=="bindery_session"{print $7}' "$work/jar")

rps=() p99=()
for i in $(seq "$runs"); do
  out=$(wrk -t"$threads" -c"$conns" -d"${secs}s" --latency -H "Cookie: bindery_session=$cookie" "$base/api/v1/me")
  grep -q 'Non-2xx' <<<"$out" && { echo "non-2xx answers:"; echo "$out"; exit 1; }
  r=$(awk '/Requests\/sec/{print $2}' <<<"$out")
  p=$(awk '$1=="99%"{v=$2; if (v ~ /us$/) {sub(/us/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v*=1000}; print v}' <<<"$out")
  rps+=("$r") p99+=("$p")
  echo "run $i: $r req/s, p99 $p ms"
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}'; }
minmax() { printf '%s\n' "$@" | sort -n | awk 'NR==1{lo=$1} {hi=$1} END{print lo "–" hi}'; }
rss_kb=$(awk '/VmHWM/{print $2}' /proc/$pid/status)
echo
echo "GET /api/v1/me, $conns connections, ${secs}s × $runs runs (wrk, $threads thread(s), on the same $(nproc) cores):"
echo "  throughput: median $(median "${rps[@]}") req/s (range $(minmax "${rps[@]}"))"
echo "  p99 latency: median $(median "${p99[@]}") ms (range $(minmax "${p99[@]}"))"
echo "  peak RSS: $((rss_kb / 1024)) MB"
echo "sign-in (argon2id m=19 MiB, t=3): median ${login_median} ms over 21 logins"
