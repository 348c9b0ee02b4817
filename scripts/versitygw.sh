#!/usr/bin/env bash
# Runs versitygw (Apache-2.0), a real S3-compatible server over a local
# folder, for the tests of internal/blob's S3 backend (issue 16).
#
#   scripts/versitygw.sh install   install the pinned versitygw when the tool
#                                  folder lacks that build; print the folder
#   eval "$(scripts/versitygw.sh start)"
#                                  install if needed, start `versitygw posix`
#                                  over a new temporary folder on 127.0.0.1
#                                  and a free port, with generated root
#                                  credentials and one bucket, wait until it
#                                  answers, and print the export lines of
#                                  BINDERY_TEST_S3_ENDPOINT, _BUCKET,
#                                  _ACCESS_KEY, _SECRET_KEY (and _DIR, the
#                                  folder to give to stop)
#   scripts/versitygw.sh stop      stop the server of $BINDERY_TEST_S3_DIR and
#                                  remove its folder (nothing to do if unset)
#
# versitygw is installed like scripts/tools.sh installs its tools: with
# `go install PKG@VERSION` outside this module (from an empty folder, with
# GOFLAGS cleared), into $GOBIN or $(go env GOPATH)/bin, so go.mod stays
# free of it; skipped when `go version -m` shows that version there.
#
# The credentials are random per start and passed to the server in its
# environment, not its command line (which every local user can read in
# /proc). The server's log is $BINDERY_TEST_S3_DIR/versitygw.log.
set -Eeuo pipefail
on_err() {
  local rc=$? line=${BASH_LINENO[0]}
  (( BASH_SUBSHELL == 0 )) || return 0
  echo "versitygw.sh: line $line: \`$BASH_COMMAND\` failed (exit $rc)" >&2
}
trap on_err ERR

# The pinned version: bump it here.
pkg=github.com/versity/versitygw/cmd/versitygw@v1.8.0
bucket=bindery-test

bin=${GOBIN:-}
[[ -n $bin ]] || bin="$(go env GOPATH)/bin"

# built_as prints PKG@VERSION as built into $bin/versitygw, or nothing.
built_as() {
  local info
  info=$(go version -m "$bin/versitygw" 2>/dev/null) || return 0
  awk '$1=="path"{p=$2} $1=="mod"{v=$3} END{if (p != "") print p "@" v}' <<<"$info"
}

install() {
  local have why tmp
  have=$(built_as)
  if [[ $have != "$pkg" ]]; then
    if [[ -z $have ]]; then why="missing"; else why="have $have"; fi
    echo "installing versitygw: $pkg ($why)" >&2
    tmp=$(mktemp -d)
    # Outside the module: from an empty folder, with GOFLAGS cleared (a
    # -mod= or -buildvcs= meant for bindery must not apply).
    if ! (cd "$tmp" && GOBIN="$bin" GOFLAGS='' go install "$pkg"); then
      rmdir "$tmp"
      echo "versitygw.sh: go install $pkg failed" >&2
      return 1
    fi
    rmdir "$tmp"
    have=$(built_as)
    if [[ $have != "$pkg" ]]; then
      echo "versitygw.sh: go install $pkg left $bin/versitygw as '${have:-nothing}'" >&2
      return 1
    fi
  fi
  echo "$bin"
}

# port_free reports whether nothing listens on 127.0.0.1:$1.
port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# random_hex N prints N random bytes in hex.
random_hex() {
  od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n'
}

# create_bucket PORT ACCESS SECRET creates $bucket through the S3 API
# (a signed PUT; curl reads the credentials from its standard input, not
# its command line); one that exists already is fine.
create_bucket() {
  local code
  # The header is the SHA-256 of the empty body, which S3 servers
  # require and curl does not send by itself.
  code=$(curl -sS -o /dev/null -w '%{http_code}' --max-time 10 -X PUT \
    -H "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" \
    --aws-sigv4 "aws:amz:us-east-1:s3" -K - "http://127.0.0.1:$1/$bucket" <<<"user = \"$2:$3\"")
  case $code in
    200 | 409) ;;
    *)
      echo "versitygw.sh: creating bucket $bucket: HTTP $code" >&2
      return 1
      ;;
  esac
}

start() {
  local dir port pid access secret tries deadline
  install >/dev/null
  dir=$(mktemp -d "${TMPDIR:-/tmp}/bindery-s3.XXXXXX")
  chmod 700 "$dir"
  # The metadata versitygw keeps (owner, ACL, ETag) goes to sidecar
  # files, so the file system needs no extended attributes (overlayfs in
  # CI containers may lack them).
  mkdir -p "$dir/data" "$dir/meta"
  access="test$(random_hex 8)"
  secret=$(random_hex 24)
  for tries in 1 2 3 4 5; do
    port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 30000 ))
    port_free "$port" || continue
    ROOT_ACCESS_KEY="$access" ROOT_SECRET_KEY="$secret" \
      nohup "$bin/versitygw" --port "127.0.0.1:$port" posix --sidecar "$dir/meta" "$dir/data" \
      </dev/null >"$dir/versitygw.log" 2>&1 &
    pid=$!
    echo "$pid" >"$dir/pid"
    deadline=$(( SECONDS + 30 ))
    while (( SECONDS < deadline )); do
      if ! kill -0 "$pid" 2>/dev/null; then
        break # exited: the port was taken meanwhile, or worse (see the log)
      fi
      if curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$port/"; then
        if ! create_bucket "$port" "$access" "$secret"; then
          kill "$pid" 2>/dev/null || true
          rm -rf -- "$dir"
          return 1
        fi
        cat <<EOF
export BINDERY_TEST_S3_ENDPOINT=http://127.0.0.1:$port
export BINDERY_TEST_S3_BUCKET=$bucket
export BINDERY_TEST_S3_ACCESS_KEY=$access
export BINDERY_TEST_S3_SECRET_KEY=$secret
export BINDERY_TEST_S3_DIR=$dir
EOF
        echo "versitygw.sh: versitygw listening on 127.0.0.1:$port (pid $pid, folder $dir), try $tries" >&2
        return 0
      fi
      sleep 0.2 # waiting for another process to listen: nothing to wait on but the clock
    done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  echo "versitygw.sh: versitygw did not start; its log ($dir/versitygw.log):" >&2
  tail -n 20 "$dir/versitygw.log" >&2 || true
  return 1
}

stop() {
  local dir=${BINDERY_TEST_S3_DIR:-} pid
  [[ -n $dir && -d $dir ]] || return 0
  if [[ -f $dir/pid ]]; then
    pid=$(<"$dir/pid")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  rm -rf -- "$dir"
}

case ${1:-} in
  install) install ;;
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: scripts/versitygw.sh install | start | stop" >&2
    exit 2
    ;;
esac
