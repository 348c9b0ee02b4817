#!/usr/bin/env bash
# Compares "bindery build --formats epub" with pandoc on one book folder:
# median wall time and peak RSS over N runs each (GNU time).
#
#   bench/build.sh [BOOK_DIR] [RUNS]
#
# BOOK_DIR defaults to the Frankenstein corpus (78k words). Needs GNU time
# (/usr/bin/time) and, for the comparison, pandoc (apt-get install pandoc).
# The machine's load is printed too: on a shared machine, compare the two
# rows of one run rather than numbers across runs.
set -euo pipefail

book=${1:-../shared/corpus/frankenstein}
runs=${2:-5}
top=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }
(cd "$top" && CGO_ENABLED=0 go build -o "$tmp/bindery" ./cmd/bindery)

# measure NAME CMD...: run CMD $runs times, print median seconds and max RSS.
measure() {
	local name=$1
	shift
	: >"$tmp/times"
	for _ in $(seq "$runs"); do
		/usr/bin/time -f "%e %M" -a -o "$tmp/times" "$@" >/dev/null 2>&1
	done
	sort -n "$tmp/times" | awk -v name="$name" -v n="$runs" '
		{ t[NR] = $1; if ($2 > rss) rss = $2 }
		END { printf "%-8s median %6.3f s   peak RSS %6.1f MB   (%d runs)\n", name, t[int((n + 1) / 2)], rss / 1024, n }'
}

# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# compare BOOK: bindery and pandoc side by side, then the ratio of medians.
compare() {
	local b=$1
	echo "book: $b ($(cat "$b"/chapters/*.md | wc -w) words); load: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
	local ours theirs
	ours=$(measure bindery "$tmp/bindery" build "$b" --out "$tmp/out" --formats epub)
	echo "$ours"
	if command -v pandoc >/dev/null; then
		local cover=()
		for c in "$b"/cover.jpg "$b"/assets/images/cover.jpg; do
			[ -f "$c" ] && cover=(--epub-cover-image="$c") && break
		done
		theirs=$(measure pandoc pandoc -o "$tmp/pandoc.epub" "${cover[@]}" --metadata-file="$b/metadata.yaml" "$b"/chapters/*.md)
		echo "$theirs"
		awk -v a="$(awk '{print $3}' <<<"$ours")" -v b="$(awk '{print $3}' <<<"$theirs")" \
			'BEGIN { printf "ratio    bindery is %.1f× faster than pandoc\n", b / a }'
	else
		echo "pandoc   not installed (apt-get install pandoc) — skipped"
	fi
}

compare "$book"
echo
compare "$(big "$book" 4)"
