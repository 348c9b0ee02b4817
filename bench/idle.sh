#!/usr/bin/env bash
# CPU of an idle `bindery serve`: no clients, no runs. Reads the process's
# user + system time from /proc/PID/stat before and after a window and
# prints the share of one core it used, per window and the median.
#
# Target (issue 13): at most 0.3 % of a core over 60 s, while a queued run
# still starts within 100 ms (a job inserted in-process wakes the worker;
# the test of that is in internal/pipeline).
#
# Usage: bench/idle.sh [windows=3] [seconds=60]
# Linux only (/proc). The first window starts 5 s after /healthz answers,
# so start-up work (migrations, first sweeps) is not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
windows=${1:-3} secs=${2:-60}
[[ -r /proc/self/stat ]] || { echo "needs Linux /proc" >&2; exit 1; }

work=$(mktemp -d)
pid=
trap 'if [[ -n $pid ]]; then kill "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
CGO_ENABLED=0 go build -o "$work/bindery" ./cmd/bindery
export BINDERY_DATA_DIR="$work/data" BINDERY_LOG_LEVEL=warn WEBSOCKET_PORT=${PORT:-18766}
(cd "$work" && exec ./bindery serve >"$work/out" 2>"$work/err") &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$WEBSOCKET_PORT/healthz" >/dev/null && break; sleep 0.1; done
sleep 5
if ! kill -0 "$pid" 2>/dev/null; then
  echo "bindery serve exited (port $WEBSOCKET_PORT taken? set PORT):" >&2
  cat "$work/err" >&2
  exit 1
fi

tck=$(getconf CLK_TCK)
# cpu_ticks prints utime + stime of $pid (fields 14 and 15 of its stat
# line, counted after the command name, which may hold spaces).
cpu_ticks() { sed 's/^.*) //' "/proc/$pid/stat" | awk '{print $12 + $13}'; }
shares=()
for i in $(seq "$windows"); do
  a=$(cpu_ticks); sleep "$secs"; b=$(cpu_ticks)
  share=$(awk -v d=$((b - a)) -v t="$tck" -v s="$secs" 'BEGIN{printf "%.3f", 100 * d / t / s}')
  shares+=("$share")
  echo "window $i: $((b - a)) ticks in ${secs}s = ${share} % of a core"
done
median=$(printf '%s\n' "${shares[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')
echo "idle CPU: median ${median} % of a core over ${secs}s windows (${windows} windows; resolution $(awk -v t="$tck" -v s="$secs" 'BEGIN{printf "%.3f", 100 / t / s}') %)"
