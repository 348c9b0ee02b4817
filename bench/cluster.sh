#!/usr/bin/env bash
# Bindery on several nodes (issue 16): start latency across nodes, fan-out
# of events to many WebSocket clients spread over three nodes vs one, and
# CPU and database statements per run. Starts a throwaway PostgreSQL
# (scripts/postgres.sh, with pg_stat_statements loaded so statements can
# be counted) and versitygw (scripts/versitygw.sh), builds bindery, and
# runs bench/cluster (its doc comment says what is measured); everything
# is stopped and removed on exit.
#
# Usage: bench/cluster.sh [flags of bench/cluster]
#   e.g. bench/cluster.sh -samples 100 -clients 1000 -rounds 3 -runs 5 -cpu-runs 5
# Linux only. Everything shares this machine's cores: on 2 cores the
# figures show contention between three nodes, PostgreSQL, versitygw and
# the clients, not what N machines would do.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/postgres.sh
source scripts/postgres.sh

work=$(mktemp -d)
cleanup() {
  postgres_stop "${BINDERY_TEST_POSTGRES_DIR:-}"
  if [[ -n ${BINDERY_TEST_S3_DIR:-} ]]; then scripts/versitygw.sh stop || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

postgres_start
# pg_stat_statements must be loaded at server start: set it, restart
# (pg_ctl restart keeps the options the server was started with).
bin=$(postgres_bin)
as_owner "$bin/psql" --quiet --no-psqlrc --host="$BINDERY_TEST_POSTGRES_DIR" --username=postgres --dbname=postgres \
  --command="ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
as_owner "$bin/pg_ctl" --pgdata="$BINDERY_TEST_POSTGRES_DIR/data" --wait --timeout=60 restart >/dev/null
eval "$(scripts/versitygw.sh start)"

CGO_ENABLED=0 go build -o "$work/bindery" ./cmd/bindery
go build -o "$work/cluster" ./bench/cluster
"$work/cluster" -bindery "$work/bindery" "$@"
