"""A new snapshot is picked up without a restart, never mixed with the old one."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import httpx
import pytest
import structlog
import uvicorn
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.engine import SnapshotDb, SnapshotEngine, load_table
from c360_api.settings import REPO_SQL_DIR
from c360_api.snapshots import current_snapshot
from c360_api.sql_registry import load_registry
from tests.c360_api.conftest import (
    CUSTOMERS,
    ORG,
    SNAPSHOT_ID,
    TABLES,
    auth_headers,
    make_settings,
)
from tests.c360_api.snapshot_builder import write_snapshot


def serving(client: TestClient, path: str, snapshot_id: str) -> httpx.Response:
    """Request `path` until it is answered from `snapshot_id` (swaps happen in the background)."""
    deadline = time.monotonic() + 20
    while True:
        response = client.get(path)
        if response.headers.get("x-snapshot-id") == snapshot_id:
            return response
        assert time.monotonic() < deadline, f"{snapshot_id} was never served"
        time.sleep(0.02)


def wait_for_swap(engine: SnapshotEngine, org: str, snapshot_id: str) -> None:
    """Let the engine's background swap to `snapshot_id` finish."""
    deadline = time.monotonic() + 20
    while (db := engine.current(org)) is None or db.snapshot_id != snapshot_id:
        assert time.monotonic() < deadline, f"{snapshot_id} was never swapped in"
        with engine.open(org):
            pass
        time.sleep(0.02)


def _scaled_tables(factor: float) -> dict[str, Any]:
    """The hand-built tables with every customer's total_spent multiplied by `factor`."""
    customers = [{**row, "total_spent": row["total_spent"] * factor} for row in CUSTOMERS]
    return {**TABLES, "customer_360": customers}


def test_a_new_snapshot_replaces_the_old_and_its_cached_answers(
    client: TestClient, data_dir: Path
) -> None:
    path = "/marketing/churn-risk-customers?limit=1"
    before = client.get(path)
    assert before.json()["data"][0]["total_spent"] == 2100.0
    write_snapshot(data_dir, ORG, "20260102T000000Z-bbbbbb", _scaled_tables(2))
    after = serving(client, path, "20260102T000000Z-bbbbbb")
    assert after.json()["data"][0]["total_spent"] == 4200.0
    assert after.headers["etag"] != before.headers["etag"]
    stale = client.get(path, headers={"If-None-Match": before.headers["etag"]})
    assert stale.status_code == 200


def test_a_snapshot_the_queries_do_not_fit_is_refused_and_the_old_one_serves(
    client: TestClient, data_dir: Path
) -> None:
    assert client.get("/finance/revenue-analysis").status_code == 200
    broken = write_snapshot(data_dir, ORG, "20260103T000000Z-cccccc", TABLES)
    shutil.rmtree(broken / "revenue_monthly")
    engine = client.app.state.query_service.engine  # type: ignore[attr-defined]
    with structlog.testing.capture_logs() as logs:
        for _ in range(20):
            response = client.get("/finance/revenue-analysis")
            assert response.status_code == 200
            assert response.headers["x-snapshot-id"] == SNAPSHOT_ID
            if any(entry["event"] == "snapshot_refused" for entry in logs):
                break
            time.sleep(0.05)
    refused = [entry for entry in logs if entry["event"] == "snapshot_refused"]
    assert [entry["snapshot_id"] for entry in refused] == ["20260103T000000Z-cccccc"]
    assert "revenue_analysis.sql" in refused[0]["reason"]
    write_snapshot(data_dir, ORG, "20260104T000000Z-dddddd", TABLES)
    serving(client, "/finance/revenue-analysis", "20260104T000000Z-dddddd")
    assert engine.current(ORG).snapshot_id == "20260104T000000Z-dddddd"


def test_a_request_in_flight_keeps_its_snapshot_until_it_lets_go(data_dir: Path) -> None:
    engine = SnapshotEngine(data_dir, load_registry(REPO_SQL_DIR), poll_seconds=0)
    sql = "select max(total_spent) from customer_360"
    with engine.open(ORG) as old:
        write_snapshot(data_dir, ORG, "20260102T000000Z-bbbbbb", _scaled_tables(3))
        wait_for_swap(engine, ORG, "20260102T000000Z-bbbbbb")
        with engine.open(ORG) as new:
            assert new.snapshot_id == "20260102T000000Z-bbbbbb"
            assert new.execute(sql, {})[1] == [(9600.0,)]
        assert old.execute(sql, {})[1] == [(3200.0,)]
        assert not old.closed
    assert old.closed
    engine.close()


