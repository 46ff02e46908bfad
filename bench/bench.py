#!/usr/bin/env python3
"""pgrest-lambda benchmark; run through bench/run.sh (which builds the release binary).

Starts a private PostgreSQL cluster on loopback, loads bench/dataset.sql, and measures two
read workloads through `pgrest-lambda serve` with wrk, against a ceiling: pgbench running
the very statements the server sent for one request of each workload (captured from the
PostgreSQL log), in the same transaction shape. Also measures server CPU per request, RSS
and cold start. Then, unless --no-auth (BENCH_AUTH=0), the auth part: migrate-auth, a server
with /auth/v1, password grants (W4) with their CPU cost against bare argon2id, and W1's latency
with and without grants running. Prints a Markdown report and writes it to
bench/out/latest.md.

Everything runs on 127.0.0.1 with bounded durations, and everything started here is
stopped and removed on exit.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import breadth  # noqa: E402  (bench/breadth.py: the request-breadth row)

WORKLOADS = [
    ("W1", "/rest/v1/posts?select=id,title,status&status=eq.published&order=id.desc&limit=20"),
    ("W2", "/rest/v1/posts?select=id,title,author:users(name)&status=eq.published&order=id.desc&limit=20"),
]
# (concurrency, wrk threads, pgbench jobs)
LEVELS = [(1, 1, 1), (16, 2, 2)]

TARGET_RATIO = 50.0  # % of the pgbench ceiling, W1/W2 at c=16
TARGET_CPU_MS = 0.1  # server CPU per request
TARGET_RSS_MB = 30.0
TARGET_COLD_MS = 50.0

# ---- auth (W4) ----
W4_PATH = "/auth/v1/token?grant_type=password"
AUTH_LEVEL = (4, 2)  # (concurrency, wrk threads) for W4 and for W1 alone/under grants
AUTH_PASSWORD = "bench-Passw0rd-4-grants"
AUTH_EMAIL = "bench-user-{}@example.com"
TARGET_READ_P99_RATIO = 2.0  # W1 p99 with grants running / W1 p99 alone
KDF_RUNS = 30  # argon2id verifications timed by the kdf_cost example
# Grants the server could possibly do per second on this machine (2 CPUs / ~30 ms argon2id),
# to size the user pool so that no email exceeds the per-email limit (10 per 5 minutes).
MAX_GRANTS_PER_S = 70
PER_EMAIL_BUDGET = 8  # grants per user over the whole auth part (server limit: burst 10)

ROLES_SQL = """
create role anon nologin noinherit;
create role authenticated nologin noinherit;
create role service_role nologin noinherit bypassrls;
create role authenticator login noinherit;
grant anon, authenticated, service_role to authenticator;
"""


def log(msg: str) -> None:
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop(proc: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    try:
        proc.send_signal(sig)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
    except ProcessLookupError:
        pass


def http_get(port: int, path: str, apikey: str, timeout: float = 2.0) -> tuple[int, bytes]:
    """One HTTP/1.1 GET over a raw socket: (status, body). Raises OSError when nothing listens."""
    return http_request(port, "GET", path, {"apikey": apikey}, timeout=timeout)


def http_request(port: int, method: str, path: str, headers: dict[str, str], body: bytes = b"",
                 source: str | None = None, timeout: float = 2.0) -> tuple[int, bytes]:
    """One HTTP/1.1 request over a raw socket, optionally from a given loopback source address
    (the server rate-limits auth endpoints per socket peer address): (status, body)."""
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    for k, v in headers.items():
        head += f"{k}: {v}\r\n"
    if body or method != "GET":
        head += f"Content-Length: {len(body)}\r\n"
    req = (head + "Connection: close\r\n\r\n").encode() + body
    src = (source, 0) if source else None
    with socket.create_connection(("127.0.0.1", port), timeout=timeout, source_address=src) as s:
        s.sendall(req)
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    raw = b"".join(chunks)
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line = head.split(b"\r\n", 1)[0].split()
    if len(status_line) < 2:
        raise OSError(f"malformed response: {raw[:80]!r}")
    headers = head.lower()
    if b"transfer-encoding: chunked" in headers:
        body = dechunk(body)
    return int(status_line[1]), body


def dechunk(body: bytes) -> bytes:
    out, rest = [], body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            break
        out.append(rest[:size])
        rest = rest[size + 2:]
    return b"".join(out)


class Bench:
    def __init__(self, args: argparse.Namespace) -> None:
        self.bin = str(Path(args.bin).resolve())
        self.pg_bin = args.pg_bin
        self.duration = args.duration
        self.warmup = args.warmup
        self.cold_starts = args.cold_starts
        self.out = Path(args.out)
        self.tmp = Path(tempfile.mkdtemp(prefix="pgrest-bench."))
        self.as_pg: list[str] = []
        if os.geteuid() == 0:
            # PostgreSQL refuses root: run it as nobody (setpriv execs, no extra process).
            self.as_pg = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "--"]
            shutil.chown(self.tmp, "nobody", "nogroup")
        os.chmod(self.tmp, 0o700)
        self.pg: subprocess.Popen | None = None
        self.server: subprocess.Popen | None = None
        self.pg_port = 0
        self.api_port = 0
        self.secret = os.urandom(32).hex()
        self.anon_key = ""
        self.db_url = ""
        self.clk_tck = os.sysconf("SC_CLK_TCK")
        self.auth = args.auth
        self.auth_users = args.auth_users or max(
            50, -(-MAX_GRANTS_PER_S * (args.warmup + 2 * args.duration + 3) // PER_EMAIL_BUDGET))
        self.shim: str | None = None
        self.server_auth = False  # start_server() with the /auth/v1 settings
        self.super_url = ""
        self.grants_sent = 0  # password grants sent so far: the next wrk script starts after them
        self.breadth = args.breadth
        self.only = args.only
        self.pg_as_mb = args.pg_as_mb

    # ---- PostgreSQL ------------------------------------------------------------------------
    def pg_tool(self, name: str) -> str:
        return os.path.join(self.pg_bin, name)

    def psql(self, sql: str | None = None, file: Path | None = None, user: str = "postgres") -> str:
        cmd = [self.pg_tool("psql"), "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
               "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", user, "-d", "postgres"]
        if file is not None:
            cmd += ["-f", str(file)]
        else:
            cmd += ["-c", sql or ""]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            raise RuntimeError(f"psql failed: {res.stderr.strip()}")
        return res.stdout

    def start_postgres(self) -> None:
        data = self.tmp / "data"
        self.pg_port = free_port()
        log(f"initdb; PostgreSQL on 127.0.0.1:{self.pg_port}")
        subprocess.run(
            self.as_pg + [self.pg_tool("initdb"), "-D", str(data), "-A", "trust", "-U", "postgres",
                          "--no-locale", "-E", "UTF8"],
            check=True, capture_output=True, timeout=120)
        pglog = open(self.tmp / "postgres.stderr", "wb")
        # BENCH_PG_AS_MB caps every backend's address space, so a runaway statement fails with
        # "out of memory" instead of waking the kernel's OOM killer on a shared machine.
        as_limit = ["prlimit", f"--as={self.pg_as_mb * 1024 * 1024}", "--"] if self.pg_as_mb else []
        self.pg = subprocess.Popen(
            as_limit + self.as_pg + [self.pg_tool("postgres"), "-D", str(data), "-k", str(self.tmp),
                          "-c", "listen_addresses=127.0.0.1", "-p", str(self.pg_port),
                          "-c", "fsync=off", "-c", "synchronous_commit=off",
                          "-c", "logging_collector=on", "-c", "log_destination=jsonlog",
                          "-c", "log_directory=log"],
            stdout=pglog, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.pg.poll() is not None:
                raise RuntimeError("postgres exited: " + (self.tmp / "postgres.stderr").read_text())
            ok = subprocess.run([self.pg_tool("pg_isready"), "-q", "-h", "127.0.0.1",
                                 "-p", str(self.pg_port)]).returncode == 0
            if ok:
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("postgres did not start in 30 s")
        self.psql(ROLES_SQL)
        log("loading bench/dataset.sql")
        self.psql(file=ROOT / "bench" / "dataset.sql")
        self.db_url = f"postgres://authenticator@127.0.0.1:{self.pg_port}/postgres"
        self.super_url = f"postgres://postgres@127.0.0.1:{self.pg_port}/postgres"

    # ---- server ----------------------------------------------------------------------------
    def server_cmd(self) -> list[str]:
        return [self.bin, "serve", "--port", str(self.api_port), "--database-url", self.db_url,
                "--jwt-secret", self.secret]

    def server_env(self) -> dict[str, str]:
        env = dict(os.environ)
        if self.server_auth:
            # The auth tables have RLS on: the auth service connects as their owner (superuser here).
            env.update({"AUTH_PROVIDER": "native", "AUTH_DATABASE_URL": self.super_url,
                        "MAILER_AUTOCONFIRM": "true"})
        return env

    def start_server(self) -> None:
        self.api_port = free_port()
        out = open(self.tmp / "server.log", "ab")
        self.server = subprocess.Popen(self.server_cmd(), stdout=out, stderr=subprocess.STDOUT,
                                       env=self.server_env())
        deadline = time.monotonic() + 30
        path = WORKLOADS[0][1]
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise RuntimeError("server exited: " + (self.tmp / "server.log").read_text()[-2000:])
            try:
                status, body = http_get(self.api_port, path, self.anon_key)
                if status == 200:
                    return
                raise RuntimeError(f"server answered {status} to {path}: {body[:300]!r}")
            except OSError:
                time.sleep(0.02)
        raise RuntimeError("server did not answer in 30 s")

    def stop_server(self) -> None:
        stop(self.server)
        self.server = None

    def server_cpu_ticks(self) -> tuple[int, int]:
        assert self.server is not None
        fields = Path(f"/proc/{self.server.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # After the ")" of comm: field 3 (state) is index 0, so utime (14) is 11, stime (15) 12.
        return int(fields[11]), int(fields[12])

    def server_rss_kb(self) -> int:
        assert self.server is not None
        for line in Path(f"/proc/{self.server.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    # ---- statement capture -------------------------------------------------------------------
    def capture_statements(self) -> dict[str, list[tuple[str, list[str | None]]]]:
        """One request per workload with log_statement=all for the server's role; returns, per
        workload, the statements of its transaction in order, each with its parameters."""
        self.psql("alter role authenticator set log_statement = 'all'")
        try:
            self.start_server()  # new connections pick up the role setting
            for name, path in WORKLOADS:
                self.psql(f"do $$ begin raise log 'pgrest-bench-marker {name}'; end $$")
                status, body = http_get(self.api_port, path, self.anon_key)
                if status != 200 or len(json.loads(body)) != 20:
                    raise RuntimeError(f"{name}: expected 200 with 20 rows, got {status}: {body[:300]!r}")
            self.psql("do $$ begin raise log 'pgrest-bench-marker end'; end $$")
            time.sleep(0.5)  # let the logging collector write
        finally:
            self.stop_server()
            self.psql("alter role authenticator reset log_statement")

        entries = []
        for f in sorted(glob.glob(str(self.tmp / "data" / "log" / "*.json"))):
            with open(f, encoding="utf-8") as fh:
                for line in fh:
                    line = line.strip()
                    if line:
                        entries.append(json.loads(line))
        result: dict[str, list[tuple[str, list[str | None]]]] = {}
        current = None
        for e in entries:
            msg = e.get("message", "")
            m = re.fullmatch(r"pgrest-bench-marker (\S+)", msg)
            if m:
                current = m.group(1) if m.group(1) != "end" else None
                if current:
                    result[current] = []
                continue
            if current is None or e.get("user") != "authenticator":
                continue
            sql, params = parse_logged_statement(msg, e.get("detail"))
            if sql is not None:
                result[current].append((sql, params))
        for name, _ in WORKLOADS:
            stmts = result.get(name, [])
            texts = [s for s, _ in stmts]
            if not texts or not texts[0].upper().startswith("BEGIN") or texts[-1].upper() != "COMMIT":
                raise RuntimeError(f"{name}: could not capture one BEGIN..COMMIT transaction: {texts}")
        return result

    def write_pgbench_script(self, name: str, stmts: list[tuple[str, list[str | None]]],
                             pipelined: bool) -> tuple[Path, list[str]]:
        """The captured transaction as a pgbench script; parameters become -D variables, so
        with -M prepared they are bound as parameters, as the server binds them.

        pipelined=True sends the four statements as one pipeline, the server's single round trip
        for a read whose statement is already prepared (see crates/pgrest-core/src/db/transaction.rs)."""
        defines: list[str] = []
        lines: list[str] = []
        for i, (sql, params) in enumerate(stmts):
            def var(m: re.Match) -> str:
                n = int(m.group(1))
                value = params[n - 1]
                vname = f"s{i}p{n}"
                if value is None:
                    return "NULL"
                defines.extend(["-D", f"{vname}={value}"])
                return f":{vname}"
            text = re.sub(r"\$(\d+)", var, sql)
            lines.append(" ".join(text.split()) + ";")
        if pipelined and len(lines) == 4:
            body = ["\\startpipeline", *lines, "\\endpipeline"]
        else:
            body = lines
        path = self.tmp / f"{name}{'-pipelined' if pipelined else ''}.sql"
        path.write_text("\n".join(body) + "\n")
        return path, defines

    def pgbench(self, script: Path, defines: list[str], clients: int, jobs: int,
                seconds: int | None = None) -> float:
        seconds = seconds or self.duration
        cmd = [self.pg_tool("pgbench"), "-M", "prepared", "-n", "-c", str(clients), "-j", str(jobs),
               "-T", str(seconds), "-h", "127.0.0.1", "-p", str(self.pg_port),
               "-U", "authenticator", "-f", str(script)] + defines + ["postgres"]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        if res.returncode != 0:
            raise RuntimeError(f"pgbench failed: {res.stderr.strip()[-2000:]}")
        m = re.search(r"tps = ([\d.]+)", res.stdout)
        failed = re.search(r"number of failed transactions: (\d+)", res.stdout)
        if not m or (failed and int(failed.group(1)) > 0):
            raise RuntimeError(f"pgbench output not understood or failures:\n{res.stdout}")
        return float(m.group(1))

    # ---- wrk -------------------------------------------------------------------------------
    def wrk(self, path: str, conns: int, threads: int, seconds: int, latency: bool,
            allow_errors: bool = False) -> dict:
        """wrk's req/s (and p50/p99 with latency). Errors raise, unless allow_errors: then they are
        counted in "errors" (non-2xx responses plus socket errors, wrk's 2 s timeout included)."""
        url = f"http://127.0.0.1:{self.api_port}{path}"
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "-H", f"apikey: {self.anon_key}"]
        if latency:
            cmd.append("--latency")
        cmd.append(url)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        if res.returncode != 0:
            raise RuntimeError(f"wrk failed: {res.stderr}")
        out = res.stdout
        if not allow_errors and ("Non-2xx or 3xx responses" in out or "Socket errors" in out):
            raise RuntimeError(f"wrk saw errors:\n{out}")
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
        errors = (int(non2xx.group(1)) if non2xx else 0) + (sum(int(g) for g in sock.groups()) if sock else 0)
        result = {"requests": reqs, "rps": rps, "errors": errors}
        if latency:
            for pct in ("50", "99"):
                m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
                if allow_errors and (m is None or reqs == 0):  # no request completed
                    result[f"p{pct}"] = float("inf")
                    continue
                value = float(m.group(1))
                result[f"p{pct}"] = value / 1000 if m.group(2) == "us" else value * 1000 if m.group(2) == "s" else value
        return result

    # ---- cold start ------------------------------------------------------------------------
    def cold_start_ms(self) -> float:
        """exec of `serve` to the first 200 on W1, connect and schema load included."""
        self.api_port = free_port()
        path = WORKLOADS[0][1]
        out = open(self.tmp / "server.log", "ab")
        cmd, env = self.server_cmd(), self.server_env()
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env)
        try:
            deadline = t0 + 10
            while time.perf_counter() < deadline:
                try:
                    status, body = http_get(self.api_port, path, self.anon_key)
                    if status == 200:
                        return (time.perf_counter() - t0) * 1000
                    if status not in (503,):
                        raise RuntimeError(f"cold start: {status} {body[:200]!r}")
                except OSError:
                    pass
                if proc.poll() is not None:
                    raise RuntimeError("server exited during cold start")
                time.sleep(0.0005)
            raise RuntimeError("no 200 within 10 s of starting the server")
        finally:
            stop(proc)

    # ---- the run ---------------------------------------------------------------------------
    def run(self) -> str:
        self.loadavg_start = Path("/proc/loadavg").read_text().split()[:3]
        self.anon_key = subprocess.run([self.bin, "generate-key", "anon", "--jwt-secret", self.secret],
                                       check=True, capture_output=True, text=True).stdout.strip()
        self.start_postgres()
        if self.only == "breadth":
            return self.run_breadth_only()

        log("capturing the server's statements for W1 and W2")
        captured = self.capture_statements()

        # Each row: the server under wrk, then the pgbench ceiling for the same workload and
        # concurrency right after it (the server idles meanwhile), so slow drifts of this
        # shared machine hit both sides of a ratio alike.
        self.start_server()
        rows = []
        rss_kb = 0
        for name, path in WORKLOADS:
            stmts = captured[name]
            piped = self.write_pgbench_script(name, stmts, pipelined=True)
            plain = self.write_pgbench_script(name, stmts, pipelined=False)
            for conns, threads, jobs in LEVELS:
                log(f"{name} c={conns}: wrk warm-up {self.warmup}s + {self.duration}s, "
                    f"then pgbench warm-up {self.warmup}s + 2 x {self.duration}s")
                self.wrk(path, conns, threads, self.warmup, latency=False)
                if name == WORKLOADS[0][0] and conns == LEVELS[0][0]:
                    rss_kb = self.server_rss_kb()
                u0, s0 = self.server_cpu_ticks()
                r = self.wrk(path, conns, threads, self.duration, latency=True)
                u1, s1 = self.server_cpu_ticks()
                n = max(r["requests"], 1)
                row = {"workload": name, "path": path, "c": conns, "threads": threads, "jobs": jobs, **r,
                       "cpu_ms": ((u1 - u0) + (s1 - s0)) * 1000.0 / self.clk_tck / n,
                       "user_ms": (u1 - u0) * 1000.0 / self.clk_tck / n,
                       "sys_ms": (s1 - s0) * 1000.0 / self.clk_tck / n}
                self.pgbench(*piped, conns, jobs, seconds=self.warmup)
                row["tps"] = self.pgbench(*piped, conns, jobs)
                row["tps_plain"] = self.pgbench(*plain, conns, jobs)
                rows.append(row)
        rss_kb = max(rss_kb, self.server_rss_kb())
        self.stop_server()

        log(f"cold start, best of {self.cold_starts}")
        colds = [self.cold_start_ms() for _ in range(self.cold_starts)]

        breadth_result = self.run_breadth() if self.breadth else None
        auth = self.run_auth() if self.auth else None
        return self.report(rows, rss_kb, colds, captured, auth, breadth_result)

    # ---- request breadth (bench/breadth.py) ------------------------------------------------
    def run_breadth(self) -> dict:
        log(f"breadth: W1 c={breadth.LEVEL[0]} alone, then under {breadth.ATTACKERS} wide-select attackers "
            f"({self.warmup}s + 2 x {self.duration}s)")
        return breadth.run(self, WORKLOADS[0][1], http_get)

    def run_breadth_only(self) -> str:
        """BENCH_ONLY=breadth: just the breadth row, its own short report."""
        result = self.run_breadth()
        fmt = lambda x, nd=2: f"{x:,.{nd}f}"  # noqa: E731
        mark = lambda ok: "pass" if ok else "**miss**"  # noqa: E731
        lines, targets = breadth.report(result, self, fmt, mark)
        version = subprocess.run([self.bin, "--version"], capture_output=True, text=True).stdout.strip()
        return "\n".join(["# pgrest-lambda benchmark (breadth row only)", "",
                          f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, {version}, "
                          f"{os.cpu_count()} CPUs, BENCH_PG_AS_MB={self.pg_as_mb or 'unset'}.",
                          *lines, "", "| target | measured | result |", "| --- | --- | --- |", *targets])

    # ---- auth (W4) -------------------------------------------------------------------------
    def build_tools(self) -> tuple[str | None, str | None, str]:
        """The loopback-source shim (cc) and the kdf_cost example (cargo); None when unavailable,
        with the reason in the third value."""
        notes = []
        shim = None
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc:
            shim = str(self.tmp / "loopback_source.so")
            res = subprocess.run([cc, "-shared", "-fPIC", "-O2", "-o", shim,
                                  str(ROOT / "bench" / "loopback_source.c"), "-ldl"],
                                 capture_output=True, text=True, timeout=120)
            if res.returncode != 0:
                notes.append(f"loopback_source.c did not build: {res.stderr.strip()[-300:]}")
                shim = None
        else:
            notes.append("no C compiler: W4 runs from 127.0.0.1 only")
        kdf = os.environ.get("KDF_COST_BIN")
        if not kdf:
            log("cargo build --release -p pgrest-auth --example kdf_cost")
            res = subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "pgrest-auth",
                                  "--example", "kdf_cost"], cwd=ROOT, capture_output=True, text=True,
                                 timeout=1800)
            target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
            if not target.is_absolute():
                target = ROOT / target
            kdf = str(target / "release" / "examples" / "kdf_cost")
            if res.returncode != 0:
                notes.append(f"kdf_cost did not build: {res.stderr.strip()[-300:]}")
                kdf = None
        return shim, kdf, "; ".join(notes)

    def kdf_cost(self, kdf: str) -> dict:
        res = subprocess.run([kdf, str(KDF_RUNS)], capture_output=True, text=True, timeout=600,
                             env={**os.environ, "CLK_TCK": str(self.clk_tck)})
        if res.returncode != 0:
            raise RuntimeError(f"kdf_cost failed: {res.stderr.strip()[-500:]}")
        out = {}
        for m in re.finditer(r"^(\w+) n=(\d+) cpu_ms=([\d.]+) wall_ms=([\d.]+)$", res.stdout, re.M):
            out[m.group(1)] = {"n": int(m.group(2)), "cpu_ms": float(m.group(3)), "wall_ms": float(m.group(4))}
        m = re.search(r"^params (.*)$", res.stdout, re.M)
        out["params"] = m.group(1) if m else "?"
        if "verify" not in out:
            raise RuntimeError(f"kdf_cost output not understood: {res.stdout}")
        return out

    def grant(self, email: str, source: str | None = None, xff: str | None = None) -> tuple[int, bytes]:
        headers = {"apikey": self.anon_key, "Content-Type": "application/json"}
        if xff:
            headers["X-Forwarded-For"] = xff
        body = json.dumps({"email": email, "password": AUTH_PASSWORD}).encode()
        return http_request(self.api_port, "POST", W4_PATH, headers, body, source=source, timeout=30)

    def signup(self, i: int) -> None:
        # Each sign-up from its own loopback address: /signup is limited to 30 per 5 min per IP.
        source = f"127.32.{i // 250}.{i % 250 + 1}"
        body = json.dumps({"email": AUTH_EMAIL.format(i), "password": AUTH_PASSWORD}).encode()
        status, resp = http_request(self.api_port, "POST", "/auth/v1/signup",
                                    {"apikey": self.anon_key, "Content-Type": "application/json"},
                                    body, source=source, timeout=60)
        if status != 200 or "access_token" not in json.loads(resp):
            raise RuntimeError(f"signup {i}: expected 200 with a session, got {status}: {resp[:300]!r}")

    def probe_limits(self) -> dict:
        """How the server keys its password-grant limits, found by trying (emails that do not
        exist, so no user's budget is used; each attempt still costs one argon2id run)."""
        # 1. Per IP: 31 grants from this socket address (127.0.0.1), each with a different
        #    X-Forwarded-For and a different email. If X-Forwarded-For were the key, none is refused.
        xff = []
        for i in range(31):
            status, body = self.grant(f"probe-ip-{i}@example.com", xff=f"203.0.113.{i + 1}")
            xff.append(status)
        # 2. Per email: 11 grants for one email, each from a different socket address.
        email = []
        for i in range(11):
            status, body = self.grant("probe-email@example.com", source=f"127.48.0.{i + 1}")
            email.append(status)
        return {"xff": xff, "email": email}

    def w4_script(self, offset: int) -> Path:
        """wrk script: password grants rotating over the users (thread t of T sends users
        offset+t, offset+t+T, ...), one connection per request (with the shim, one client IP per
        request), status codes counted."""
        path = self.tmp / f"w4-{offset}.lua"
        path.write_text(f"""
local users, offset, password = {self.auth_users}, {offset}, "{AUTH_PASSWORD}"
local threads, nthreads = {{}}, 0
function setup(thread)
  thread:set("id", nthreads)
  nthreads = nthreads + 1
  table.insert(threads, thread)
end
function init(args)
  n = 0
  statuses = {{}}
  wrk.method = "POST"
  wrk.headers["apikey"] = "{self.anon_key}"
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Connection"] = "close"
end
function request()
  local i = (offset + n * {AUTH_LEVEL[1]} + id) % users
  n = n + 1
  local body = string.format('{{"email":"{AUTH_EMAIL.format('%d')}","password":"%s"}}', i, password)
  return wrk.format(nil, nil, nil, body)
end
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end
function done(summary, latency, requests)
  local total = {{}}
  for _, t in ipairs(threads) do
    for status, count in pairs(t:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  for status, count in pairs(total) do
    io.write(string.format("STATUS %d %d\\n", status, count))
  end
end
""")
        return path

    def w4_cmd(self, seconds: int) -> tuple[list[str], dict[str, str]]:
        conns, threads = AUTH_LEVEL
        script = self.w4_script(self.grants_sent)
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "--latency", "-s", str(script),
               f"http://127.0.0.1:{self.api_port}{W4_PATH}"]
        env = dict(os.environ)
        if self.shim:
            env["LD_PRELOAD"] = self.shim
        return cmd, env

    def w4_parse(self, out: str) -> dict:
        statuses = {int(a): int(b) for a, b in re.findall(r"^STATUS (\d+) (\d+)$", out, re.M)}
        m = re.search(r"(\d+) requests in", out)
        if not m:
            raise RuntimeError(f"wrk output not understood:\n{out}")
        reqs = int(m.group(1))
        self.grants_sent += sum(statuses.values()) or reqs
        ok = statuses.get(200, 0)
        secs = float(re.search(r"requests in ([\d.]+)(m?s)", out).group(1))
        unit = re.search(r"requests in [\d.]+(m?s)", out).group(1)
        secs = secs / 1000 if unit == "ms" else secs
        r = {"requests": reqs, "ok": ok, "non200": reqs - ok if not statuses else sum(c for s, c in statuses.items() if s != 200),
             "statuses": statuses, "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
             "ok_rps": ok / secs if secs else 0.0,
             "socket_errors": (re.search(r"Socket errors:.*", out) or [None])[0] if "Socket errors" in out else None}
        for pct in ("50", "99"):
            m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
            value = float(m.group(1))
            r[f"p{pct}"] = value / 1000 if m.group(2) == "us" else value * 1000 if m.group(2) == "s" else value
        return r

    def w4(self, seconds: int) -> dict:
        cmd, env = self.w4_cmd(seconds)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60, env=env)
        if res.returncode != 0:
            raise RuntimeError(f"wrk (W4) failed: {res.stderr}")
        return self.w4_parse(res.stdout)

    def rate_limit_log(self) -> dict[str, int]:
        """Rate-limit refusals in the server log, per limiter bucket."""
        text = (self.tmp / "server.log").read_text(errors="replace")
        counts: dict[str, int] = {}
        for line in text.splitlines():
            if "rate limit reached" in line:
                m = re.search(r"bucket\W+(\w+)", line)
                key = m.group(1) if m else "?"
                counts[key] = counts.get(key, 0) + 1
        return counts

    def run_auth(self) -> dict:
        result: dict = {}
        log("auth: pgrest-lambda migrate-auth")
        res = subprocess.run([self.bin, "migrate-auth", "--database-url", self.super_url],
                             capture_output=True, text=True, timeout=120)
        if res.returncode != 0:
            raise RuntimeError(f"migrate-auth failed: {res.stderr.strip()[-1000:]}")
        self.shim, kdf, result["tool_notes"] = self.build_tools()
        (self.tmp / "server.log").write_bytes(b"")  # this server's log only (rate-limit counts)
        self.server_auth = True
        self.start_server()
        try:
            cpus = os.cpu_count() or 1
            log(f"auth: {self.auth_users} sign-ups (POST /auth/v1/signup)")
            self.signup(0)  # the first one alone: fails fast when auth is not served
            from concurrent.futures import ThreadPoolExecutor
            with ThreadPoolExecutor(max_workers=max(2, cpus)) as pool:
                list(pool.map(self.signup, range(1, self.auth_users)))
            users = int(self.psql("select count(*) from auth.users where email like 'bench-user-%'").strip())
            if users != self.auth_users:
                raise RuntimeError(f"expected {self.auth_users} users, found {users}")
            result["rss_kb_before"] = self.server_rss_kb()
            log("auth: probing the password-grant rate limits")
            result["probe"] = self.probe_limits()
            result["probe_log"] = self.rate_limit_log()
            if kdf:
                log(f"auth: bare argon2id, {KDF_RUNS} verifications (kdf_cost)")
                result["kdf"] = self.kdf_cost(kdf)
            conns, threads = AUTH_LEVEL
            log(f"W1 c={conns} alone: wrk warm-up {self.warmup}s + {self.duration}s")
            path = WORKLOADS[0][1]
            self.wrk(path, conns, threads, self.warmup, latency=False)
            result["w1_alone"] = self.wrk(path, conns, threads, self.duration, latency=True)
            log(f"W4 c={conns}: warm-up {self.warmup}s + {self.duration}s")
            result["w4_warmup"] = self.w4(self.warmup)
            u0, s0 = self.server_cpu_ticks()
            result["w4"] = w4 = self.w4(self.duration)
            u1, s1 = self.server_cpu_ticks()
            n = max(w4["ok"], 1)
            w4["cpu_ms"] = ((u1 - u0) + (s1 - s0)) * 1000.0 / self.clk_tck / n
            w4["user_ms"] = (u1 - u0) * 1000.0 / self.clk_tck / n
            w4["sys_ms"] = (s1 - s0) * 1000.0 / self.clk_tck / n
            log(f"W1 c={conns} while W4 c={conns} runs: {self.duration}s")
            # W4 starts first and ends after W1, so grants run during the whole W1 window.
            cmd, env = self.w4_cmd(self.duration + 3)
            bg = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
            try:
                time.sleep(1.0)
                result["w1_under"] = self.wrk(path, conns, threads, self.duration, latency=True)
                out, err = bg.communicate(timeout=self.duration + 60)
            finally:
                stop(bg)
            if bg.returncode != 0:
                raise RuntimeError(f"wrk (W4 under W1) failed: {err}")
            result["w4_bg"] = self.w4_parse(out)
            result["rate_limited"] = {k: v - result["probe_log"].get(k, 0)
                                      for k, v in self.rate_limit_log().items()
                                      if v - result["probe_log"].get(k, 0) > 0}
            result["rss_kb"] = self.server_rss_kb()
        finally:
            self.stop_server()
            self.server_auth = False
        return result

    def report(self, rows: list[dict], rss_kb: int, colds: list[float], captured: dict,
               auth: dict | None = None, breadth_result: dict | None = None) -> str:
        def fmt(x: float, nd: int = 2) -> str:
            return f"{x:,.{nd}f}"

        def mark(ok: bool) -> str:
            return "pass" if ok else "**miss**"

        version = subprocess.run([self.bin, "--version"], capture_output=True, text=True).stdout.strip()
        pg_version = self.psql("show server_version").strip()
        lines = [
            "# pgrest-lambda benchmark",
            "",
            f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}, "
            f"{version}, PostgreSQL {pg_version}, {os.cpu_count()} CPUs; server, PostgreSQL, wrk and "
            "pgbench share this machine (load average at start: "
            f"{' '.join(getattr(self, 'loadavg_start', ['?']))}; other work on the machine skews the numbers). "
            "Dataset: bench/dataset.sql (1,000 users, 10,000 posts).",
            "",
        ]
        for name, path in WORKLOADS:
            lines.append(f"- {name}: `GET {path}`")
        lines += [
            "",
            f"wrk `--latency` {self.duration}s after a {self.warmup}s warm-up (c=1: `-t1 -c1`, c=16: `-t2 -c16`), "
            "`apikey: <anon key>`. Ceiling: pgbench `-M prepared` on the statements the server sent "
            "for one request (captured with log_statement=all), same transaction and round trip "
            "(BEGIN, settings, statement and COMMIT pipelined together), same role, same "
            f"number of clients (`-j 1` at c=1, `-j 2` at c=16), {self.duration}s after a {self.warmup}s "
            "warm-up, run right after the wrk run of the same row.",
            "",
            "| workload | concurrency | our req/s | pgbench tps (ceiling) | ratio % | p50 ms | p99 ms | CPU ms/req |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        ]
        for r in rows:
            r["ratio"] = 100.0 * r["rps"] / r["tps"] if r["tps"] else 0.0
            lines.append(
                f"| {r['workload']} | {r['c']} | {fmt(r['rps'], 0)} | {fmt(r['tps'], 0)} | "
                f"{fmt(r['ratio'], 1)} | {fmt(r['p50'], 3)} | {fmt(r['p99'], 3)} | {fmt(r['cpu_ms'], 3)} |")
        rss_mb = rss_kb / 1024
        cold = min(colds)
        auth_lines, auth_targets = self.auth_report(auth, fmt, mark) if auth else (
            ["", "## Auth", "", "Not measured (--no-auth / BENCH_AUTH=0)."], [])
        breadth_lines, breadth_targets = breadth.report(breadth_result, self, fmt, mark) if breadth_result else (
            ["", "## Request breadth (V-19)", "", "Not measured (--no-breadth / BENCH_BREADTH=0)."], [])
        lines += [
            "",
            "Server CPU per request, user + sys: "
            + ", ".join(f"{r['workload']} c={r['c']}: {fmt(r['user_ms'], 3)} + {fmt(r['sys_ms'], 3)} ms" for r in rows)
            + f" (from /proc/PID/stat utime/stime, {self.clk_tck} ticks/s, over all requests of the run).",
            "",
            "pgbench without pipelining (one round trip per statement): "
            + ", ".join(f"{r['workload']} c={r['c']}: {fmt(r['tps_plain'], 0)} tps" for r in rows) + ".",
            "",
            f"- RSS after warm-up (max of after the W1 c=1 warm-up and at the end): {fmt(rss_mb, 1)} MB",
            f"- Cold start (exec of `serve` to first 200 on W1; best of {len(colds)}): {fmt(cold, 1)} ms "
            f"(all: {', '.join(fmt(c, 1) for c in colds)})",
            *breadth_lines,
            *auth_lines,
            "",
            "## Targets",
            "",
            "| target | measured | result |",
            "| --- | --- | --- |",
        ]
        for r in rows:
            if r["c"] == 16:
                lines.append(f"| {r['workload']} c=16 ≥ {TARGET_RATIO:.0f}% of ceiling | {fmt(r['ratio'], 1)}% | "
                             f"{mark(r['ratio'] >= TARGET_RATIO)} |")
        worst_cpu = max(rows, key=lambda r: r["cpu_ms"])
        lines += [
            f"| ≤ {TARGET_CPU_MS} ms CPU/request (worst row) | {fmt(worst_cpu['cpu_ms'], 3)} ms "
            f"({worst_cpu['workload']} c={worst_cpu['c']}) | {mark(worst_cpu['cpu_ms'] <= TARGET_CPU_MS)} |",
            f"| RSS ≤ {TARGET_RSS_MB:.0f} MB | {fmt(rss_mb, 1)} MB | {mark(rss_mb <= TARGET_RSS_MB)} |",
            f"| cold start ≤ {TARGET_COLD_MS:.0f} ms | {fmt(cold, 1)} ms | {mark(cold <= TARGET_COLD_MS)} |",
            *breadth_targets,
            *auth_targets,
            "",
            "## Captured statements (pgbench scripts)",
            "",
        ]
        for name, _ in WORKLOADS:
            lines.append(f"{name}:")
            lines.append("")
            lines.append("```sql")
            for sql, params in captured[name]:
                lines.append(" ".join(sql.split()) + ";")
                if params:
                    params = [None if p is None else JWT_RE.sub("<jwt>", p) for p in params]
                    lines.append("-- " + ", ".join(
                        f"${i + 1} = {'NULL' if p is None else repr(p) if len(p) < 120 else repr(p[:117] + '...')}"
                        for i, p in enumerate(params)))
            lines.append("```")
            lines.append("")
        return "\n".join(lines)

    def auth_report(self, auth: dict, fmt, mark) -> tuple[list[str], list[str]]:
        """The auth section and its rows of the Targets table."""
        conns, threads = AUTH_LEVEL
        w4, w1a, w1u, bg = auth["w4"], auth["w1_alone"], auth["w1_under"], auth["w4_bg"]

        def statuses(d: dict) -> str:
            return ", ".join(f"{s}: {c}" for s, c in sorted(d.items())) or "none"

        def counts(xs: list[int]) -> str:
            c: dict[int, int] = {}
            for x in xs:
                c[x] = c.get(x, 0) + 1
            return statuses(c)

        probe = auth["probe"]
        xff_first_429 = next((i + 1 for i, s in enumerate(probe["xff"]) if s == 429), None)
        email_first_429 = next((i + 1 for i, s in enumerate(probe["email"]) if s == 429), None)
        xff_verdict = ("not honoured: the per-IP key is the socket peer address"
                       if xff_first_429 else "honoured (no 429)")
        shim = "yes" if self.shim else "**no** (" + (auth["tool_notes"] or "?") + ")"
        lines = [
            "",
            "## Auth: password grants (W4)",
            "",
            f"- W4: `POST {W4_PATH}` with `{{\"email\", \"password\"}}` of one of {self.auth_users:,} users created "
            "through `POST /auth/v1/signup` (`MAILER_AUTOCONFIRM=true`, so every sign-up returns a session), "
            "headers `apikey: <anon key>`, `Content-Type: application/json`.",
            "",
            f"Server: `serve` after `migrate-auth`, with `AUTH_PROVIDER=native`, `AUTH_DATABASE_URL=<superuser url>`, "
            f"`MAILER_AUTOCONFIRM=true`. wrk `-t{threads} -c{conns} --latency`, {self.duration}s after a {self.warmup}s "
            f"warm-up, one user after another ({self.grants_sent:,} grants over {self.auth_users:,} users in the "
            f"whole auth part, ≤ {-(-self.grants_sent // self.auth_users) + 1} per email), `Connection: close` on every request and, through "
            "`bench/loopback_source.c` (LD_PRELOAD into wrk), every connection from a new loopback address "
            f"127.64.x.y (shim in use: {shim}). Why: the server limits password grants to 30 per 5 minutes per "
            "client IP and 10 per 5 minutes per email (`RateLimits::default()`, no environment setting), and "
            "measured just now:",
            f"  - per IP: 31 grants from 127.0.0.1, each with its own `X-Forwarded-For` and email: {counts(probe['xff'])}"
            f" (first 429 at #{xff_first_429}) — `X-Forwarded-For` is {xff_verdict} (`serve` attaches the peer address).",
            f"  - per email: 11 grants for one email, each from its own address: {counts(probe['email'])}"
            f" (first 429 at #{email_first_429}).",
            "  So from one address a run can make at most 30 grants (then 1 per 10 s): the fresh addresses stand "
            "for many clients signing in, the user pool for many users. Each request pays a TCP connect (loopback) "
            "besides the grant.",
            "",
            "| workload | concurrency | grants/s (200s) | non-200 | p50 ms | p99 ms | CPU ms/grant |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            f"| W4 | {conns} | {fmt(w4['ok_rps'], 1)} | {w4['non200']} | {fmt(w4['p50'], 1)} | {fmt(w4['p99'], 1)} | "
            f"{fmt(w4['cpu_ms'], 2)} |",
            "",
            f"W4 statuses: {statuses(w4['statuses'])} (warm-up: {statuses(auth['w4_warmup']['statuses'])}). "
            f"Server CPU per grant, user + sys: {fmt(w4['user_ms'], 2)} + {fmt(w4['sys_ms'], 2)} ms (/proc/PID/stat, "
            "all server threads, divided by the 200s). Server RSS: "
            f"{fmt(auth['rss_kb_before'] / 1024, 1)} MB after the sign-ups, {fmt(auth['rss_kb'] / 1024, 1)} MB "
            "after the auth runs (not a target).",
        ]
        if w4.get("socket_errors"):
            lines.append(f"wrk: {w4['socket_errors']}.")
        kdf = auth.get("kdf")
        if kdf:
            v = kdf["verify"]
            ratio = w4["cpu_ms"] / v["cpu_ms"] if v["cpu_ms"] else float("inf")
            lines += [
                "",
                f"CPU per grant vs bare argon2id verify: {fmt(w4['cpu_ms'], 2)} ms vs {fmt(v['cpu_ms'], 2)} ms "
                f"({fmt(ratio, 2)}x). Bare: `crates/pgrest-auth/examples/kdf_cost.rs`, "
                f"`pgrest_auth::password::verify_password` with `KdfParams::default()` ({kdf['params']}), "
                f"{v['n']} runs one at a time on a current-thread runtime, process CPU from /proc/self/stat "
                f"(wall {fmt(v['wall_ms'], 2)} ms per verification; `hash_password`: {fmt(kdf['hash']['cpu_ms'], 2)} ms CPU, "
                f"{fmt(kdf['hash']['wall_ms'], 2)} ms wall). With {os.cpu_count()} CPUs, argon2id alone allows at most "
                f"~{fmt((os.cpu_count() or 1) * 1000 / v['cpu_ms'], 0)} grants/s.",
            ]
        else:
            lines += ["", f"CPU per grant vs bare argon2id verify: n/a ({auth['tool_notes']})."]
        p99_ratio = w1u["p99"] / w1a["p99"] if w1a["p99"] else float("inf")
        lines += [
            "",
            f"Reads under grants: W1 `-t{threads} -c{conns}` for {self.duration}s alone (after a {self.warmup}s warm-up), "
            f"then again while W4 `-t{threads} -c{conns}` runs (started 1 s before, ending after).",
            "",
            "| run | W1 req/s | p50 ms | p99 ms |",
            "| --- | ---: | ---: | ---: |",
            f"| W1 c={conns} alone | {fmt(w1a['rps'], 0)} | {fmt(w1a['p50'], 3)} | {fmt(w1a['p99'], 3)} |",
            f"| W1 c={conns} with W4 c={conns} running | {fmt(w1u['rps'], 0)} | {fmt(w1u['p50'], 3)} | {fmt(w1u['p99'], 3)} |",
            "",
            f"W1 p99 with grants / alone: {fmt(p99_ratio, 2)}x (p50: {fmt(w1u['p50'] / w1a['p50'] if w1a['p50'] else 0, 2)}x). "
            f"W4 meanwhile: {fmt(bg['ok_rps'], 1)} grants/s, p50 {fmt(bg['p50'], 1)} ms, p99 {fmt(bg['p99'], 1)} ms, "
            f"statuses {statuses(bg['statuses'])}.",
        ]
        non200 = w4["non200"] + bg["non200"]
        if non200 or auth.get("rate_limited"):
            lines += [
                "",
                f"**W4 is not valid**: {non200} non-200 responses; rate-limit refusals in the server log by limiter: "
                f"{statuses(auth.get('rate_limited', {}))} (`token_password_ip` = `RateLimits::password_per_ip`, "
                "30/5 min; `token_password_email` = `password_per_email`, 10/5 min). Neither can be raised from the "
                "environment; proposed: `AUTH_RATE_LIMIT_TOKEN_PASSWORD` (per IP) and "
                "`AUTH_RATE_LIMIT_TOKEN_PASSWORD_EMAIL` (per email), events per 5 minutes.",
            ]
        targets = [
            f"| W4 valid: 0 non-200 responses (alone + under W1) | {non200} | {mark(non200 == 0)} |",
            f"| reads' p99 under grants ≤ {TARGET_READ_P99_RATIO:.0f}x alone (W1 c={conns}) | {fmt(p99_ratio, 2)}x "
            f"({fmt(w1u['p99'], 3)} vs {fmt(w1a['p99'], 3)} ms) | {mark(p99_ratio <= TARGET_READ_P99_RATIO)} |",
        ]
        return lines, targets

    def cleanup(self) -> None:
        self.stop_server()
        stop(self.pg, signal.SIGINT, timeout=15)  # SIGINT: fast shutdown
        if os.environ.get("BENCH_KEEP") == "1":
            log(f"kept {self.tmp}")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


JWT_RE = re.compile(r"eyJ[\w-]*\.[\w-]*\.[\w-]*")
PARAM_RE = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")


def parse_logged_statement(msg: str, detail: str | None) -> tuple[str | None, list[str | None]]:
    """`statement: SQL` (simple protocol) or `execute <name>: SQL` with the parameters in
    DETAIL (`parameters: $1 = '...', $2 = NULL`)."""
    if msg.startswith("statement: "):
        return msg[len("statement: "):].strip().rstrip(";"), []
    m = re.match(r"execute [^:]*: (.*)\Z", msg, re.S)
    if not m:
        return None, []
    sql = m.group(1).strip()
    params: dict[int, str | None] = {}
    if detail and detail.startswith("parameters: "):
        for pm in PARAM_RE.finditer(detail):
            v = pm.group(2)
            params[int(pm.group(1))] = None if v == "NULL" else v[1:-1].replace("''", "'")
    return sql, [params.get(i) for i in range(1, max(params, default=0) + 1)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", required=True, help="pgrest-lambda binary (release)")
    ap.add_argument("--pg-bin", required=True, help="folder with initdb, postgres, psql, pgbench")
    ap.add_argument("--duration", type=int, default=int(os.environ.get("BENCH_DURATION", "10")))
    ap.add_argument("--warmup", type=int, default=int(os.environ.get("BENCH_WARMUP", "3")))
    ap.add_argument("--cold-starts", type=int, default=int(os.environ.get("BENCH_COLD_STARTS", "5")))
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "latest.md"))
    ap.add_argument("--auth", action=argparse.BooleanOptionalAction,
                    default=os.environ.get("BENCH_AUTH", "1") != "0",
                    help="also measure /auth/v1 password grants (W4); default on, BENCH_AUTH=0 turns it off")
    ap.add_argument("--auth-users", type=int, default=int(os.environ.get("BENCH_AUTH_USERS", "0")),
                    help="users to sign up for W4 (default: enough for the per-email limit)")
    ap.add_argument("--breadth", action=argparse.BooleanOptionalAction,
                    default=os.environ.get("BENCH_BREADTH", "1") != "0",
                    help="also measure W1 under a breadth attack (bench/breadth.py); BENCH_BREADTH=0 turns it off")
    ap.add_argument("--only", choices=["breadth"], default=os.environ.get("BENCH_ONLY") or None,
                    help="run only this row (BENCH_ONLY=breadth)")
    ap.add_argument("--pg-as-mb", type=int, default=int(os.environ.get("BENCH_PG_AS_MB", "0")),
                    help="cap each PostgreSQL process's address space (MB; BENCH_PG_AS_MB), 0: no cap")
    args = ap.parse_args()

    bench = Bench(args)

    def on_signal(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, on_signal)
    try:
        report = bench.run()
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    except Exception as e:  # report and clean up
        log(f"error: {e}")
        return 1
    finally:
        bench.cleanup()
    print(report)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(report + "\n")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
