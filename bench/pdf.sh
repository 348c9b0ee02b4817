#!/usr/bin/env bash
# Compares "bindery build --formats pdf" with other Markdown-to-PDF tools on
# the same book folder, whole process each (start-up, reading, typesetting,
# writing): median wall time and peak RSS over several runs (GNU time), and
# the ratio of each peer to bindery. Two books: BOOK_DIR (Frankenstein,
# 78k words, by default) and the same chapters repeated four times (~313k
# words).
#
#   bench/pdf.sh [BOOK_DIR] [RUNS] [PEER_RUNS]
#
# RUNS (default 5) is the number of runs of bindery; PEER_RUNS (default 3)
# that of each peer, which are one to two orders of magnitude slower.
# Every tool sets a 6×9 in page where it can:
#
#   bindery            pdf.page_size of metadata.yaml (6x9 is its default)
#   pandoc + xelatex   book class, 11 pt, geometry 6in×9in with bindery's margins
#                      (apt-get install -y pandoc texlive-xetex lmodern texlive-fonts-recommended)
#   pandoc + weasyprint  @page { size: 6in 9in } with the same margins
#                      (apt-get install -y pandoc weasyprint)
#   calibre            ebook-convert of bindery's EPUB, 6×9 in custom size
#                      (apt-get install -y calibre)
#
# Missing tools are reported as skipped, failing ones as failed. Peak RSS is
# GNU time's: the largest single process of the tree (xelatex or
# WeasyPrint, say), not the sum. On a shared machine compare the rows of
# one run, not numbers across runs; the load is printed for that reason.
set -euo pipefail