def test_the_poll_interval_bounds_how_often_current_is_read(data_dir: Path) -> None:
    now = [0.0]
    engine = SnapshotEngine(
        data_dir, load_registry(REPO_SQL_DIR), poll_seconds=5, clock=lambda: now[0]
    )
    with engine.open(ORG) as db:
        assert db.snapshot_id == SNAPSHOT_ID
    write_snapshot(data_dir, ORG, "20260102T000000Z-bbbbbb", TABLES)
    now[0] = 4.0
    with engine.open(ORG) as db:
        assert db.snapshot_id == SNAPSHOT_ID
    assert engine.current(ORG).snapshot_id == SNAPSHOT_ID  # type: ignore[union-attr]
    now[0] = 5.5
    wait_for_swap(engine, ORG, "20260102T000000Z-bbbbbb")
    engine.close()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(data_dir: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """A real uvicorn server over the hand-built snapshot, in a thread: its URL and headers
    that authenticate with it."""
    port = _free_port()
    app = create_app(make_settings(data_dir))
    headers = auth_headers(app)
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not uvicorn_server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}", headers
    uvicorn_server.should_exit = True
    thread.join(timeout=10)


def test_refreshing_under_load_fails_no_request_and_mixes_no_answers(
    server: tuple[str, dict[str, str]], data_dir: Path
) -> None:
    url, headers = server
    factors = {SNAPSHOT_ID: 1.0}
    stop = threading.Event()
    failures: list[str] = []
    answers: list[tuple[str, list[float], int]] = []

    def hammer() -> None:
        with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
            while not stop.is_set():
                offset = len(answers) % 3
                response = http.get(f"/marketing/churn-risk-customers?limit=2&offset={offset}")
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                    continue
                body = response.json()
                spent = [row["total_spent"] for row in body["data"]]
                answers.append((response.headers["x-snapshot-id"], spent, offset))

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for worker in workers:
        worker.start()
    written = []
    for generation in range(2, 8):
        time.sleep(0.05)
        snapshot_id = f"2026010{generation}T000000Z-{generation:06d}"
        factors[snapshot_id] = float(generation)
        write_snapshot(data_dir, ORG, snapshot_id, _scaled_tables(generation))
        written.append(snapshot_id)
        # A swap happens in the background; under a busy machine it can take longer than any
        # fixed pause, so each generation is waited for (while the hammering goes on).
        deadline = time.monotonic() + 30
        while not failures and all(answer[0] != snapshot_id for answer in answers[-50:]):
            assert time.monotonic() < deadline, f"{snapshot_id} was never served"
            time.sleep(0.01)
    time.sleep(0.05)
    stop.set()
    for worker in workers:
        worker.join(timeout=30)

    assert failures == []
    seen = {snapshot_id for snapshot_id, _, _ in answers}
    assert set(written) <= seen, f"the refreshes were not observed: {seen}"
    base = sorted(
        (row["total_spent"] for row in CUSTOMERS if row["risk_status"].endswith("Risk")
         and row["risk_status"] != "Low Risk"),
        reverse=True,
    )  # fmt: skip
    for snapshot_id, spent, offset in answers:
        factor = factors[snapshot_id]
        assert spent == [value * factor for value in base[offset : offset + 2]], snapshot_id


def test_memory_tables_keep_text_semantics_with_enums() -> None:
    connection = duckdb.connect()
    load_table(
        connection,
        "t",
        "select * from (values ('b', 'x1'), ('a', 'x2'), ('B', 'x3'), (null, 'x4')) v(s, id)",
    )
    kinds = dict(connection.execute("select column_name, column_type from (describe t)").fetchall())
    assert kinds["s"].startswith("ENUM")
    ordered = connection.execute("select s from t order by s nulls last").fetchall()
    assert ordered == [("B",), ("a",), ("b",), (None,)], "an ENUM sorts like its text"
    assert connection.execute("select count(*) from t where s = 'zzz'").fetchone() == (0,)
    assert connection.execute(
        "select count(*) from t where array_contains($values, s)", {"values": ["a", "zzz"]}
    ).fetchone() == (1,)
    assert connection.execute(
        "select coalesce(s, 'Unknown') from t where id = 'x4'"
    ).fetchone() == ("Unknown",)


def test_a_snapshot_database_works_in_utc_on_every_thread(data_dir: Path) -> None:
    snapshot = current_snapshot(data_dir, ORG)
    assert snapshot is not None
    db = SnapshotDb(snapshot, {})
    try:
        results: list[object] = []
        worker = threading.Thread(
            target=lambda: results.append(db.execute("select current_setting('TimeZone')", {}))
        )
        worker.start()
        worker.join()
        assert results == [(["current_setting('TimeZone')"], [("UTC",)])]
    finally:
        db.retire()
