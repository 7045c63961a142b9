"""/health and the error envelope, over real HTTP through the ASGI app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.settings import ApiSettings


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    app = create_app(ApiSettings(data_dir=data_dir, org="acme"))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def assert_error_envelope(body: dict[str, object], status: int, error_type: str) -> None:
    assert body["success"] is False
    assert body["error_type"] == error_type
    assert isinstance(body["error_message"], str)
    assert body["error_message"]
    assert isinstance(body["timestamp"], str)
    assert body["error_details"]["status_code"] == status  # type: ignore[index]


def test_health_is_503_until_a_snapshot_is_published(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert_error_envelope(body, 503, "service_unavailable")
    assert "acme" in body["error_message"]


def test_health_reports_the_published_snapshot(client: TestClient, data_dir: Path) -> None:
    snapshot = data_dir / "orgs" / "acme" / "snapshots" / "20251231T000000Z-abc"
    snapshot.mkdir(parents=True)
    manifest = {"as_of": "2025-12-31", "created_at": "2026-01-01T00:00:00+00:00"}
    (snapshot / "manifest.json").write_text(json.dumps(manifest))
    (data_dir / "orgs" / "acme" / "CURRENT").write_text("20251231T000000Z-abc\n")
    response = client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["data"]["snapshot_id"] == "20251231T000000Z-abc"
    assert body["data"]["as_of"] == "2025-12-31"
    assert body["data"]["organization"] == "acme"
    assert body["data"]["snapshot_age_seconds"] > 0


def test_unknown_path_and_wrong_method_use_the_envelope(client: TestClient) -> None:
    missing = client.get("/no/such/path")
    assert missing.status_code == 404
    assert_error_envelope(missing.json(), 404, "not_found")
    assert "/no/such/path" in missing.json()["error_message"]
    wrong = client.post("/health")
    assert wrong.status_code == 405
    assert_error_envelope(wrong.json(), 405, "method_not_allowed")


def test_openapi_schema_is_served(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "/health" in schema["paths"]
