#!/usr/bin/env bash
# Installs the Debian packages Bindery's tests use, if any is missing.
# Safe to run repeatedly: it does nothing when everything is present.
# Needs root (or sudo) only when something must be installed.
set -euo pipefail

# command-or-file → Debian package
declare -A need=(
  [gcc]=gcc                                   # go test -race needs cgo
  [java]=default-jre-headless                 # runs epubcheck
  [/usr/share/java/epubcheck.jar]=epubcheck
  [qpdf]=qpdf
  [pdffonts]=poppler-utils                    # pdffonts, pdftotext, pdfinfo, pdftoppm
  [mutool]=mupdf-tools                        # MuPDF's text extraction (the PDF text-layer test)
  [pdf2txt]=python3-pdfminer                  # pdfminer's text extraction (the PDF text-layer test)
  [nginx]=nginx                               # the deployment test (deploy/nginx)
  [systemd-analyze]=systemd                   # verifies the units of deploy/systemd
  [chromium]=chromium                         # the dashboard's browser tests (internal/e2e)
  [/usr/lib/python3/dist-packages/cryptography]=python3-cryptography  # Fernet interoperability
  [zbarimg]=zbar-tools                        # reads back the TOTP QR code
  [shellcheck]=shellcheck                     # lints scripts/*.sh and .ci/run
  [/usr/share/doc/postgresql/copyright]=postgresql  # the PostgreSQL store's tests (scripts/postgres.sh)
  [/usr/share/fonts/truetype/noto/NotoSansHebrew-Regular.ttf]=fonts-noto-core  # fallback fonts of the multilingual PDF test (Hebrew, Arabic, Devanagari…)
  [/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc]=fonts-noto-cjk      # CJK for other tools; CFF, so the PDF renderer cannot embed it
  [/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf]=fonts-droid-fallback  # CJK with TrueType outlines: the PDF renderer's CJK fallback
  [/usr/share/fonts/truetype/ancient-scripts/Symbola_hint.ttf]=fonts-symbola   # monochrome emoji outlines (Noto Color Emoji is bitmaps)
)

missing=()
for probe in "${!need[@]}"; do
  if [[ $probe == /* ]]; then
    [[ -e $probe ]] || missing+=("${need[$probe]}")
  else
    command -v "$probe" >/dev/null 2>&1 || missing+=("${need[$probe]}")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

echo "Installing test dependencies: ${missing[*]}" >&2
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
    echo "Missing ${missing[*]} and not root: install them with apt-get, or run as root." >&2
    exit 1
  fi
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "Missing ${missing[*]} and no apt-get here: install them with your package manager." >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
