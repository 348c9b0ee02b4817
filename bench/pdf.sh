#!/usr/bin/env bash
# Compares "bindery build --formats pdf" with other Markdown-to-PDF tools on
# the same book folder, whole process each (start-up, reading, typesetting,
# writing): median wall time and peak RSS (GNU time), and the ratio of each
# peer to bindery. Two books: BOOK_DIR (Frankenstein, 78k words, by
# default) and the same chapters repeated four times (~313k words).
#
#   bench/pdf.sh [BOOK_DIR] [ROUNDS]
#
# Each round (default 3) runs every tool once, bindery once before and once
# after the peers, so the load of a shared machine weighs on every tool
# alike; the medians are over the rounds (over twice as many runs for
# bindery). Every tool sets a 6×9 in page where it can:
#
#   bindery              pdf.page_size of metadata.yaml (6x9 is its default)
#   pandoc + xelatex     book class, 11 pt, geometry 6in×9in with bindery's margins
#                        (apt-get install -y pandoc texlive-xetex lmodern texlive-fonts-recommended)
#   pandoc + weasyprint  @page { size: 6in 9in } with the same margins, 11 pt
#                        (apt-get install -y pandoc weasyprint)
#   calibre              ebook-convert of bindery's EPUB, 6×9 in custom size
#                        (apt-get install -y calibre)
#
# Missing tools are reported as skipped, failing ones as failed. Peak RSS is
# GNU time's: the largest single process of the tree (xelatex, WeasyPrint,
# a Qt WebEngine worker), not the sum. Page counts differ with the type:
# bindery sets 10 pt Noto Serif (its x-height is that of 11–12 pt of most
# book faces), xelatex 11 pt Latin Modern.
set -euo pipefail

book=${1:-../shared/corpus/frankenstein}
rounds=${2:-3}
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

# run NAME OUT CMD...: run CMD once, appending "seconds rss_kb" to
# $tmp/NAME.times, or writing the last line of its errors to $tmp/NAME.failed.
# OUT is the PDF it writes.
run() {
	local name=$1 out=$2
	shift 2
	[ -e "$tmp/$name.failed" ] && return
	rm -f "$out"
	if /usr/bin/time -f "%e %M" -o "$tmp/t1" "$@" >"$tmp/log" 2>&1 && [ -s "$out" ]; then
		cat "$tmp/t1" >>"$tmp/$name.times"
		pdfinfo "$out" 2>/dev/null | awk '/^Pages:/ { print $2 }' >"$tmp/$name.pages"
	else
		grep -v '^\s*$' "$tmp/log" | tail -n 1 | cut -c1-100 >"$tmp/$name.failed"
	fi
}

# result NAME: "median_s peak_rss_kb pages runs", "failed: …" or "skipped: …".
result() {
	local name=$1
	if [ -e "$tmp/$name.skipped" ]; then
		echo "skipped: $(cat "$tmp/$name.skipped")"
	elif [ -e "$tmp/$name.failed" ]; then
		echo "failed: $(cat "$tmp/$name.failed")"
	else
		sort -n "$tmp/$name.times" | awk -v pages="$(cat "$tmp/$name.pages")" '
			{ t[NR] = $1; if ($2 > rss) rss = $2 }
			END { m = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2; print m, rss, pages, NR }'
	fi
}

# shellcheck source=bench/lib.sh
source "$top/bench/lib.sh"

# row LABEL RESULT BASE: one line of the table; BASE is bindery's result.
row() {
	local label=$1 res=$2 base=$3
	case $res in
	failed* | skipped*) printf '%-20s %s\n' "$label" "$res" ;;
	*)
		awk -v label="$label" -v r="$res" -v b="$base" 'BEGIN {
			split(r, x, " "); split(b, y, " ")
			printf "%-20s %9.2f %11.1f %7s %5d %10.1f× %9.1f×\n", label, x[1], x[2] / 1024, x[3], x[4], x[1] / y[1], x[2] / y[2]
		}'
		;;
	esac
}

