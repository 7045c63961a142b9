"""Admin routes: refresh jobs (with a stand-in pipeline command), metrics, Prometheus, and the
request id / access log every request gets."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.jobs import JobManager
from tests.c360_api.conftest import SNAPSHOT_ID, authorised_client, make_settings

# A stand-in for `c360-pipeline run`: logs two stages like the pipeline, then waits for a file.
FAKE_RUN = """
import json, pathlib, sys, time
print(json.dumps({"event": "stage_finished", "stage": "ingest"}), flush=True)
gate = pathlib.Path(sys.argv[1])
while not gate.exists():
    time.sleep(0.02)
print(json.dumps({"event": "run_published", "snapshot_id": "20260105T000000Z-eeeeee"}))
"""


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Creating this file lets the stand-in pipeline finish."""
    return tmp_path / "gate"


@pytest.fixture
def admin_client(data_dir: Path, gate: Path) -> Iterator[TestClient]:
    app = create_app(make_settings(data_dir))
    app.state.jobs = JobManager(lambda org, force: [sys.executable, "-c", FAKE_RUN, str(gate)])
    with authorised_client(app) as client:
        yield client
    gate.touch()


def _wait_for(client: TestClient, job_id: str, status: str) -> dict[str, object]:
    deadline = time.monotonic() + 30
    while True:
        job = client.get(f"/admin/jobs/{job_id}").json()["data"]
        if job["status"] == status or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_refresh_starts_a_job_refuses_a_second_and_reports_the_outcome(
    admin_client: TestClient, gate: Path
) -> None:
    started = admin_client.post("/admin/refresh-data?force_refresh=true")
    assert started.status_code == 202
    job = started.json()["data"]
    assert started.headers["location"] == f"/admin/jobs/{job['job_id']}"
    assert (job["status"], job["force"], job["trigger"]) == ("running", True, "api")

    conflict = admin_client.post("/admin/refresh-data")
    assert conflict.status_code == 409
    body = conflict.json()
    assert (body["success"], body["error_type"]) == (False, "conflict")
    assert body["error_details"]["job_id"] == job["job_id"]

    listed = admin_client.get("/admin/jobs").json()
    assert [j["job_id"] for j in listed["data"]] == [job["job_id"]]
    assert listed["count"] == 1

    gate.touch()
    finished = _wait_for(admin_client, job["job_id"], "succeeded")
    assert finished["status"] == "succeeded"
    assert finished["exit_code"] == 0
    assert finished["snapshot_id"] == "20260105T000000Z-eeeeee"
    assert finished["progress"] > 0
    assert any("stage_finished" in line for line in finished["log_tail"])


def test_an_unknown_job_is_a_404_envelope(admin_client: TestClient) -> None:
    response = admin_client.get("/admin/jobs/0123456789abcdef0123456789abcdef")
    assert response.status_code == 404
    assert response.json()["error_type"] == "not_found"


def test_admin_metrics_report_latency_cache_and_snapshot(admin_client: TestClient) -> None:
    for _ in range(3):
        admin_client.get("/finance/revenue-analysis")
    admin_client.get("/finance/revenue-analysis?limit=0")
    body = admin_client.get("/admin/metrics").json()
    assert body["success"] is True
    data = body["data"]
    route = next(e for e in data["endpoints"] if e["route"] == "/finance/revenue-analysis")
    assert route["requests"] == 4
    assert route["statuses"] == {"200": 3, "422": 1}
    assert 0 < route["p50_ms"] <= route["p95_ms"] <= route["p99_ms"]
    assert data["cache"]["hits"] == 2
    assert data["cache"]["misses"] == 1
    assert data["cache"]["hit_ratio"] == pytest.approx(2 / 3)
    assert data["snapshot"]["snapshot_id"] == SNAPSHOT_ID
    assert data["snapshot"]["age_seconds"] >= 0


def test_prometheus_metrics_are_served_as_text(admin_client: TestClient) -> None:
    admin_client.get("/marketing/customer-segmentation")
    response = admin_client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert (
        'c360_http_requests_total{method="GET",route="/marketing/customer-segmentation",'
        'status="200"} 1.0' in text
    )
    assert "c360_http_request_duration_seconds_count" in text
    assert "c360_cache_misses 1.0" in text
    assert "c360_snapshot_age_seconds" in text


def test_request_ids_are_echoed_and_every_request_is_logged(admin_client: TestClient) -> None:
    with structlog.testing.capture_logs() as logs:
        sent = admin_client.get(
            "/marketing/customer-segmentation", headers={"X-Request-ID": "trace-42"}
        )
        fresh = admin_client.get("/marketing/customer-segmentation")
    assert sent.headers["x-request-id"] == "trace-42"
    assert len(fresh.headers["x-request-id"]) == 32
    requests = [entry for entry in logs if entry["event"] == "request"]
    assert [entry["request_id"] for entry in requests] == [
        "trace-42",
        fresh.headers["x-request-id"],
    ]
    first, second = requests
    assert first["route"] == "/marketing/customer-segmentation"
    assert first["status"] == 200
    assert first["query"] == "marketing/customer_segmentation"
    assert first["snapshot_id"] == SNAPSHOT_ID
    assert (first["cache_hit"], second["cache_hit"]) == (False, True)
    assert first["latency_ms"] > 0


def test_an_internal_error_is_a_500_envelope_without_internals(data_dir: Path) -> None:
    app = create_app(make_settings(data_dir))

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret detail")

    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/boom", headers={"X-Request-ID": "req-7"})
    assert response.status_code == 500
    body = response.json()
    assert body["error_type"] == "internal_error"
    assert "secret" not in response.text
    assert body["error_details"]["request_id"] == "req-7"
