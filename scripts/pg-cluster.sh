# Sourced by scripts that need a throwaway PostgreSQL server: pg_cluster_start starts one in a
# fresh temp dir (as an unprivileged user when run as root, since PostgreSQL refuses root),
# pg_cluster_stop stops it and removes the folder. Loopback TCP only; trust authentication.
#
# After pg_cluster_start: PG_PORT, PG_DIR, PG_BIN and PG_SUPER_URL are set.

pg_find_bin() {
  if [ -n "${PG_BIN_DIR:-}" ]; then echo "$PG_BIN_DIR"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/postgres" ]; then pg_config --bindir; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

pg_free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

pg_cluster_start() {
  PG_BIN=$(pg_find_bin)
  if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/postgres" ]; then
    echo "PostgreSQL server binaries not found: install them (Debian/Ubuntu: apt-get install postgresql)" >&2
    return 1
  fi
  PG_DIR=$(mktemp -d /tmp/pgrest-cluster.XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" = 0 ] && chown nobody "$PG_DIR"
  PG_PORT=$(pg_free_port)
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-locale -E UTF8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTS:-}" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; return 1; }
  PG_SUPER_URL="postgresql://postgres@127.0.0.1:$PG_PORT/postgres"
  export PG_PORT PG_DIR PG_BIN PG_SUPER_URL
}

pg_cluster_stop() {
  if [ -n "${PG_DIR:-}" ] && [ -d "$PG_DIR/data" ]; then
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
  fi
}

# Supabase's roles: anon, authenticated, service_role (NOLOGIN) and authenticator (LOGIN NOINHERIT),
# from the same file the REST tests use.
pg_supabase_roles() {
  local roles_sql
  roles_sql="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/crates/pgrest-core/tests/fixtures/roles.sql"
  "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f "$roles_sql" "$1"
}

# Waits until URL answers with any HTTP status (up to $2 seconds, default 30).
wait_http() {
  local deadline=$(( $(date +%s) + ${2:-30} ))
  until curl -s -o /dev/null "$1"; do
    [ "$(date +%s)" -ge "$deadline" ] && { echo "no answer from $1" >&2; return 1; }
    sleep 0.1
  done
}