# compare BOOK: every tool on BOOK, interleaved, then one table.
compare() {
	local b=$1 out=$tmp/out
	rm -rf "$out" "$tmp"/*.times "$tmp"/*.failed "$tmp"/*.skipped "$tmp"/*.pages
	echo "book: $(basename "$b") ($(cat "$b"/chapters/*.md | wc -w) words); cores: $(nproc); load before: $(cut -d' ' -f1-3 /proc/loadavg)"
	# A first build, untimed, warms the file cache and names the output
	# (after the book's title).
	"$tmp/bindery" build "$b" --out "$out" --formats pdf,epub >/dev/null 2>&1
	local pdf epub
	pdf=$(ls "$out"/*.pdf)
	epub=$(ls "$out"/*.epub)
	local md=(--metadata-file="$b/metadata.yaml" "$b"/chapters/*.md) # the YAML as metadata, not as text
	command -v pandoc >/dev/null && command -v xelatex >/dev/null ||
		echo "not installed (apt-get install -y pandoc texlive-xetex lmodern texlive-fonts-recommended)" >"$tmp/xelatex.skipped"
	command -v pandoc >/dev/null && command -v weasyprint >/dev/null ||
		echo "not installed (apt-get install -y pandoc weasyprint)" >"$tmp/weasyprint.skipped"
	command -v ebook-convert >/dev/null ||
		echo "not installed (apt-get install -y calibre)" >"$tmp/calibre.skipped"
	# Calibre renders with Qt WebEngine (Chromium), which refuses to run as
	# root inside its sandbox, and needs no display offscreen.
	local qt=(env QT_QPA_PLATFORM=offscreen)
	[ "$(id -u)" = 0 ] && qt+=(QTWEBENGINE_CHROMIUM_FLAGS=--no-sandbox)

	for _ in $(seq "$rounds"); do
		run bindery "$pdf" "$tmp/bindery" build "$b" --out "$out" --formats pdf
		[ -e "$tmp/xelatex.skipped" ] || (cd "$b" && run xelatex "$tmp/xelatex.pdf" pandoc -o "$tmp/xelatex.pdf" "${md[@]}" \
			--pdf-engine=xelatex --toc --top-level-division=chapter -V documentclass=book -V fontsize=11pt \
			-V geometry:"$geometry")
		[ -e "$tmp/weasyprint.skipped" ] || (cd "$b" && run weasyprint "$tmp/weasy.pdf" pandoc -o "$tmp/weasy.pdf" "${md[@]}" \
			--pdf-engine=weasyprint --toc --css "$tmp/page.css")
		[ -e "$tmp/calibre.skipped" ] || run calibre "$tmp/calibre.pdf" "${qt[@]}" ebook-convert "$epub" "$tmp/calibre.pdf" \
			--custom-size 6x9 --unit inch --pdf-page-margin-top 54 --pdf-page-margin-bottom 58 \
			--pdf-page-margin-left 63 --pdf-page-margin-right 45 --pdf-page-numbers
		run bindery "$pdf" "$tmp/bindery" build "$b" --out "$out" --formats pdf
	done

	local ours
	ours=$(result bindery)
	printf '%-20s %9s %11s %7s %5s %11s %10s\n' tool "median s" "peak RSS MB" pages runs "time ratio" "RSS ratio"
	case $ours in failed*)
		echo "bindery              $ours"
		return
		;;
	esac
	row bindery "$ours" "$ours"
	row "pandoc + xelatex" "$(result xelatex)" "$ours"
	row "pandoc + weasyprint" "$(result weasyprint)" "$ours"
	row "calibre" "$(result calibre)" "$ours"
	echo "(ratios: the tool's median time and peak RSS over bindery's; load after: $(cut -d' ' -f1-3 /proc/loadavg))"
}

compare "$book"
echo
compare "$(big "$book" 4)"
