#!/usr/bin/env bash
# Brings up a local PostgreSQL for development and the test suites, and the
# `portal_auth` role they connect as. Safe to run again: each step checks
# before it acts, and says what it did.
#
# Runs as root on Debian. Only the stock cluster layout is assumed (peer
# auth on the socket for `postgres`, password auth over TCP on 127.0.0.1),
# which is what the role's password is for.
set -euo pipefail

ROLE=portal_auth
PASSWORD=portal_auth

say() { printf 'pg-up: %s\n' "$*"; }

as_postgres() {
    if command -v runuser >/dev/null; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

if [ "$(id -u)" -ne 0 ]; then
    say "must run as root (it starts the cluster and creates a role)" >&2
    exit 1
fi

if ! command -v pg_ctlcluster >/dev/null; then
    say "installing postgresql"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi

# The newest installed cluster named `main`; pg_lsclusters prints
# "version cluster port status ...".
read -r VERSION PORT STATUS < <(pg_lsclusters --no-header | awk '$2 == "main" { print $1, $3, $4 }' | sort -V | tail -n 1) || true
if [ -z "${VERSION:-}" ]; then
    VERSION=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
    say "creating cluster $VERSION/main"
    pg_createcluster "$VERSION" main >/dev/null
    read -r VERSION PORT STATUS < <(pg_lsclusters --no-header | awk '$2 == "main" { print $1, $3, $4 }' | sort -V | tail -n 1)
fi

case "$STATUS" in
    online*) say "cluster $VERSION/main already running on port $PORT" ;;
    *)
        say "starting cluster $VERSION/main on port $PORT"
        pg_ctlcluster --skip-systemctl-redirect "$VERSION" main start
        ;;
esac

for _ in $(seq 1 60); do
    if pg_isready -q -h 127.0.0.1 -p "$PORT"; then
        break
    fi
    sleep 0.5
done
if ! pg_isready -q -h 127.0.0.1 -p "$PORT"; then
    say "cluster $VERSION/main did not accept connections on 127.0.0.1:$PORT" >&2
    exit 1
fi
say "cluster $VERSION/main accepts connections on 127.0.0.1:$PORT"

exists=$(as_postgres psql -p "$PORT" -tAc "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")
if [ "$exists" = "1" ]; then
    say "role $ROLE already exists"
else
    as_postgres psql -p "$PORT" -q -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$PASSWORD'"
    say "created role $ROLE (LOGIN CREATEDB)"
fi

# DROP DATABASE ... WITH (FORCE), which the test suites use to clean up,
# must end every backend attached to the database, autovacuum workers
# included; that takes pg_signal_backend. GRANT is a no-op when held.
member=$(as_postgres psql -p "$PORT" -tAc "SELECT pg_has_role('$ROLE', 'pg_signal_backend', 'MEMBER')")
if [ "$member" = "t" ]; then
    say "role $ROLE already has pg_signal_backend"
else
    as_postgres psql -p "$PORT" -q -v ON_ERROR_STOP=1 -c "GRANT pg_signal_backend TO $ROLE"
    say "granted pg_signal_backend to $ROLE"
fi

say "ready: postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/postgres"
