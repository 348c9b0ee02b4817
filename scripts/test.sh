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

echo "== CGO_ENABLED=0 go build ./cmd/bindery"
CGO_ENABLED=0 go build -o /dev/null ./cmd/bindery

echo "== go test -race"
CGO_ENABLED=1 go test -race -count=1 -timeout 20m ./...
