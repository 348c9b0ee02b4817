#!/usr/bin/env bash
# bench/pdf.sh — whole-process timing of the native PDF renderer.
#
# Renders the Frankenstein corpus (78k words) and the same chapters
# repeated four times (~313k words), five runs each, and reports wall time
# and peak RSS. Targets: ≤ 1 s and ≤ 4 s, peak RSS ≤ 300 MB.
# Compares with pandoc --pdf-engine=xelatex when both are installed.
#
# Usage: bench/pdf.sh [BOOKDIR]   (default ../shared/corpus/frankenstein)
set -euo pipefail
cd "$(dirname "$0")/.."
book=${1:-../shared/corpus/frankenstein}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
CGO_ENABLED=0 go build -o "$tmp/pdfbench" ./internal/render/pdf/internal/pdfbench

measure() { # label repeat
  local best=999999 rss=0
  for _ in 1 2 3 4 5; do
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$tmp/pdfbench" -repeat "$2" -o "$tmp/out.pdf" "$book"
    read -r secs kb < "$tmp/time"
    best=$(awk -v a="$best" -v b="$secs" 'BEGIN{print (b<a)?b:a}')
    rss=$(( kb > rss ? kb : rss ))
  done
  printf '%-28s best %6.2f s   peak RSS %4d MB   %s pages\n' "$1" "$best" $((rss/1024)) \
    "$(pdfinfo "$tmp/out.pdf" 2>/dev/null | awk '/^Pages:/{print $2}')"
}

measure "frankenstein (78k words)" 1
measure "4x frankenstein (313k words)" 4

if command -v pandoc >/dev/null && command -v xelatex >/dev/null; then
  start=$(date +%s.%N)
  pandoc "$book"/chapters/*.md -o "$tmp/pandoc.pdf" --pdf-engine=xelatex
  printf '%-28s %6.2f s\n' "pandoc + xelatex" "$(echo "$(date +%s.%N) - $start" | bc)"
else
  echo "pandoc/xelatex not installed: no comparison"
fi
