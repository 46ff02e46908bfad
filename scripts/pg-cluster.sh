# Sourced by scripts that need a throwaway PostgreSQL server: pg_cluster_start starts one in a
# fresh temp dir (as an unprivileged user when run as root, since PostgreSQL refuses root),
# pg_cluster_stop stops it and removes the folder. Loopback TCP only; trust authentication.
#
# After pg_cluster_start: PG_PORT, PG_DIR, PG_BIN and PG_SUPER_URL are set. start_server runs
# `pgrest-lambda serve` on a port of the OS's choosing and reads it back.

pg_find_bin() {
  if [ -n "${PG_BIN_DIR:-}" ]; then echo "$PG_BIN_DIR"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/postgres" ]; then pg_config --bindir; return; fi
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

# A loopback port nothing listens on now, outside the kernel's ephemeral range (where outgoing
# connections take their ports at any moment). Still a probe: callers retry on a bind failure.
pg_free_port() {
  python3 - <<'PY'
import random, socket
try:
    low, high = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except (OSError, ValueError):
    low, high = 32768, 60999
ranges = [r for r in ((10000, low - 1), (high + 1, 65535)) if r[1] - r[0] > 100] or [(10000, 65535)]
for _ in range(200):
    lo, hi = random.choice(ranges)
    port = random.randint(lo, hi)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        s.close()
    print(port)
    break
else:
    raise SystemExit("no free port")
PY
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
  pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres --no-locale -E UTF8 >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  # The probed port can be taken before postgres binds it: try again on another one.
  local try
  for try in 1 2 3 4 5; do
    PG_PORT=$(pg_free_port) || return 1
    rm -f "$PG_DIR/server.log"
    if pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $PG_DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${PG_EXTRA_OPTS:-}" start >/dev/null; then
      break
    fi
    if [ "$try" = 5 ] || ! grep -q "could not bind\|Address already in use" "$PG_DIR/server.log"; then
      cat "$PG_DIR/server.log" >&2; return 1
    fi
    echo "port $PG_PORT was taken; trying another" >&2
  done
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

# Starts `CMD... --port 0` in the background with stdout in $1 (stderr beside it, .err) and waits
# up to $2 seconds for its "listening on http://ADDR" line: sets SERVER_PID and SERVER_URL. The
# server binds a port the OS picks, so no other process can take it between probe and bind.
start_server() {
  local out=$1 secs=$2 deadline
  shift 2
  "$@" --port 0 >"$out" 2>"$out.err" &
  SERVER_PID=$!
  deadline=$(( $(date +%s) + secs ))
  SERVER_URL=""
  until SERVER_URL=$(sed -n 's/^pgrest-lambda listening on \(http:[^ ]*\)$/\1/p' "$out" | head -n 1) && [ -n "$SERVER_URL" ]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$out.err" >&2; echo "server exited" >&2; return 1; }
    [ "$(date +%s)" -ge "$deadline" ] && { cat "$out.err" >&2; echo "server printed no address in ${secs}s" >&2; return 1; }
    sleep 0.1
  done
}

# Waits until URL answers with any HTTP status (up to $2 seconds, default 30).
wait_http() {
  local deadline=$(( $(date +%s) + ${2:-30} ))
  until curl -s -o /dev/null "$1"; do
    [ "$(date +%s)" -ge "$deadline" ] && { echo "no answer from $1" >&2; return 1; }
    sleep 0.1
  done
}
