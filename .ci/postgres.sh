#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on 127.0.0.1 only.
#
#   eval "$(.ci/postgres.sh)"        # start (or reuse) it; exports ARENA_TEST_PG_URL
#   .ci/postgres.sh --stop           # stop it and delete its files
#
# Installs the Debian `postgresql` package with apt when no server binaries are
# found (needs root), then runs a private cluster in $ARENA_PG_DIR (default
# /tmp/arena-ci-pg): its own data folder, its own unix-socket folder, a free port
# from $ARENA_PG_PORT (default 55432) upwards. The system's own cluster, if any,
# is left alone. Running the script again reuses the running server.
#
# Role and database `arena` (password `arena`, may create databases: the tests
# make one database per test). The superuser `postgres` is reachable only through
# the socket folder, which only its owner can enter. fsync is off: the data is
# disposable, and tests run faster.
#
# stdout is one line, `export ARENA_TEST_PG_URL=...`; progress goes to stderr.
# Exit status is non-zero when the server could not be started.
set -euo pipefail

DIR=${ARENA_PG_DIR:-/tmp/arena-ci-pg}
DATA=$DIR/data
SOCK=$DIR/sock
FIRST_PORT=${ARENA_PG_PORT:-55432}

say() { echo "postgres.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

find_bindir() {
    # Debian keeps initdb and pg_ctl out of PATH, under /usr/lib/postgresql/<major>/bin.
    local dir
    dir=$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    if [[ -n $dir && -x $dir/initdb ]]; then
        echo "$dir"
    elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
        dirname "$(command -v initdb)"
    fi
}

# Commands that touch the cluster run as its owner: initdb and postgres refuse root.
as_owner() {
    if [[ $(id -u) -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

BIN=$(find_bindir)

if [[ ${1:-} == --stop ]]; then
    if [[ -n $BIN && -f $DATA/PG_VERSION ]]; then
        as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
    fi
    rm -rf "$DIR"
    say "stopped and removed $DIR"
    exit 0
fi

if [[ -z $BIN ]]; then
    [[ $(id -u) -eq 0 ]] || die "no PostgreSQL server binaries found, and installing them needs root (apt-get install postgresql)"
    command -v apt-get >/dev/null || die "no PostgreSQL server binaries found, and no apt-get to install them"
    say "installing the postgresql package with apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    BIN=$(find_bindir)
    [[ -n $BIN ]] || die "installed postgresql but found no initdb"
fi

if [[ $(id -u) -eq 0 ]]; then
    getent passwd postgres >/dev/null || die "running as root needs a 'postgres' user to own the cluster"
    OWNER=postgres
else
    OWNER=$(id -un)
fi

port_in_use() {
    # A connection succeeds only when something listens there.
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

running() {
    [[ -f $DATA/PG_VERSION ]] && as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

if running && [[ -f $DIR/port ]]; then
    PORT=$(cat "$DIR/port")
    say "reusing the server in $DIR on 127.0.0.1:$PORT"
else
    if running; then # running, but its port is unknown: restart it
        as_owner "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
    fi
    if [[ -d $DIR && ! -f $DIR/ready ]]; then
        # A half-made cluster from an interrupted run: start over.
        if [[ -f $DATA/PG_VERSION ]]; then
            as_owner "$BIN/pg_ctl" -D "$DATA" -m immediate stop >/dev/null 2>&1 || true
        fi
        rm -rf "$DIR"
    fi
    if [[ ! -d $DIR ]]; then
        mkdir -p "$DIR"
        chown "$OWNER" "$DIR"
        chmod 700 "$DIR"
        as_owner mkdir -m 700 "$SOCK"
        say "initdb in $DATA ($("$BIN/postgres" --version))"
        # Local (socket) connections trusted: only the owner can enter $SOCK.
        # TCP connections need a password.
        as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth-local=trust \
            --auth-host=scram-sha-256 -E UTF8 --no-locale >"$DIR/initdb.log" 2>&1 ||
            { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    PORT=$FIRST_PORT
    while port_in_use "$PORT"; do
        PORT=$((PORT + 1))
        ((PORT < FIRST_PORT + 100)) || die "no free port in $FIRST_PORT..$((FIRST_PORT + 99))"
    done
    say "starting on 127.0.0.1:$PORT"
    as_owner "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 30 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$SOCK \
            -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null ||
        { tail -n 20 "$DIR/server.log" >&2; die "the server did not start (log: $DIR/server.log)"; }
    echo "$PORT" >"$DIR/port"
fi

psql_admin() {
    as_owner "$BIN/psql" -h "$SOCK" -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"
}

if [[ -z $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'arena'") ]]; then
    psql_admin -c "CREATE ROLE arena LOGIN CREATEDB PASSWORD 'arena'" >/dev/null
fi
if [[ -z $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = 'arena'") ]]; then
    psql_admin -c "CREATE DATABASE arena OWNER arena" >/dev/null
fi
touch "$DIR/ready"

URL="postgresql+psycopg://arena:arena@127.0.0.1:$PORT/arena"
say "ready: $URL (stop with: ${ARENA_PG_DIR:+ARENA_PG_DIR=$DIR }.ci/postgres.sh --stop)"
echo "export ARENA_TEST_PG_URL=$URL"
