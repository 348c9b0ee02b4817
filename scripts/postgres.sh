#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests, from Debian's postgresql package:
# initdb and pg_ctl as an unprivileged user (postgres, through runuser,
# when run as root; the caller otherwise) in a temporary folder, listening
# only on a Unix socket inside that folder (no TCP port: nothing else on
# the machine can reach it), trust authentication on that socket, and the
# durability settings off (fsync, synchronous_commit, full_page_writes:
# the data is thrown away, and tests run faster).
#
# Sourced (scripts/test.sh):
#   source scripts/postgres.sh
#   postgres_start        # exports BINDERY_TEST_POSTGRES_URL
#   trap postgres_stop EXIT
# Run:
#   eval "$(scripts/postgres.sh start)"   # prints the exports
#   scripts/postgres.sh stop "$BINDERY_TEST_POSTGRES_DIR"
#
# Each test then makes its own schema in the database bindery_test
# (internal/testkit.PostgresURL), so test packages run in parallel.
set -euo pipefail

# postgres_bin prints the folder of the newest installed server's binaries.
postgres_bin() {
  local dir best=""
  for dir in /usr/lib/postgresql/*/bin; do
    [[ -x $dir/initdb && -x $dir/pg_ctl ]] && best=$dir
  done
  if [[ -z $best ]]; then
    echo "postgres.sh: no PostgreSQL server under /usr/lib/postgresql/*/bin (apt-get install postgresql)" >&2
    return 1
  fi
  echo "$best"
}

# as_owner runs a command as the cluster's owner: the postgres user when
# we are root (initdb refuses root), ourselves otherwise; from /, which
# that user can always enter.
as_owner() {
  if [[ $(id -u) -eq 0 ]]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && "$@")
  fi
}

# postgres_start initialises and starts a cluster in a new temporary
# folder, creates the database bindery_test, and exports
# BINDERY_TEST_POSTGRES_URL and BINDERY_TEST_POSTGRES_DIR.
postgres_start() {
  local bin dir url
  bin=$(postgres_bin)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bindery-pg.XXXXXX")
  chmod 0700 "$dir"
  if [[ $(id -u) -eq 0 ]]; then
    if ! id postgres >/dev/null 2>&1; then
      echo "postgres.sh: running as root but there is no postgres user to own the cluster (apt-get install postgresql creates it)" >&2
      rm -rf "$dir"
      return 1
    fi
    chown postgres: "$dir"
  fi
  if ! as_owner "$bin/initdb" --pgdata="$dir/data" --auth=trust --username=postgres --encoding=UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1; then
    echo "postgres.sh: initdb failed:" >&2
    cat "$dir/initdb.log" >&2
    rm -rf "$dir"
    return 1
  fi
  local opts="-c listen_addresses='' -c unix_socket_directories='$dir' -c max_connections=300"
  opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  if ! as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --options="$opts" --wait --timeout=60 start >/dev/null; then
    echo "postgres.sh: the server did not start:" >&2
    cat "$dir/server.log" >&2
    rm -rf "$dir"
    return 1
  fi
  if ! as_owner "$bin/psql" --quiet --no-psqlrc --host="$dir" --username=postgres --dbname=postgres \
    --command="CREATE DATABASE bindery_test" >/dev/null; then
    echo "postgres.sh: could not create the database bindery_test" >&2
    postgres_stop "$dir"
    return 1
  fi
  url="postgres://postgres@/bindery_test?host=$dir&sslmode=disable"
  export BINDERY_TEST_POSTGRES_DIR=$dir BINDERY_TEST_POSTGRES_URL=$url
}

# postgres_stop stops the cluster in folder $1 (default
# $BINDERY_TEST_POSTGRES_DIR) and removes the folder.
postgres_stop() {
  local dir=${1:-${BINDERY_TEST_POSTGRES_DIR:-}} bin
  [[ -n $dir && -d $dir ]] || return 0
  bin=$(postgres_bin) || return 0
  if [[ -f $dir/data/postmaster.pid ]]; then
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case ${1:-} in
    start)
      postgres_start
      printf 'export BINDERY_TEST_POSTGRES_URL=%q BINDERY_TEST_POSTGRES_DIR=%q\n' "$BINDERY_TEST_POSTGRES_URL" "$BINDERY_TEST_POSTGRES_DIR"
      ;;
    stop)
      postgres_stop "${2:-}"
      ;;
    *)
      echo "usage: $0 start | stop DIR" >&2
      exit 2
      ;;
  esac
fi