book=${1:-../shared/corpus/frankenstein}
runs=${2:-5}
peer_runs=${3:-3}
top=$(cd "$(dirname "$0")/.." && pwd)
book=$(cd "$book" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

[ -x /usr/bin/time ] || { echo "needs GNU time (/usr/bin/time)" >&2; exit 1; }
(cd "$top" && CGO_ENABLED=0 go build -o "$tmp/bindery" ./cmd/bindery)

# bindery's default 6x9 margins (render/pdf.DefaultMargins), for the peers.
geometry="paperwidth=6in,paperheight=9in,top=0.75in,bottom=0.8056in,inner=0.875in,outer=0.625in,twoside"
cat >"$tmp/page.css" <<'EOF'
@page { size: 6in 9in; margin: 0.75in 0.625in 0.8056in 0.875in; }
@page :left { margin: 0.75in 0.875in 0.8056in 0.625in; }
@page { @bottom-center { content: counter(page); } }
html { font-size: 11pt; }
body { max-width: none; margin: 0; padding: 0; hyphens: auto; text-align: justify; }
h1 { page-break-before: right; }
EOF

# measure N OUT CMD...: run CMD N times; print "median_s peak_rss_kb pages"
# or "failed: last line of its errors". OUT is the PDF it writes.
measure() {
	local n=$1 out=$2
	shift 2
	: >"$tmp/times"
	for _ in $(seq "$n"); do
		rm -f "$out"
		if ! /usr/bin/time -f "%e %M" -o "$tmp/t1" "$@" >"$tmp/log" 2>&1 || [ ! -s "$out" ]; then
			echo "failed: $(grep -v '^\s*$' "$tmp/log" | tail -n 1 | cut -c1-100)"
			return
		fi
		cat "$tmp/t1" >>"$tmp/times"
	done
	local pages
	pages=$(pdfinfo "$out" 2>/dev/null | awk '/^Pages:/ { print $2 }')
	sort -n "$tmp/times" | awk -v n="$n" -v pages="${pages:-?}" '
		{ t[NR] = $1; if ($2 > rss) rss = $2 }
		END { m = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2; print m, rss, pages }'
}

# big BOOK N: a book of N copies of BOOK's chapters (the 300k-word case).
big() {
	local src=$1 n=$2 dst=$tmp/big
	mkdir -p "$dst/chapters"
	cp "$src/metadata.yaml" "$dst/"
	[ -f "$src/cover.jpg" ] && cp "$src/cover.jpg" "$dst/"
	[ -d "$src/assets" ] && cp -r "$src/assets" "$dst/"
	for i in $(seq "$n"); do
		for f in "$src"/chapters/*.md; do cp "$f" "$dst/chapters/$i-$(basename "$f")"; done
	done
	echo "$dst"
}

# row NAME RESULT BASE: one line of the table; BASE is bindery's result.
row() {
	local name=$1 res=$2 base=$3
	case $res in
	failed* | skipped*) printf '%-20s %s\n' "$name" "$res" ;;
	*)
		awk -v name="$name" -v r="$res" -v b="$base" 'BEGIN {
			split(r, x, " "); split(b, y, " ")
			printf "%-20s %9.2f %11.1f %7s %10.1f× %9.1f×\n", name, x[1], x[2] / 1024, x[3], x[1] / y[1], x[2] / y[2]
		}'
		;;
	esac
}

# compare BOOK: every tool on BOOK, one table.
compare() {
	local b=$1 out=$tmp/out
	rm -rf "$out"
	echo "book: $(basename "$b") ($(cat "$b"/chapters/*.md | wc -w) words); load: $(cut -d' ' -f1-3 /proc/loadavg); cores: $(nproc)"
	printf '%-20s %9s %11s %7s %11s %10s\n' tool "median s" "peak RSS MB" pages "time ratio" "RSS ratio"

	# A first build, untimed, warms the file cache and names the output
	# (after the book's title).
	"$tmp/bindery" build "$b" --out "$out" --formats pdf,epub >/dev/null
	local pdf epub ours
	pdf=$(ls "$out"/*.pdf)
	epub=$(ls "$out"/*.epub)
	ours=$(measure "$runs" "$pdf" "$tmp/bindery" build "$b" --out "$out" --formats pdf)
	case $ours in failed*)
		echo "bindery              $ours"
		return
		;;
	esac
	row "bindery ($runs runs)" "$ours" "$ours"

	local md=("$b/metadata.yaml" "$b"/chapters/*.md) res
	if command -v pandoc >/dev/null && command -v xelatex >/dev/null; then
		res=$(cd "$b" && measure "$peer_runs" "$tmp/xelatex.pdf" pandoc -o "$tmp/xelatex.pdf" "${md[@]}" \
			--pdf-engine=xelatex --toc --top-level-division=chapter -V documentclass=book -V fontsize=11pt \
			-V geometry:"$geometry")
	else
		res="skipped: not installed (apt-get install -y pandoc texlive-xetex lmodern texlive-fonts-recommended)"
	fi
	row "pandoc + xelatex" "$res" "$ours"

	if command -v pandoc >/dev/null && command -v weasyprint >/dev/null; then
		res=$(cd "$b" && measure "$peer_runs" "$tmp/weasy.pdf" pandoc -o "$tmp/weasy.pdf" "${md[@]}" \
			--pdf-engine=weasyprint --toc --css "$tmp/page.css")
	else
		res="skipped: not installed (apt-get install -y pandoc weasyprint)"
	fi
	row "pandoc + weasyprint" "$res" "$ours"

	if command -v ebook-convert >/dev/null; then
		res=$(measure "$peer_runs" "$tmp/calibre.pdf" ebook-convert "$epub" "$tmp/calibre.pdf" \
			--custom-size 6x9 --unit inch --pdf-page-margin-top 54 --pdf-page-margin-bottom 58 \
			--pdf-page-margin-left 63 --pdf-page-margin-right 45 --pdf-page-numbers)
	else
		res="skipped: not installed (apt-get install -y calibre)"
	fi
	row "calibre" "$res" "$ours"
	echo "(time and RSS ratios: the tool's median time and peak RSS over bindery's)"
}

compare "$book"
echo
compare "$(big "$book" 4)"
