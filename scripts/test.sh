#!/usr/bin/env bash
# The one test command (README.md): installs what the tests need, then
# checks formatting, lints the scripts, vets, scans, and runs every test
# with the race detector. Tests that need an external tool fail (not skip)
# when CI=true and the tool is missing.
#
# scripts/test.sh --audit (make audit) stops after the checks and scans
# (gofmt, shellcheck, go vet, staticcheck, govulncheck with its online
# database, gosec, gitleaks): no Debian packages, no tests.
#
# Every step announces itself ("== step"), and a failing command is named
# with its step and line by the ERR trap: this script must never end with
# a bare exit status (issue 11).
set -Eeuo pipefail
step="start"
# on_err names the failing line and command; a subshell's failure is
# reported by the line that ran it, once.
on_err() {
  local rc=$? line=${BASH_LINENO[0]}
  (( BASH_SUBSHELL == 0 )) || return 0
  echo "test.sh: step \"$step\" failed at line $line: \`$BASH_COMMAND\` (exit $rc)" >&2
}
trap on_err ERR
cd "$(dirname "$0")/.."

audit=false
[[ ${1:-} == --audit ]] && audit=true

begin() {
  step=$1
  echo "== $1 ($(date -u +%H:%M:%S))"
}

if ! $audit; then
  begin "install Debian packages"
  ./scripts/install-deps.sh
fi

begin "gofmt"
mapfile -t gofiles < <(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './vendor/*')
unformatted=$(gofmt -l "${gofiles[@]}")
if [[ -n $unformatted ]]; then
  echo "gofmt would change:"; echo "$unformatted"; false
fi

# The shell linter catches the class of mistake that made this script die
# silently on a new machine (a failing command substitution under
# set -e). --audit runs without Debian packages, so there it is only
# used when present; the full run installs it and requires it.
begin "shellcheck"
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck scripts/*.sh .ci/run bench/*.sh
elif $audit; then
  echo "shellcheck is not installed (apt-get install shellcheck): scripts not linted"
else
  echo "shellcheck is missing after install-deps.sh"; false
fi

begin "go vet"
go vet ./...

# Static analysis, known vulnerabilities and a secret scan, pinned
# versions from the Go module proxy (scripts/tools.sh). govulncheck reads
# the offline database beside the project when there is one (CI lays
# ../shared/vulndb) and --audit is not given, the public one otherwise.
begin "install pinned Go tools"
tools=$(./scripts/tools.sh | tail -n 1)

begin "staticcheck"
"$tools/staticcheck" ./...

begin "govulncheck"
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
begin "gosec"
"$tools/gosec" -severity high -confidence medium -quiet ./...

# gitleaks scans every commit of the checked-out history with the default
# rules and the narrow allowlists of .gitleaks.toml. HEAD, not --all, so
# the result is that of this commit whatever other branches exist. In a
# shallow clone git shows the oldest commit present as adding its whole
# tree, so the scan still covers every file, and only the history before
# it is missing. Outside a git checkout (a source archive) the files are
# scanned instead. --redact keeps what it finds out of the log.
begin "gitleaks"
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

begin "CGO_ENABLED=0 go build ./cmd/bindery"
CGO_ENABLED=0 go build -o /dev/null ./cmd/bindery

# The services some tests need, started here and stopped however this
# script exits (one EXIT trap runs every stop registered in stops).
stops=()
stop_services() {
  local s
  for s in "${stops[@]}"; do eval "$s" || true; done
}
trap stop_services EXIT

# A real S3-compatible server for internal/blob's S3 backend: versitygw
# (installed with go install outside the module on first use) over a
# temporary folder on 127.0.0.1, with random credentials. Without it those
# tests would skip, and under CI=true fail.
begin "start versitygw (S3)"
s3env=$(./scripts/versitygw.sh start) # an assignment, so that a failed start stops the script
eval "$s3env"
stops+=("./scripts/versitygw.sh stop")

# A throwaway PostgreSQL for the PostgreSQL store's tests (each test makes
# its own schema in it): initdb and pg_ctl as the postgres user in a
# temporary folder, on a Unix socket there only. Without it those tests
# would skip, and under CI=true fail.
begin "start PostgreSQL"
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh
postgres_start
stops+=(postgres_stop)
echo "PostgreSQL on $BINDERY_TEST_POSTGRES_DIR"

begin "go test -race"
CGO_ENABLED=1 go test -race -count=1 -timeout 30m ./...
