#!/usr/bin/env bash
# The one test command (README.md): installs what the tests need, then
# checks formatting, vets, and runs every test with the race detector.
# Tests that need an external tool fail (not skip) when CI=true and the
# tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

./scripts/install-deps.sh

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*'))
if [[ -n $unformatted ]]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi

echo "== go vet"
go vet ./...

# Static analysis and known vulnerabilities, pinned versions from the Go
# module proxy. govulncheck reads the offline database beside the project
# when there is one (CI lays ../shared/vulndb), the public one otherwise.
tools="$(go env GOPATH)/bin"
[[ -x $tools/staticcheck ]] && "$tools/staticcheck" -version | grep -q 0.8.2 || GOFLAGS= go install honnef.co/go/tools/cmd/staticcheck@v0.8.2
[[ -x $tools/govulncheck ]] && "$tools/govulncheck" -version 2>/dev/null | grep -q v1.9.0 || GOFLAGS= go install golang.org/x/vuln/cmd/govulncheck@v1.9.0
echo "== staticcheck"
"$tools/staticcheck" ./...
echo "== govulncheck"
if [[ -d ../shared/vulndb ]]; then
  "$tools/govulncheck" -db "file://$(cd ../shared/vulndb && pwd)" ./...
else
  "$tools/govulncheck" ./...
fi

echo "== CGO_ENABLED=0 go build ./cmd/bindery"
CGO_ENABLED=0 go build -o /dev/null ./cmd/bindery

echo "== go test -race"
CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./...
