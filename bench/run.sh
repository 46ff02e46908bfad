#!/usr/bin/env bash
# Benchmark of `pgrest-lambda serve` (a benchmark, not a test: it fails only when it cannot run).
#
#   bash bench/run.sh
#
# Builds the release binary (cargo build --release -p pgrest-cli, honouring CARGO_TARGET_DIR),
# then bench/bench.py starts a private PostgreSQL cluster on loopback, loads
# bench/dataset.sql and measures W1/W2 with wrk against a pgbench ceiling, server CPU per
# request, RSS and cold start. The Markdown report goes to stdout and bench/out/latest.md.
# Takes about 3 minutes (4 rows x (wrk 3+10 s, pgbench 3+10+10 s), plus setup and cold starts).
#
# Environment:
#   PGREST_BIN                 use this binary instead of building one
#   PG_BIN                     folder of initdb/postgres/psql/pgbench (default: newest /usr/lib/postgresql/*/bin)
#   BENCH_DURATION=10          seconds per measured wrk/pgbench run
#   BENCH_WARMUP=3             seconds of wrk warm-up before each measured run
#   BENCH_COLD_STARTS=5        cold starts (the best one is reported)
#   BENCH_KEEP=1               keep the temporary folder (logs, scripts)
# Needs: PostgreSQL server binaries with pgbench (Debian: apt-get install postgresql), wrk,
# python3, setpriv (util-linux) when run as root.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

if [[ -z "${PG_BIN:-}" ]]; then
  if command -v initdb >/dev/null 2>&1; then
    PG_BIN=$(dirname "$(readlink -f "$(command -v initdb)")")
  else
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  fi
fi
for tool in initdb postgres pg_isready psql pgbench; do
  [[ -x "$PG_BIN/$tool" ]] || die "no $tool in '${PG_BIN:-?}' (set PG_BIN; Debian: apt-get install postgresql)"
done
for tool in wrk python3; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found (Debian: apt-get install $tool)"
done

if [[ -z "${PGREST_BIN:-}" ]]; then
  printf 'bench: cargo build --release -p pgrest-cli\n' >&2
  cargo build --release --quiet -p pgrest-cli
  PGREST_BIN="${CARGO_TARGET_DIR:-target}/release/pgrest-lambda"
fi
[[ -x "$PGREST_BIN" ]] || die "server binary '$PGREST_BIN' not found"

exec python3 bench/bench.py --bin "$PGREST_BIN" --pg-bin "$PG_BIN"
