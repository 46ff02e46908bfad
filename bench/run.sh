#!/usr/bin/env bash
# Benchmark of `pgrest-lambda serve` (a benchmark, not a test: it fails only when it cannot run).
#
#   bash bench/run.sh
#
# Builds the release binary (cargo build --release -p pgrest-cli, honouring CARGO_TARGET_DIR),
# then bench/bench.py starts a private PostgreSQL cluster on loopback, loads
# bench/dataset.sql and measures W1/W2 with wrk against a pgbench ceiling, server CPU per
# request, RSS and cold start. Then the auth part (BENCH_AUTH=0 skips it): migrate-auth, a server
# with /auth/v1, users signed up, password grants (W4) against bare argon2id (the kdf_cost example
# of pgrest-auth, built here with cargo), and W1 alone vs W1 while W4 runs.
# The Markdown report goes to stdout and bench/out/latest.md.
# Then the breadth row (bench/breadth.py): W1 alone and while eight clients send wide nested-embed
# selects (the V-19 attack), with PostgreSQL backend RSS.
# Takes about 4.5 minutes (4 rows x (wrk 3+10 s, pgbench 3+10+10 s), the breadth row 3+2x10 s, plus setup and cold starts,
# plus about 1 minute of auth).
#
# Environment:
#   PGREST_BIN                 use this binary instead of building one
#   PG_BIN                     folder of initdb/postgres/psql/pgbench (default: newest /usr/lib/postgresql/*/bin)
#   BENCH_DURATION=10          seconds per measured wrk/pgbench run
#   BENCH_WARMUP=3             seconds of wrk warm-up before each measured run
#   BENCH_COLD_STARTS=5        cold starts (the best one is reported)
#   BENCH_KEEP=1               keep the temporary folder (logs, scripts)
#   BENCH_AUTH=0               skip the auth part (W4, reads under grants)
#   BENCH_BREADTH=0            skip the breadth row (W1 under wide nested-embed selects, bench/breadth.py)
#   BENCH_ONLY=breadth         run only the breadth row (about 2 x BENCH_DURATION + BENCH_WARMUP s)
#   BENCH_PG_AS_MB             cap each PostgreSQL process's address space (MB), e.g. to measure
#                              the breadth attack on a build without the limits without the OOM killer
#   BENCH_AUTH_USERS           users to sign up for W4 (default: enough for the per-email limit)
#   KDF_COST_BIN               use this kdf_cost example binary instead of building one
# Needs: PostgreSQL server binaries with pgbench (Debian: apt-get install postgresql), wrk,
# python3, setpriv (util-linux) when run as root; for the auth part a C compiler (cc, for
# bench/loopback_source.c, which wrk preloads: see there why) and Linux loopback (127.0.0.0/8).
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
