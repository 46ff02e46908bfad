#!/usr/bin/env bash
# End-to-end test: the real @supabase/supabase-js against `pgrest-lambda serve`.
#
#   bash e2e/run.sh [extra arguments for node --test]
#
# Starts a private PostgreSQL cluster in a temporary folder (as `nobody` when run as root,
# since PostgreSQL refuses root) on a free loopback port, creates the Supabase roles, loads
# e2e/schema.sql, creates the auth schema (`migrate-auth`), loads e2e/schema-after-auth.sql,
# starts an SMTP sink (e2e/smtp-sink.mjs) and the server (with native auth mailing to the sink)
# on ports the OS picks (they print what they bound), generates the anon and service_role keys, and runs every e2e/*.test.mjs
# (supabase.test.mjs: REST, auth.test.mjs: /auth/v1) with `node --test`. Everything is
# stopped and removed on exit; the exit code is the test run's.
#
# Environment:
#   PGREST_BIN   server binary; when unset, `cargo build -p pgrest-cli` builds
#                ${CARGO_TARGET_DIR:-target}/debug/pgrest-lambda and that is used
#   PG_BIN       folder of initdb/postgres/psql (default: the newest /usr/lib/postgresql/*/bin)
#   E2E_KEEP=1   keep the temporary folder (logs, data) and print where it is
# Needs: PostgreSQL server binaries (Debian: apt-get install postgresql), curl, node >= 20, npm.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

