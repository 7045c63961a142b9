"""API benchmark: cache misses and hits over real HTTP against a 1M-customer snapshot.

The server is the production app under uvicorn (one worker, JSON access log to a file) plus a
bare route returning a constant; the load comes from locust in a separate process. Misses are
measured on a server with the cache off (every request runs its queries on DuckDB), hits on
one with the cache on after a warm-up request. Latency is measured with one user (no
queueing); throughput with several concurrent users.
"""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import httpx
import psutil

from bench.pipeline import ensure_raw
from bench.report import machine_line, write_section
from c360_api.auth.scopes import ALL_SCOPES
from c360_api.auth.store import CredentialStore
from c360_api.engine import SNAPSHOT_TABLES
from c360_api.settings import ApiSettings
from c360_api.snapshots import PublishedSnapshot, current_snapshot

BARE_PATH = "/bench/bare"
LATENCY_USERS = 1
THROUGHPUT_USERS = 8
SECONDS = 20
TARGET_MISS_P50_MS = 25
TARGET_MISS_P99_MS = 100
TARGET_HIT_RATIO = 0.70


@dataclass(frozen=True)
class Case:
    """One measured request, with its cache-miss p50 target."""

    label: str
    path: str
    target_p50_ms: float = TARGET_MISS_P50_MS


def cases(customer_id: str) -> list[Case]:
    """The measured requests; `customer_id` is a customer with a long purchase history."""
    return [
        Case("churn-risk list: filter + sort 1M rows, page of 100",
             "/marketing/churn-risk-customers?min_lifetime_value=500&limit=100"),
        Case("lifetime value by segment: group by over 1M rows",
             "/finance/customer-lifetime-value"),
        Case("customer profiles: 2 statuses + health filter, page of 100",
             "/analytics/customer-profiles?customer_status=Active&customer_status=New"
             "&min_health_score=3&limit=100"),
        Case("category insights: a small insight table", "/product/category-insights"),
        Case("customer detail: one customer_360 row", f"/api/v1/customers/{customer_id}", 15),
        Case("transaction history: one customer's page of 50, newest first",
             f"/api/v1/customers/{customer_id}/transactions", 30),
        Case("directory: status + health filter, by spend, page 2 of 50",
             "/api/v1/customers?customer_status=Active&min_health_score=3&sort=total_spent"
             "&order=desc&page=2", 50),
    ]  # fmt: skip


def busy_customer(snapshot: PublishedSnapshot) -> str:
    """A customer at the 90th percentile of orders (a full history page, not the extreme)."""
    pattern = str(snapshot.path / "customer_360" / "*.parquet")
    with duckdb.connect() as connection:
        row = connection.execute(
            "with customers as (select customer_id, orders from read_parquet($pattern)) "
            "select min(customer_id) from customers "
            "where orders >= (select quantile_disc(orders, 0.9) from customers)",
            {"pattern": pattern},
        ).fetchone()
    if row is None or row[0] is None:
        raise SystemExit(f"snapshot {snapshot.snapshot_id} has no customer with orders")
    return str(row[0])


@dataclass(frozen=True)
class LoadResult:
    """Locust's summary of one run, and the server's CPU use during it."""

    requests: int
    failures: int
    p50_ms: float
    p99_ms: float
    rps: float
    server_cpu: float


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _build_snapshot(raw: Path, data_dir: Path, org: str) -> None:
    published = current_snapshot(data_dir, org)
    # A snapshot an older pipeline wrote may lack a table the API now serves: rebuild then.
    if published is not None and set(SNAPSHOT_TABLES) <= set(published.manifest["tables"]):
        print(f"[bench api] reusing the published snapshot of {org}", flush=True)
        return
    print(f"[bench api] building the {org} snapshot from {raw}", flush=True)
    env = {**os.environ, "C360_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "-m", "c360_pipeline.cli", "run", "--org", org, "--input", str(raw)],
        env=env,
        check=True,
    )


def bench_key(data_dir: Path, org: str) -> str:
    """An API key of `org` with every scope, in the credential store the server will read
    (the previous bench key of `org` is revoked: one active at a time)."""
    store = CredentialStore(ApiSettings(data_dir=data_dir).auth_db_path)
    try:
        return store.create_key(org, ALL_SCOPES, name="bench", replace=True).key
    finally:
        store.close()


class Server:
    """uvicorn serving bench.api_server in a child process."""

    def __init__(self, data_dir: Path, org: str, *, cache: bool, log_path: Path) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "C360_DATA_DIR": str(data_dir),
            "C360_ORG": org,
            "C360_CACHE_TTL_SECONDS": "1800" if cache else "0",
            # Throughput rows send thousands of requests a minute with one key.
            "C360_RATE_LIMIT_PER_MINUTE": "0",
        }
        command = [
            sys.executable, "-m", "uvicorn", "bench.api_server:create_bench_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log",
            "--log-level", "warning",
        ]  # fmt: skip
        self._log = log_path.open("w")
        self.process = subprocess.Popen(command, env=env, stdout=self._log, stderr=self._log)
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"API server did not start; see {log_path}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        self.process.wait(timeout=30)
        self._log.close()


