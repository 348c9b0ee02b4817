#!/usr/bin/env bash
# Peak memory of `bindery build --formats pdf,epub,html` on the worst-case
# books within the default limits (issue 13: every build under 256 MB):
# one 512 KiB paragraph, 1000 chapters holding 4 MiB, one 4 MiB chapter,
# a 16-megapixel 16-bit PNG with alpha, a 50-megapixel JPEG. The books are
# written by `go run ./bench/memory`; the figure is /usr/bin/time's
# maximum resident set size, median of N runs per case.
#
# With "server", each book is pushed to a fresh `bindery serve` and built
# there by a run (`bindery run --follow`); the figure is the server's peak
# (VmHWM), reset after the push (/proc/PID/clear_refs), so it is the
# server's own memory plus the build's.
#
# Usage: bench/memory.sh [runs=3] [server]
# Extra environment (GOMEMLIMIT, BINDERY_MAX_…) is passed on
# to the builds. `go test ./bench/memory` asserts the same budget.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3} mode=${2:-terminal}
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time; Debian package time)" >&2; exit 1; }

work=$(mktemp -d) pid=
trap 'if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/bindery" ./cmd/bindery
mapfile -t cases < <(go run ./bench/memory -out "$work/books")

# terminal BOOK: peak KB and seconds of `bindery build BOOK`, into $work/result.
terminal() {
  rm -rf "$work/out"
  /usr/bin/time -f '%M %e' -o "$work/time" "$work/bindery" build "$1" --out "$work/out" --formats pdf,epub,html >/dev/null 2>"$work/err" ||
    { echo "build of $1 failed:" >&2; cat "$work/err" >&2; exit 1; }
  cp "$work/time" "$work/result"
}

# server BOOK: peak KB and seconds of a fresh server building BOOK in a
# run, into $work/result.
server() {
  local data=$work/data port=${PORT:-18767} start end kb
  rm -rf "$data" "$work/xdg"
  export BINDERY_DATA_DIR=$data WEBSOCKET_PORT=$port BINDERY_LOG_LEVEL=warn XDG_CONFIG_HOME=$work/xdg
  printf 'memory-bench-password-%s\n' "$RANDOM$RANDOM" | "$work/bindery" user add --email bench@example.org --role admin >/dev/null 2>&1
  BINDERY_TOKEN=$("$work/bindery" token create --user bench@example.org --name bench 2>/dev/null | tail -1)
  export BINDERY_TOKEN BINDERY_SERVER=http://127.0.0.1:$port
  "$work/bindery" serve >"$work/serve.out" 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 100); do curl -fs "$BINDERY_SERVER/healthz" >/dev/null && break; sleep 0.1; done
  "$work/bindery" push "$1" >/dev/null 2>"$work/err" || { echo "push of $1 failed:" >&2; cat "$work/err" >&2; exit 1; }
  echo 5 >"/proc/$pid/clear_refs" # peak RSS from now on
  start=$(date +%s.%N)
  "$work/bindery" run --book 1 --formats pdf,epub,html --follow >/dev/null 2>"$work/err" ||
    { echo "run of $1 failed:" >&2; cat "$work/err" >&2; exit 1; }
  end=$(date +%s.%N)
  kb=$(awk '/^VmHWM/{print $2}' "/proc/$pid/status")
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=
  echo "$kb $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.2f", b - a}')" >"$work/result"
}

echo "$mode: peak RSS of a build of each worst case, median of $runs"
printf '%-10s %10s %10s %8s\n' case "peak MB" "min-max" "seconds"
for c in "${cases[@]}"; do
  peaks=() secs=()
  for _ in $(seq "$runs"); do
    if [[ $mode == server ]]; then server "$work/books/$c"; else terminal "$work/books/$c"; fi
    read -r kb s <"$work/result"
    peaks+=("$((kb / 1024))") secs+=("$s")
  done
  sorted=$(printf '%s\n' "${peaks[@]}" | sort -n)
  median=$(awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}' <<<"$sorted")
  lo=$(head -1 <<<"$sorted") hi=$(tail -1 <<<"$sorted")
  s=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf '%-10s %10s %10s %8s\n' "$c" "$median" "$lo-$hi" "$s"
done
