#!/usr/bin/env bash
# Peak memory of `bindery build --formats pdf,epub,html` on the worst-case
# books within the default limits (issue 13: every build under 256 MB):
# one 512 KiB paragraph, 1000 chapters holding 4 MiB, one 4 MiB chapter,
# a 16-megapixel 16-bit PNG with alpha, a 50-megapixel JPEG. The books are
# written by `go run ./bench/memory`; the figure is /usr/bin/time's
# maximum resident set size, median of N runs per case.
#
# Usage: bench/memory.sh [runs=3]
# Extra environment (BINDERY_MEMORY_LIMIT=0, BINDERY_MAX_…) is passed on
# to the builds. `go test ./bench/memory` asserts the same budget.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-3}
[[ -x /usr/bin/time ]] || { echo "needs GNU time (/usr/bin/time; Debian package time)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/bindery" ./cmd/bindery
mapfile -t cases < <(go run ./bench/memory -out "$work/books")

printf '%-10s %10s %10s %8s\n' case "peak MB" "min-max" "seconds"
for c in "${cases[@]}"; do
  peaks=() secs=()
  for _ in $(seq "$runs"); do
    rm -rf "$work/out"
    /usr/bin/time -f '%M %e' -o "$work/time" "$work/bindery" build "$work/books/$c" --out "$work/out" --formats pdf,epub,html >/dev/null 2>"$work/err" ||
      { echo "build of $c failed:" >&2; cat "$work/err" >&2; exit 1; }
    read -r kb s <"$work/time"
    peaks+=("$((kb / 1024))") secs+=("$s")
  done
  sorted=$(printf '%s\n' "${peaks[@]}" | sort -n)
  median=$(awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}' <<<"$sorted")
  lo=$(head -1 <<<"$sorted") hi=$(tail -1 <<<"$sorted")
  s=$(printf '%s\n' "${secs[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
  printf '%-10s %10s %10s %8s\n' "$c" "$median" "$lo-$hi" "$s"
done
