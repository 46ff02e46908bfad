"""The breadth row of the benchmark (issue 6, V-19): W1 under wrk while attackers send wide
nested-embed selects with the anon key, as the security review did.

Each of ATTACKERS threads sends `GET /rest/v1/users?select=a0:posts(id,users(id,posts(id))),...`
(ATTACK_EMBEDS top-level embeds, three levels each: 150 embeds in 1.7 KB of URL), waits for the
answer, pauses ATTACK_PAUSE_S and sends again. Before the breadth limits one such request made one
PostgreSQL backend grow by hundreds of MB for ~10 s, and eight at once held every pooled connection;
with them each is a 400 PGRST100 answered before any SQL. Measured: W1 alone and while the attack
runs (req/s, p50, p99, errors), the attack's statuses, and the PostgreSQL backends' RSS (from ps,
the postmaster's children) before and at its peak during the attack.

Only measures; the numbers go into the report (bench.py) with a target row.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections import Counter

ATTACKERS = 8
ATTACK_EMBEDS = 50
ATTACK_PAUSE_S = 0.1  # between one attacker's requests: the attack is the breadth, not a flood
LEVEL = (4, 2)  # W1 (concurrency, wrk threads), alone and under attack
TARGET_P99_RATIO = 2.0  # W1 p99 under attack / alone
TARGET_RPS_RATIO = 0.5  # W1 req/s under attack / alone


def attack_path(embeds: int = ATTACK_EMBEDS) -> str:
    select = ",".join(f"a{i}:posts(id,users(id,posts(id)))" for i in range(embeds))
    return f"/rest/v1/users?select={select}"


def backend_rss_kb(postmaster_pid: int) -> tuple[int, int]:
    """(largest backend, all backends) RSS in kB: the postmaster's children, from ps."""
    out = subprocess.run(["ps", "-o", "rss=", "--ppid", str(postmaster_pid)],
                         capture_output=True, text=True).stdout
    sizes = [int(x) for x in out.split()]
    return max(sizes, default=0), sum(sizes)


class Sampler(threading.Thread):
    """Peak backend RSS every 50 ms until stopped."""

    def __init__(self, postmaster_pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = postmaster_pid
        self.stop_event = threading.Event()
        self.peak_one = 0
        self.peak_all = 0

    def run(self) -> None:
        while not self.stop_event.is_set():
            one, total = backend_rss_kb(self.pid)
            self.peak_one, self.peak_all = max(self.peak_one, one), max(self.peak_all, total)
            time.sleep(0.05)


def run(bench, w1_path: str, http_get) -> dict:
    """W1 alone, then W1 while the attack runs; `bench` is the running Bench (server and
    PostgreSQL helpers), `http_get` its raw-socket GET."""
    conns, threads = LEVEL
    bench.start_server()
    try:
        bench.wrk(w1_path, conns, threads, bench.warmup, latency=False)
        before = backend_rss_kb(bench.pg.pid)
        alone = bench.wrk(w1_path, conns, threads, bench.duration, latency=True, allow_errors=True)

        path = attack_path()
        statuses: Counter = Counter()
        lock = threading.Lock()
        stop = threading.Event()

        def attacker() -> None:
            while not stop.is_set():
                try:
                    status, _ = http_get(bench.api_port, path, bench.anon_key, timeout=120)
                except OSError:
                    status = "no answer"
                with lock:
                    statuses[status] += 1
                stop.wait(ATTACK_PAUSE_S)

        sampler = Sampler(bench.pg.pid)
        sampler.start()
        attackers = [threading.Thread(target=attacker, daemon=True) for _ in range(ATTACKERS)]
        for t in attackers:
            t.start()
        time.sleep(1.0)  # the attack is under way before W1 is measured
        under = bench.wrk(w1_path, conns, threads, bench.duration, latency=True, allow_errors=True)
        stop.set()
        for t in attackers:
            t.join(timeout=130)
        sampler.stop_event.set()
        sampler.join()
        after = backend_rss_kb(bench.pg.pid)
        return {"alone": alone, "under": under, "statuses": dict(statuses), "url_bytes": len(path),
                "rss_before": before, "rss_peak": (sampler.peak_one, sampler.peak_all), "rss_after": after,
                "postgres_alive": bench.pg.poll() is None}
    finally:
        bench.stop_server()


def report(result: dict, bench, fmt, mark) -> tuple[list[str], list[str]]:
    """The breadth section and its rows of the Targets table."""
    conns, threads = LEVEL
    alone, under = result["alone"], result["under"]
    ratio = under["p99"] / alone["p99"] if alone.get("p99") else float("inf")
    rps_ratio = under["rps"] / alone["rps"] if alone["rps"] else 0.0
    statuses = ", ".join(f"{s}: {c}" for s, c in sorted(result["statuses"].items(), key=str)) or "none"
    mb = lambda kb: fmt(kb / 1024, 1)  # noqa: E731
    (b1, ball), (p1, pall), (a1, aall) = result["rss_before"], result["rss_peak"], result["rss_after"]
    attack_ok = set(result["statuses"]) == {400}
    errors = alone.get("errors", 0) + under.get("errors", 0)
    lines = [
        "",
        "## Request breadth (V-19)",
        "",
        f"W1 `-t{threads} -c{conns}` for {bench.duration}s alone (after a {bench.warmup}s warm-up), then again while "
        f"{ATTACKERS} attackers each send `GET {attack_path(2)[:60]}...` with {ATTACK_EMBEDS} top-level embeds "
        f"({3 * ATTACK_EMBEDS} embeds, {result['url_bytes']} bytes of URL), one at a time with {ATTACK_PAUSE_S * 1000:.0f} ms between.",
        "",
        "| run | W1 req/s | p50 ms | p99 ms | W1 errors (non-2xx, socket) |",
        "| --- | ---: | ---: | ---: | ---: |",
        f"| W1 c={conns} alone | {fmt(alone['rps'], 0)} | {fmt(alone['p50'], 3)} | {fmt(alone['p99'], 3)} | {alone.get('errors', 0)} |",
        f"| W1 c={conns} under the breadth attack | {fmt(under['rps'], 0)} | {fmt(under['p50'], 3)} | {fmt(under['p99'], 3)} | {under.get('errors', 0)} |",
        *(["", "(p50/p99 `inf`: no W1 request completed in the window.)"] if under["requests"] == 0 else []),
        "",
        f"Attack requests answered: {statuses}. PostgreSQL backends' RSS (largest / all): before {mb(b1)} / {mb(ball)} MB, "
        f"peak during the attack {mb(p1)} / {mb(pall)} MB, after {mb(a1)} / {mb(aall)} MB; "
        f"PostgreSQL {'still up' if result['postgres_alive'] else '**exited**'}.",
    ]
    targets = [
        f"| breadth attack refused: every attack request 400 | {statuses} | {mark(attack_ok)} |",
        f"| W1 keeps answering under the breadth attack: requests completed, 0 errors | {under['requests']} completed, "
        f"{errors} errors | {mark(errors == 0 and under['requests'] > 0)} |",
        f"| W1 req/s under the breadth attack ≥ {TARGET_RPS_RATIO * 100:.0f}% of alone | {fmt(rps_ratio * 100, 1)}% | {mark(rps_ratio >= TARGET_RPS_RATIO)} |",
        f"| W1 p99 under the breadth attack ≤ {TARGET_P99_RATIO:.0f}x alone | {fmt(ratio, 2)}x | {mark(ratio <= TARGET_P99_RATIO)} |",
    ]
    return lines, targets
