#!/bin/sh
# Initialise an empty data directory once (superuser `postgres` over the container's own socket only; the
# application role and its database from POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB), then run the
# server in the foreground. An existing data directory is used as it is.
set -eu

: "${POSTGRES_USER:?POSTGRES_USER is not set}"
: "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD is not set}"
: "${POSTGRES_DB:?POSTGRES_DB is not set}"

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "titanic-postgresql: initialising $PGDATA" >&2
    initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
        --auth-local=peer --auth-host=scram-sha-256 >/dev/null
    # Over TCP, only password logins (the socket stays inside the container).
    printf '%s\n' \
        'local all postgres           peer' \
        'host  all all      0.0.0.0/0 scram-sha-256' \
        'host  all all      ::/0      scram-sha-256' > "$PGDATA/pg_hba.conf"
    pg_ctl --pgdata="$PGDATA" --options="-c listen_addresses=''" --wait start >/dev/null
    psql --username=postgres --dbname=postgres --set=ON_ERROR_STOP=1 --quiet \
        --set=user="$POSTGRES_USER" --set=password="$POSTGRES_PASSWORD" --set=db="$POSTGRES_DB" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
SQL
    pg_ctl --pgdata="$PGDATA" --mode=fast --wait stop >/dev/null
    echo "titanic-postgresql: initialised" >&2
fi

exec "$@"
