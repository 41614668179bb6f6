#!/usr/bin/env bash
# Runs the API suite against PostgreSQL: on the cluster named by TESSERA_TEST_POSTGRES_URL
# when it is set, otherwise on a throwaway cluster made by Debian's pg_virtualenv (dropped
# afterwards): the suite but the outage test, the outage test alone (it stops the cluster;
# only where this script made it), then schemathesis. Arguments, if any, go to `cargo test`
# instead (e.g. a filter).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${TESSERA_TEST_POSTGRES_URL:-}" ]; then
  if [ -z "${TESSERA_IN_PG_VIRTUALENV:-}" ]; then
    # max_connections: each test server keeps a pool; two run at a time, plus the CLI's.
    TESSERA_IN_PG_VIRTUALENV=1 exec pg_virtualenv -o max_connections=400 "$0" "$@"
  fi
  password=$(python3 -c 'import os, urllib.parse; print(urllib.parse.quote(os.environ["PGPASSWORD"], safe=""))')
  export TESSERA_TEST_POSTGRES_URL="postgres://$PGUSER:$password@$PGHOST:$PGPORT/$PGDATABASE"
  # How the outage test stops and starts this cluster.
  export TESSERA_TEST_POSTGRES_CTL="pg_ctlcluster 15 regress"
fi
if [ "$#" -gt 0 ]; then
  exec cargo test -p tessera-server --test api "$@"
fi
cargo test -p tessera-server --test api -- --skip outage
cargo test -p tessera-server --test api -- outage
fuzz_db="tessera_fuzz_$$"
psql "$TESSERA_TEST_POSTGRES_URL" -qc "CREATE DATABASE $fuzz_db"
TESSERA_FUZZ_DATABASE_URL="${TESSERA_TEST_POSTGRES_URL%/*}/$fuzz_db" \
  python3 tests/fuzz/schemathesis_run.py target/debug/tessera-server 100
