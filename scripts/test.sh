#!/usr/bin/env bash
# The one test command (README.md): installs what the tests need, then
# checks formatting, vets, scans, and runs every test with the race
# detector. Tests that need an external tool fail (not skip) when CI=true
# and the tool is missing.
#
# scripts/test.sh --audit (make audit) stops after the checks and scans
# (gofmt, go vet, staticcheck, govulncheck with its online database,
# gosec, gitleaks): no Debian packages, no tests.
set -euo pipefail
cd "$(dirname "$0")/.."

audit=false
[[ ${1:-} == --audit ]] && audit=true

$audit || ./scripts/install-deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*'))
if [[ -n $unformatted ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

# Static analysis, known vulnerabilities and a secret scan, pinned
# versions from the Go module proxy. govulncheck reads the offline
# database beside the project when there is one (CI lays ../shared/vulndb)
# and --audit is not given, the public one otherwise.
tools="$(go env GOPATH)/bin"
# install_tool BIN PKG@VERSION installs a tool unless GOPATH/bin/BIN is
# that version: go version -m reads the package and module version built
# into the binary (go install leaves gosec's and gitleaks' own version
# empty).
install_tool() {
  local have
  have=$(go version -m "$tools/$1" 2>/dev/null | awk '$1=="path"{p=$2} $1=="mod"{v=$3} END{print p "@" v}')
  [[ $have == "$2" ]] || GOFLAGS= go install "$2"
}
install_tool staticcheck honnef.co/go/tools/cmd/staticcheck@v0.8.2
install_tool govulncheck golang.org/x/vuln/cmd/govulncheck@v1.9.0
install_tool gosec github.com/securego/gosec/v2/cmd/gosec@v2.30.0
install_tool gitleaks github.com/zricethezav/gitleaks/v8@v8.30.1
echo "== staticcheck"
"$tools/staticcheck" ./...
echo "== govulncheck"
if [[ -d ../shared/vulndb ]] && ! $audit; then
  "$tools/govulncheck" -db "file://$(cd ../shared/vulndb && pwd)" ./...
else
  "$tools/govulncheck" ./...
fi

# gosec fails on high-severity findings of medium or high confidence;
# medium and low severity findings are left to review (unchecked errors
# of Close, file modes the tests pick, ...), and the high-severity rule
# it reports with low confidence only, G101, guesses credentials from
# identifier names: gitleaks below looks for secrets properly. A false
# positive is annotated where it is, with `// #nosec RULE -- why`; no
# rule is excluded globally. Test files are not scanned (gosec's default).
echo "== gosec"
"$tools/gosec" -severity high -confidence medium -quiet ./...

# gitleaks scans every commit of the checked-out history with the default
# rules and the narrow allowlists of .gitleaks.toml. HEAD, not --all, so
# the result is that of this commit whatever other branches exist. In a
# shallow clone git shows the oldest commit present as adding its whole
# tree, so the scan still covers every file, and only the history before
# it is missing. Outside a git checkout (a source archive) the files are
# scanned instead. --redact keeps what it finds out of the log.
echo "== gitleaks"
leaks=("$tools/gitleaks" --no-banner --redact --verbose --config .gitleaks.toml)
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  if [[ $(git rev-parse --is-shallow-repository) == true ]]; then
    echo "shallow clone: the history before the $(git rev-list --count HEAD) commit(s) present is not scanned"
  fi
  "${leaks[@]}" git --platform none --log-opts="--full-history --diff-filter=tuxdb HEAD" .
else
  "${leaks[@]}" dir .
fi
if $audit; then exit 0; fi

echo "== CGO_ENABLED=0 go build ./cmd/bindery"
CGO_ENABLED=0 go build -o /dev/null ./cmd/bindery

echo "== go test -race"
CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./...
