"""Latency and throughput of a turn append on the real-time service.

    .venv/bin/python bench/bench_service.py [--levels 1,8,32] [--requests 600]
        [--max-seconds 20] [--db URL] [--json bench/results/service.json]
        [--engine baseline|agent] [--model DIR] [--client httpx|raw] [--rate TURNS_PER_S]

Starts ``salesrl serve`` (the placeholder engine, or the agent) as a subprocess on 127.0.0.1 (a
free port, a fresh SQLite file in a temporary folder unless ``--db`` is given), creates an API
key, then for each concurrency level runs that many asyncio workers (httpx, or with ``--client
raw`` a minimal HTTP/1.1 client that costs less CPU; keep-alive either way), each
appending turns to its own conversation, until ``--requests`` appends or ``--max-seconds`` have
passed. Reports the p50 / p90 / p99 / max latency of an append as the client sees it (request
sent -> 201 read), the throughput, and the CPU time per append of the server process and of
this client (steadier than latency on a shared machine). Every append is durable (SQLite WAL,
synchronous=FULL) before it is answered.

Closed loop by default: each worker sends its next append as soon as the last one is answered,
so the load is as high as the server allows and, by Little's law, p50 latency is about
concurrency / throughput (at concurrency 8, p50 <= 15 ms needs about 530 answers/s). With
``--rate R`` the load is open loop instead: appends arrive at R per second in all (a Poisson
process, split evenly over the conversations, each conversation's turns still one after the
other, as in a live call), and a latency is measured from the append's *scheduled* time, so a
server that falls behind is charged for the wait (no coordinated omission; Tene, "How NOT to
measure latency", 2015). This is the question a deployment asks: at 150 turns/s from 8 live
calls, how long does an append take?

Targets (issue): at concurrency 8, p50 <= 15 ms, p99 <= 50 ms and >= 150 turns/s, on a quiet
machine. The client runs on the same machine as the server, so on a small box it competes for
the CPU and the numbers are pessimistic.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table

from salesrl.service.auth import generate_key, hash_key
from salesrl.service.storage import Database, Repository

TARGET = {"concurrency": 8, "p50_ms": 15.0, "p99_ms": 50.0, "turns_per_s": 150.0}
LINES = [("rep", "Hi, thanks for taking the time today. How is your team handling this now?"),
         ("customer", "We use spreadsheets, honestly. What does your tool cost?"),
         ("rep", "It is $20 per seat per month, and most teams see the value in a week."),
         ("customer", "Hmm, that sounds a bit too expensive for us right now."),
         ("rep", "We could start with a pilot for your team of five."),
         ("customer", "OK, sounds good. Send me the contract and we'll go ahead.")]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[k]


def start_server(db_url: str, port: int, log: Path, engine: str = "baseline",
                 model: Path | None = None, omp_threads: int | None = None
                 ) -> subprocess.Popen:
    """``salesrl serve`` in a subprocess: the placeholder engine, or the agent (``model`` or
    the shipped one), so the benchmark measures what users run."""
    # the server's thread pools are sized by salesrl serve itself (one thread each unless
    # OMP_NUM_THREADS is set), not by the benchmark: drop what make exported for the tests
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")}
    if omp_threads is not None:
        env["OMP_NUM_THREADS"] = str(omp_threads)
    salesrl = str(Path(sys.executable).with_name("salesrl"))
    cmd = [salesrl, "serve", "--port", str(port), "--db", db_url, "--log-level", "warning"]
    if engine == "baseline":
        cmd.append("--baseline")
    elif model is not None:
        cmd += ["--model", str(model)]
    proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start within 60 s")


class RawClient:
    """One keep-alive HTTP/1.1 connection that POSTs JSON and reads the status and body.

    Written by hand (``--client raw``) because the client shares the machine's cores with the
    server: httpx spends more CPU per request than the server does, which on 2 cores is taken
    from the server; this parses only what the benchmark needs (the server always answers with
    a Content-Length)."""

    def __init__(self, host: str, port: int, key: str) -> None:
        self.host, self.port = host, port
        self.head = (f"Host: {host}:{port}\r\nAuthorization: Bearer {key}\r\n"
                     "Content-Type: application/json\r\n").encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        """Open the connection now (so that the first timed append does not)."""
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def post(self, path: str, payload: dict[str, Any]) -> int:
        """POST ``payload`` to ``path``; returns the status once the whole body is read."""
        await self.connect()
        assert self.reader is not None
        body = json.dumps(payload).encode()
        self.writer.write(b"POST " + path.encode() + b" HTTP/1.1\r\n" + self.head
                          + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        await self.reader.readexactly(length)
        return int(head[9:12])

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            await self.writer.wait_closed()


async def run_level(base: str, key: str, concurrency: int, requests: int,
                    max_seconds: float, server_pid: int | None = None,
                    client_kind: str = "httpx", rate: float | None = None,
                    seed: int = 0) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {key}"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, headers=headers, limits=limits,
                                 timeout=30) as client:
        convs = [(await client.post("/v1/conversations", json={"metadata": {
            "rep_id": f"bench-{i % 4}"}})).json()["id"] for i in range(concurrency)]
        for conv in convs:  # warm-up: one append each (connections, caches)
            await client.post(f"/v1/conversations/{conv}/turns",
                              json={"role": "rep", "text": "warm-up"})
        budget = requests
        stop_at = time.perf_counter() + max_seconds

        url = httpx.URL(base)
        raws = [RawClient(url.host, url.port or 80, key) for _ in convs]
        if client_kind == "raw":
            for raw in raws:
                await raw.connect()

        async def post(i: int, path: str, payload: dict[str, Any]) -> int:
            if client_kind == "raw":
                return await raws[i].post(path, payload)
            return (await client.post(path, json=payload)).status_code

        rng = random.Random(seed)

        async def worker(i: int, conv: str) -> None:
            nonlocal budget, errors
            n = 0
            due = start  # open loop: this conversation's next scheduled send time
            while budget > 0 and time.perf_counter() < stop_at:
                budget -= 1
                role, text = LINES[n % len(LINES)]
                n += 1
                if rate is not None:
                    due += rng.expovariate(rate / concurrency)
                    wait = due - time.perf_counter()
                    if wait > 0:
                        await asyncio.sleep(wait)
                t0 = time.perf_counter() if rate is None else due
                status = await post(i, f"/v1/conversations/{conv}/turns",
                                    {"role": role, "text": text})
                dt = time.perf_counter() - t0
                if status == 201:
                    latencies.append(dt)
                else:
                    errors += 1

        hist0 = await histograms(client)
        server_cpu0 = cpu_seconds(server_pid)
        client_cpu0 = time.process_time()
        t0 = start = time.perf_counter()
        await asyncio.gather(*(worker(i, c) for i, c in enumerate(convs)))
        wall = time.perf_counter() - t0
        client_cpu = time.process_time() - client_cpu0
        server_cpu = cpu_seconds(server_pid) - server_cpu0
        for raw in raws:
            await raw.close()
        hist1 = await histograms(client)
    ms = [x * 1000 for x in latencies]
    n = max(len(latencies), 1)
    # CPU per append (user + system, all threads) is steadier than latency on a shared machine.
    return {"concurrency": concurrency, "client": client_kind, "offered_rate": rate,
            "appends": len(latencies),
            "errors": errors,
            "seconds": wall, "p50_ms": percentile(ms, 50), "p90_ms": percentile(ms, 90),
            "p99_ms": percentile(ms, 99), "max_ms": max(ms) if ms else float("nan"),
            "turns_per_s": len(latencies) / wall if wall > 0 else float("nan"),
            "server_cpu_ms_per_append": server_cpu * 1000 / n,
            "client_cpu_ms_per_append": client_cpu * 1000 / n,
            "turns_per_commit": per_event(hist0, hist1, "salesrl_commit_group_turns"),
            "turns_per_model_call": per_event(hist0, hist1, "salesrl_score_batch_turns")}


async def histograms(client: httpx.AsyncClient) -> dict[str, float]:
    """Sums and counts of the server's group-commit and scoring-batch histograms so far (a
    server without them gives none)."""
    text = (await client.get("/metrics")).text
    found = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith(("salesrl_commit_group_turns_", "salesrl_score_batch_turns_")) and (
                name.endswith(("_sum", "_count"))):
            found[name] = float(value)
    return found


def per_event(before: dict[str, float], after: dict[str, float], name: str) -> float:
    """Mean of histogram ``name`` between two scrapes (NaN if the server has no such one)."""
    try:
        n = after[f"{name}_count"] - before[f"{name}_count"]
        return (after[f"{name}_sum"] - before[f"{name}_sum"]) / n if n > 0 else float("nan")
    except KeyError:
        return float("nan")


def cpu_seconds(pid: int | None) -> float:
    """User + system CPU seconds of a process so far (NaN without a pid)."""
    try:
        import psutil  # installed with locust (dev)
    except ImportError:  # pragma: no cover
        return float("nan")
    if pid is None:
        return float("nan")
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--levels", default="1,8,32", help="comma-separated concurrency levels")
    ap.add_argument("--requests", type=int, default=600, help="appends per level (at most)")
    ap.add_argument("--max-seconds", type=float, default=20.0, help="time cap per level")
    ap.add_argument("--db", help="database URL (default: a fresh SQLite file)")
    ap.add_argument("--server-omp-threads", type=int, default=None,
                    help="OMP_NUM_THREADS of the server (default: unset, as a user runs it)")
    ap.add_argument("--json", type=Path, default=Path("bench/results/service.json"))
    ap.add_argument("--engine", choices=("baseline", "agent"), default="baseline",
                    help="placeholder engine, or the RL agent (MiniLM embedding per turn)")
    ap.add_argument("--model", type=Path, help="agent model directory (default: shipped)")
    ap.add_argument("--client", choices=("httpx", "raw"), default="httpx",
                    help="httpx, or a minimal HTTP/1.1 client that leaves more CPU to the server")
    ap.add_argument("--rate", type=float, help="open loop: appends per second in all (Poisson "
                    "arrivals, latency from the scheduled time); default: closed loop")
    args = ap.parse_args()
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    console = Console(width=200)
    with tempfile.TemporaryDirectory(prefix="salesrl-bench-") as tmp:
        db_url = args.db or f"sqlite:///{Path(tmp) / 'bench.db'}"
        db = Database(db_url, pool_size=1)
        db.migrate()
        key = generate_key()
        Repository(db).create_api_key("bench", hash_key(key), key[:8])
        db.dispose()
        port = free_port()
        proc = start_server(db_url, port, Path(tmp) / "server.log", args.engine, args.model,
                            args.server_omp_threads)
        try:
            rows = [asyncio.run(run_level(f"http://127.0.0.1:{port}", key, c, args.requests,
                                          args.max_seconds, proc.pid, args.client, args.rate))
                    for c in levels]
        finally:
            proc.terminate()
            proc.wait(timeout=15)

    load = "closed loop" if args.rate is None else f"open loop at {args.rate:g} appends/s"
    table = Table(title="turn append (POST /v1/conversations/{id}/turns), durable SQLite, "
                  f"{args.engine} engine, {args.client} client, {load}")
    for col in ("concurrency", "appends", "errors", "p50 ms", "p90 ms", "p99 ms", "max ms",
                "turns/s", "server CPU ms/append", "client CPU ms/append", "turns/commit",
                "turns/model call"):
        table.add_column(col, justify="right")
    for r in rows:
        table.add_row(str(r["concurrency"]), str(r["appends"]), str(r["errors"]),
                      f"{r['p50_ms']:.1f}", f"{r['p90_ms']:.1f}", f"{r['p99_ms']:.1f}",
                      f"{r['max_ms']:.1f}", f"{r['turns_per_s']:.0f}",
                      f"{r['server_cpu_ms_per_append']:.2f}",
                      f"{r['client_cpu_ms_per_append']:.2f}", f"{r['turns_per_commit']:.1f}",
                      f"{r['turns_per_model_call']:.1f}")
    console.print(table)
    at = next((r for r in rows if r["concurrency"] == TARGET["concurrency"]), None)
    verdict = None
    if at is not None:
        verdict = {"p50": at["p50_ms"] <= TARGET["p50_ms"], "p99": at["p99_ms"] <= TARGET["p99_ms"],
                   "throughput": at["turns_per_s"] >= TARGET["turns_per_s"]}
        console.print(f"targets at concurrency {TARGET['concurrency']}: "
                      + ", ".join(f"{k} {'ok' if v else 'MISSED'}" for k, v in verdict.items()),
                      highlight=False)
    report = {"benchmark": "service_turn_append", "engine": args.engine, "client": args.client,
              "load": load, "server_omp_threads": args.server_omp_threads,
              "db": "sqlite" if not args.db else "custom",
              "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                          "platform": platform.platform(),
                          "load_avg": os.getloadavg() if hasattr(os, "getloadavg") else None},
              "levels": rows, "target": TARGET, "target_met": verdict}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=1))
    console.print(f"wrote {args.json}", highlight=False)


if __name__ == "__main__":
    main()
