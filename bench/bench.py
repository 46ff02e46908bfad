#!/usr/bin/env python3
"""pgrest-lambda benchmark; run through bench/run.sh (which builds the release binary).

Starts a private PostgreSQL cluster on loopback, loads bench/dataset.sql, and measures two
read workloads through `pgrest-lambda serve` with wrk, against a ceiling: pgbench running
the very statements the server sent for one request of each workload (captured from the
PostgreSQL log), in the same transaction shape. Also measures server CPU per request, RSS
and cold start. Prints a Markdown report and writes it to bench/out/latest.md.

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
    req = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\napikey: {apikey}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
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
        self.pg = subprocess.Popen(
            self.as_pg + [self.pg_tool("postgres"), "-D", str(data), "-k", str(self.tmp),
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

    # ---- server ----------------------------------------------------------------------------
    def server_cmd(self) -> list[str]:
        return [self.bin, "serve", "--port", str(self.api_port), "--database-url", self.db_url,
                "--jwt-secret", self.secret]

    def server_env(self) -> dict[str, str]:
        return dict(os.environ)

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

        pipelined=True groups the statements into the server's two round trips (BEGIN with
        the settings, then the statement with COMMIT), see crates/pgrest-core/src/db/transaction.rs."""
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
            body = ["\\startpipeline", lines[0], lines[1], "\\endpipeline",
                    "\\startpipeline", lines[2], lines[3], "\\endpipeline"]
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
    def wrk(self, path: str, conns: int, threads: int, seconds: int, latency: bool) -> dict:
        url = f"http://127.0.0.1:{self.api_port}{path}"
        cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{seconds}s", "-H", f"apikey: {self.anon_key}"]
        if latency:
            cmd.append("--latency")
        cmd.append(url)
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 60)
        if res.returncode != 0:
            raise RuntimeError(f"wrk failed: {res.stderr}")
        out = res.stdout
        if "Non-2xx or 3xx responses" in out or "Socket errors" in out:
            raise RuntimeError(f"wrk saw errors:\n{out}")
        reqs = int(re.search(r"(\d+) requests in", out).group(1))
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
        result = {"requests": reqs, "rps": rps}
        if latency:
            for pct in ("50", "99"):
                m = re.search(rf"^\s+{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
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

        return self.report(rows, rss_kb, colds, captured)

    def report(self, rows: list[dict], rss_kb: int, colds: list[float], captured: dict) -> str:
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
            "for one request (captured with log_statement=all), same transaction and round trips "
            "(BEGIN + settings, then the statement + COMMIT, each pair pipelined), same role, same "
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
