#!/usr/bin/env bash
# Installs the pinned Go tools that scripts/test.sh runs, each only when
# the binary in the tool folder is missing or is another version, and
# says which and why. The tool folder is $GOBIN when set, else
# $(go env GOPATH)/bin; nothing is installed into the module (go.mod
# stays free of tool dependencies).
#
#   scripts/tools.sh              install every pinned tool
#   scripts/tools.sh BIN PKG@VER  install just that one (the tests use it)
#
# It prints the tool folder on its last line of standard output, so a
# caller can run the tools from there. It must never die silently: a
# failed step names the line and the command (the ERR trap), which is
# what the old in-line check lacked when `go version -m` failed on a
# binary that was not there yet (issue 11).
set -Eeuo pipefail
# on_err names the failing line and command; a subshell's failure is
# reported by the line that ran it, once.
on_err() {
  local rc=$? line=${BASH_LINENO[0]}
  (( BASH_SUBSHELL == 0 )) || return 0
  echo "tools.sh: line $line: \`$BASH_COMMAND\` failed (exit $rc)" >&2
}
trap on_err ERR
cd "$(dirname "$0")/.."

# The pinned versions: bump them here, in one place.
pinned=(
  staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2
  govulncheck golang.org/x/vuln/cmd/govulncheck@v1.9.0
  gosec github.com/securego/gosec/v2/cmd/gosec@v2.30.0
  gitleaks github.com/zricethezav/gitleaks/v8@v8.30.1
)

bin=${GOBIN:-}
[[ -n $bin ]] || bin="$(go env GOPATH)/bin"

# built_as BIN prints PKG@VERSION as built into $bin/BIN (the package path
# and its module's version, from go version -m), or nothing when the file
# is missing or is not a Go binary.
built_as() {
  local info
  info=$(go version -m "$bin/$1" 2>/dev/null) || return 0
  awk '$1=="path"{p=$2} $1=="mod"{v=$3} END{if (p != "") print p "@" v}' <<<"$info"
}

# install_tool BIN PKG@VERSION installs PKG@VERSION into $bin unless
# $bin/BIN is already that build.
install_tool() {
  local have why
  have=$(built_as "$1")
  [[ $have == "$2" ]] && return 0
  if [[ -z $have ]]; then why="missing"; else why="have $have"; fi
  echo "installing $1: $2 ($why)" >&2
  GOBIN="$bin" GOFLAGS='' go install "$2"
  have=$(built_as "$1")
  if [[ $have != "$2" ]]; then
    echo "tools.sh: go install $2 left $bin/$1 as '${have:-nothing}'" >&2
    return 1
  fi
}

if (( $# == 2 )); then
  install_tool "$1" "$2"
elif (( $# == 0 )); then
  for ((i = 0; i < ${#pinned[@]}; i += 2)); do
    install_tool "${pinned[i]}" "${pinned[i+1]}"
  done
else
  echo "usage: scripts/tools.sh [BIN PKG@VERSION]" >&2
  exit 2
fi
echo "$bin"