say() { printf 'e2e: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

# ---- tools ------------------------------------------------------------------------------
if [[ -z "${PG_BIN:-}" ]]; then
  if command -v initdb >/dev/null 2>&1; then
    PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
  else
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
fi
for tool in initdb postgres pg_isready psql; do
  [[ -x "$PG_BIN/$tool" ]] || die "no $tool in '${PG_BIN:-?}' (set PG_BIN; Debian: apt-get install postgresql)"
done
for tool in curl node npm; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

if [[ -z "${PGREST_BIN:-}" ]]; then
  say "building pgrest-lambda (${CARGO:-cargo} build -p pgrest-cli)"
  "${CARGO:-cargo}" build --quiet -p pgrest-cli
  PGREST_BIN="${CARGO_TARGET_DIR:-target}/debug/pgrest-lambda"
fi
[[ -x "$PGREST_BIN" ]] || die "server binary '$PGREST_BIN' not found (set PGREST_BIN)"

# ---- temp dir and cleanup -----------------------------------------------------------------
TMP=$(mktemp -d "${TMPDIR:-/tmp}/pgrest-e2e.XXXXXX")
PG_PID=""
SERVER_PID=""
SINK_PID=""

# PostgreSQL refuses to run as root: run it as nobody, with setpriv (which execs, so $! is
# the postgres process itself).
AS_PG=()
if [[ "$(id -u)" == 0 ]]; then
  AS_PG=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
  chown nobody:nogroup "$TMP"
fi
chmod 700 "$TMP"

stop_pid() { # pid signal seconds
  local pid=$1 sig=$2 secs=$3 i
  [[ -n "$pid" ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < secs * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local rc=$?
  stop_pid "$SERVER_PID" TERM 5
  stop_pid "$SINK_PID" TERM 5
  stop_pid "$PG_PID" INT 10 # SIGINT = fast shutdown
  if [[ "${E2E_KEEP:-}" == 1 ]]; then
    say "kept $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A loopback port nothing listens on now, outside the kernel's ephemeral range (where outgoing
# connections take ports at any moment); bounded tries. Only PostgreSQL needs one: it cannot
# report a port of its own choosing, so its start is retried on a bind failure. The SMTP sink
# and the server bind port 0 and print what they got.
read -r EPH_LOW EPH_HIGH </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || { EPH_LOW=32768; EPH_HIGH=60999; }
free_port() {
  local i p
  for ((i = 0; i < 200; i++)); do
    p=$((10000 + RANDOM % 55536))
    ((p >= EPH_LOW && p <= EPH_HIGH)) && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
  done
  return 1
}

# ---- PostgreSQL ---------------------------------------------------------------------------
say "initdb in $TMP/data"
"${AS_PG[@]}" "$PG_BIN/initdb" -D "$TMP/data" -A trust -U postgres --no-locale -E UTF8 \
  >"$TMP/initdb.log" 2>&1 || { cat "$TMP/initdb.log" >&2; die "initdb failed"; }

for ((attempt = 1; ; attempt++)); do
  PGPORT=$(free_port) || die "no free port"
  say "starting PostgreSQL on 127.0.0.1:$PGPORT"
  "${AS_PG[@]}" "$PG_BIN/postgres" -D "$TMP/data" -k "$TMP" -c listen_addresses=127.0.0.1 \
    -p "$PGPORT" -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    >"$TMP/postgres.log" 2>&1 &
  PG_PID=$!
  for ((i = 0; i < 300; i++)); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
    kill -0 "$PG_PID" 2>/dev/null || break
    sleep 0.1
  done
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PGPORT" && break
  if kill -0 "$PG_PID" 2>/dev/null; then die "postgres did not start in 30 s"; fi
  wait "$PG_PID" 2>/dev/null || true
  PG_PID=""
  # Taken between the probe and the bind: another port. Anything else is a real failure.
  if ((attempt < 5)) && grep -q "could not bind\|Address already in use" "$TMP/postgres.log"; then
    say "port $PGPORT was taken; trying another"
    continue
  fi
  cat "$TMP/postgres.log" >&2
  die "postgres exited"
done

PSQL=("$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres -d postgres)
"${PSQL[@]}" <<'SQL'
create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
SQL
"${PSQL[@]}" -f e2e/schema.sql

# The auth schema belongs to the superuser (its tables have row-level security on; the server's
# auth service connects as their owner), then the tables that use auth.uid().
DB_OWNER_URL="postgres://postgres@127.0.0.1:$PGPORT/postgres"
say "migrate-auth"
"$PGREST_BIN" migrate-auth --database-url "$DB_OWNER_URL" >"$TMP/migrate-auth.log" 2>&1 \
  || { cat "$TMP/migrate-auth.log" >&2; die "migrate-auth failed"; }
"${PSQL[@]}" -f e2e/schema-after-auth.sql

# ---- SMTP sink ----------------------------------------------------------------------------
node e2e/smtp-sink.mjs 0 0 >"$TMP/smtp-sink.log" 2>&1 &
SINK_PID=$!
SMTP_PORT="" MAILBOX_PORT=""
for ((i = 0; i < 100; i++)); do
  read -r _ _ SMTP_PORT MAILBOX_PORT < <(grep -m1 '^smtp-sink ready ' "$TMP/smtp-sink.log" || true) || true
  [[ -n "$MAILBOX_PORT" ]] && break
  kill -0 "$SINK_PID" 2>/dev/null || { cat "$TMP/smtp-sink.log" >&2; die "smtp sink exited"; }
  sleep 0.1
done
[[ -n "$MAILBOX_PORT" ]] || die "smtp sink did not start"
say "SMTP sink on 127.0.0.1:$SMTP_PORT (mailbox http://127.0.0.1:$MAILBOX_PORT)"
curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$MAILBOX_PORT/health" || die "smtp sink does not answer"

# ---- server -----------------------------------------------------------------------------
SECRET=$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n')
ANON_KEY=$("$PGREST_BIN" generate-key anon --jwt-secret "$SECRET")
SERVICE_KEY=$("$PGREST_BIN" generate-key service_role --jwt-secret "$SECRET")
[[ -n "$ANON_KEY" && -n "$SERVICE_KEY" ]] || die "generate-key printed nothing"

say "starting $PGREST_BIN serve on a port the OS picks"
AUTH_PROVIDER=native \
AUTH_DATABASE_URL="$DB_OWNER_URL" \
SITE_URL=http://localhost:3000 \
URI_ALLOW_LIST='http://localhost:3000/**' \
AUTH_ANONYMOUS_USERS_ENABLED=true \
MAILER_AUTOCONFIRM=true \
SMTP_HOST=127.0.0.1 SMTP_PORT="$SMTP_PORT" SMTP_SECURITY=none SMTP_ADMIN_EMAIL=noreply@example.com \
  "$PGREST_BIN" serve --port 0 \
  --database-url "postgres://authenticator@127.0.0.1:$PGPORT/postgres" \
  --jwt-secret "$SECRET" >"$TMP/server.out" 2>"$TMP/server.log" &
SERVER_PID=$!

# `serve` prints "pgrest-lambda listening on http://ADDR" on stdout once it is bound.
URL=""
for ((i = 0; i < 300; i++)); do
  URL=$(sed -n 's/^pgrest-lambda listening on \(http:[^ ]*\)$/\1/p' "$TMP/server.out" | head -n 1)
  [[ -n "$URL" ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; die "server exited"; }
  sleep 0.1
done
[[ -n "$URL" ]] || { cat "$TMP/server.log" >&2; die "server printed no address in 30 s"; }
say "server listening on $URL"
code=000
for ((i = 0; i < 300; i++)); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 -H "apikey: $ANON_KEY" \
    "$URL/rest/v1/authors" || true)
  [[ "$code" != 000 ]] && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; die "server exited"; }
  sleep 0.1
done
[[ "$code" == 200 ]] || { cat "$TMP/server.log" >&2; die "server answered $code to GET /rest/v1/authors"; }

# ---- tests ------------------------------------------------------------------------------
if [[ ! -d e2e/node_modules ]]; then
  say "npm ci"
  (cd e2e && npm ci --no-audit --no-fund --loglevel=error)
fi

say "running node --test against $URL"
set +e
(cd e2e && PGREST_URL="$URL" PGREST_ANON_KEY="$ANON_KEY" PGREST_SERVICE_KEY="$SERVICE_KEY" \
  E2E_MAILBOX_URL="http://127.0.0.1:$MAILBOX_PORT" node --test "$@")
rc=$?
set -e
if [[ $rc != 0 ]]; then
  say "tests failed (exit $rc); server log (last 40 lines):"
  tail -n 40 "$TMP/server.log" >&2 || true
fi
exit "$rc"
