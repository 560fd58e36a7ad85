#!/bin/sh
# Initialise an empty data directory once (the superuser `postgres`, its password from POSTGRES_PASSWORD),
# then run the server in the foreground. An existing data directory is used as it is. Client authentication
# (pg_hba.conf) and TLS come from files the role mounts and names with `-c` options; databases and logins
# are made by the database bootstrap (`titanic-api db bootstrap`), not here.
set -eu

: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "titanic-postgresql: initialising $PGDATA" >&2
    pwfile=$(mktemp)  # /tmp is the pod's own volume; the password never reaches argv
    printf '%s\n' "$POSTGRES_PASSWORD" > "$pwfile"
    initdb --pgdata="$PGDATA" --username=postgres --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    rm -f "$pwfile"
    echo "titanic-postgresql: initialised" >&2
fi

# PostgreSQL 15's checkpointer starts before recovery ends and then sleeps for checkpoint_timeout without
# looking at archive_timeout; after a clean start nothing wakes it, so a quiet server would archive its WAL
# only minutes later. A reload once the server is ready wakes it. The child's parent is the server (exec
# keeps this PID) and must see it exit 0: any other status would count as a crashed backend.
wake_checkpointer() {
    while kill -0 "$server" 2>/dev/null; do
        if [ "$(sed -n 1p "$PGDATA/postmaster.pid" 2>/dev/null)" = "$server" ] &&
            [ "$(sed -n 8p "$PGDATA/postmaster.pid" 2>/dev/null | tr -d ' ')" = ready ]; then
            pg_ctl reload --pgdata="$PGDATA" --silent >/dev/null 2>&1 || true
            break
        fi
        sleep 1
    done
    exit 0
}
server=$$
wake_checkpointer &

exec "$@"
