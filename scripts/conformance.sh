#!/usr/bin/env bash
# Runs the shared PostgREST conformance suite (../shared/conformance) against pgrest-lambda:
# a private cluster with PostgREST's v14.17 fixture, the server configured like PostgREST's
# test suite, then the case runner. Prints one line per case and "N passed, N failed".
# Usage: scripts/conformance.sh [--only P01,P02] [extra run.py args]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
shared="${SHARED_DIR:-$root/../shared}"
conf="$shared/conformance"
[ -f "$conf/run.py" ] || { echo "conformance suite not found at $conf (set SHARED_DIR)"; exit 0; }
. "$here/pg-cluster.sh"

bin="${PGREST_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/pgrest-lambda}"
[ -x "$bin" ] || { echo "missing $bin: run cargo build -p pgrest-cli" >&2; exit 2; }

server_pid=""
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; wait 2>/dev/null; pg_cluster_stop; }
trap cleanup EXIT

pg_cluster_start
rm -f /tmp/projects_dump.csv
"$conf/postgrest-v14.17/load.sh" --recreate "postgresql://postgres@127.0.0.1:$PG_PORT/pgrst_fixture" >"$PG_DIR/load.log" 2>&1 \
  || { tail -20 "$PG_DIR/load.log" >&2; exit 1; }

port=$(pg_free_port)
JWT_SECRET=reallyreallyreallyreallyverysafe LOG_LEVEL=warn "$bin" serve --port "$port" \
  --database-url "postgres://postgrest_test_authenticator@127.0.0.1:$PG_PORT/pgrst_fixture" \
  --schemas test --anon-role postgrest_test_anonymous --tx-end commit-allow-override \
  --allow-unfiltered-mutations >"$PG_DIR/server-out.log" 2>&1 &
server_pid=$!
wait_http "http://127.0.0.1:$port/rest/v1/items" 30 || { cat "$PG_DIR/server-out.log" >&2; exit 1; }

report="$PG_DIR/report.json"
set +e
python3 "$conf/run.py" --url "http://127.0.0.1:$port" --cases "$conf/cases/rest-visible.json" --json-report "$report" "$@"
set -e
python3 "$here/conformance_gate.py" "$report" "$here/conformance-known-gaps.txt"