def _load(server: Server, path: str, users: int, work: Path, key: str) -> LoadResult:
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=server.url, headers=headers, timeout=30) as client:
        for _ in range(3):  # warm up: first query plans, and the cache entry for hits
            client.get(path).raise_for_status()
    prefix = work / "locust"
    command = [
        sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("locustfile.py")),
        "--headless", "--only-summary", "--host", server.url, "--url-path", path,
        "-u", str(users), "-r", str(users), "-t", f"{SECONDS}s", "--csv", str(prefix),
        "--loglevel", "WARNING",
    ]  # fmt: skip
    proc = psutil.Process(server.process.pid)
    proc.cpu_times()
    before = proc.cpu_times()
    started = time.monotonic()
    # The key reaches locust through its environment, not its (world-readable) command line.
    env = {**os.environ, "C360_BENCH_API_KEY": key}
    subprocess.run(command, check=True, capture_output=True, env=env)
    after = proc.cpu_times()
    cpu = (after.user + after.system - before.user - before.system) / (time.monotonic() - started)
    with (work / "locust_stats.csv").open() as handle:
        row = next(r for r in csv.DictReader(handle) if r["Name"] == "Aggregated")
    return LoadResult(
        requests=int(row["Request Count"]),
        failures=int(row["Failure Count"]),
        p50_ms=float(row["50%"]),
        p99_ms=float(row["99%"]),
        rps=float(row["Requests/s"]),
        server_cpu=cpu,
    )


def _line(label: str, result: LoadResult) -> str:
    return (
        f"| {label} | {result.p50_ms:.0f} | {result.p99_ms:.0f} | {result.rps:,.0f} "
        f"| {result.server_cpu:.0%} | {result.failures} |"
    )


def run(customers: int, results_file: Path, scratch: Path, seed: int = 42) -> None:
    """Build (or reuse) the snapshot, measure misses, hits and the bare route, record them."""
    raw = (scratch / f"raw-{customers}").resolve()
    ensure_raw(raw, customers, seed)
    data_dir = (scratch / "api-data").resolve()
    org = f"api{customers}"
    _build_snapshot(raw, data_dir, org)
    key = bench_key(data_dir, org)
    snapshot = current_snapshot(data_dir, org)
    assert snapshot is not None
    measured = cases(busy_customer(snapshot))
    work = scratch / "api-work"
    work.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[str, LoadResult]] = {}
    for mode in ("miss", "hit"):
        server = Server(data_dir, org, cache=mode == "hit", log_path=work / f"server-{mode}.log")
        try:
            for case in measured:
                print(f"[bench api] {mode}: {case.path}", flush=True)
                results.setdefault(case.label, {})[f"{mode}_latency"] = _load(
                    server, case.path, LATENCY_USERS, work, key
                )
                results[case.label][f"{mode}_throughput"] = _load(
                    server, case.path, THROUGHPUT_USERS, work, key
                )
            if mode == "hit":
                print("[bench api] bare route", flush=True)
                bare_latency = _load(server, BARE_PATH, LATENCY_USERS, work, key)
                bare = _load(server, BARE_PATH, THROUGHPUT_USERS, work, key)
        finally:
            server.stop()
    write_section(results_file, "api", _render(customers, measured, results, bare, bare_latency))


def _render(
    customers: int,
    measured: list[Case],
    results: dict[str, dict[str, LoadResult]],
    bare: LoadResult,
    bare_latency: LoadResult,
) -> str:
    lines = [
        "## Query API",
        "",
        machine_line(),
        "",
        f"{customers:,} customers. uvicorn (one worker, uvloop/httptools when installed) serving "
        "the production app with its JSON access log; locust (FastHttpUser, closed loop, no "
        f"think time) in a separate process on the same 2 cores, {SECONDS} s per row. Latency "
        f"rows: {LATENCY_USERS} user; throughput rows: {THROUGHPUT_USERS} users. Misses: "
        "server with `C360_CACHE_TTL_SECONDS=0` (every request runs its DuckDB queries); hits: "
        "cache on, after a warm-up request. Every request sends an API key (checked against "
        "the SQLite credential store, rate limit off); the bare route checks none. "
        "`server CPU` is the server process's CPU time "
        "over wall time (100 % = one core saturated; the rest is the load generator). "
        "Reproduce: `uv run python -m bench --only api`.",
        "",
        "| endpoint / case | p50 ms | p99 ms | req/s | server CPU | failures |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for label, by_case in results.items():
        lines += [
            _line(f"{label}: miss, latency", by_case["miss_latency"]),
            _line(f"{label}: miss, throughput", by_case["miss_throughput"]),
            _line(f"{label}: hit, latency", by_case["hit_latency"]),
            _line(f"{label}: hit, throughput", by_case["hit_throughput"]),
        ]
    lines += [
        _line("bare route (constant), latency", bare_latency),
        _line("bare route (constant), throughput", bare),
        "",
        f"Targets: miss p50 ≤ the endpoint's target (default {TARGET_MISS_P50_MS} ms; issue 5's "
        f"detail 15, history 30, directory 50) and p99 ≤ {TARGET_MISS_P99_MS} ms (latency "
        f"rows); hits ≥ {TARGET_HIT_RATIO:.0%} of the bare route's req/s. The detail and history "
        "rows read the customer at the 90th percentile of orders.",
        "",
        "| endpoint | miss p50 ms | target | miss p99 ms | miss target met "
        "| hit req/s ÷ bare req/s | hit target met |",
        "|---|---:|---:|---:|:---:|---:|:---:|",
    ]
    for case in measured:
        by_case = results[case.label]
        miss = by_case["miss_latency"]
        ratio = by_case["hit_throughput"].rps / bare.rps if bare.rps else 0.0
        met = miss.p50_ms <= case.target_p50_ms and miss.p99_ms <= TARGET_MISS_P99_MS
        lines.append(
            f"| {case.label} | {miss.p50_ms:.0f} | {case.target_p50_ms:.0f} "
            f"| {miss.p99_ms:.0f} | {'yes' if met else '**no**'} "
            f"| {ratio:.0%} | {'yes' if ratio >= TARGET_HIT_RATIO else '**no**'} |"
        )
    return "\n".join(lines)
