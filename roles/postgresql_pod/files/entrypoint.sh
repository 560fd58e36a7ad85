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

exec "$@"
