"""/api/v1/customers/{id}: one customer's 360 profile, in sections, from the hand-built snapshot."""

from __future__ import annotations

from fastapi.testclient import TestClient

from c360_api.routers.customers import SECTIONS
from tests.c360_api.conftest import CUSTOMERS
from tests.c360_api.expected import json_value
from tests.c360_api.snapshot_builder import SCHEMAS


def test_the_sections_hold_every_customer_360_column_once() -> None:
    columns = [column.split(" ")[0] for column in SCHEMAS["customer_360"]]
    in_sections = [column for section in SECTIONS.values() for column in section]
    assert sorted(in_sections) == sorted(columns[1:])
    assert columns[0] == "customer_id"


def test_a_customer_comes_back_whole_in_sections(client: TestClient) -> None:
    row = next(r for r in CUSTOMERS if r["customer_id"] == "C02")
    response = client.get("/api/v1/customers/C02")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "customer C02"
    data = body["data"]
    assert data["customer_id"] == "C02"
    assert list(data) == ["customer_id", *SECTIONS]
    for section, columns in SECTIONS.items():
        assert data[section] == {column: json_value(row.get(column)) for column in columns}
    assert data["health"] == {
        "customer_health_score": 3.9,
        "customer_status": "Active",
        "risk_status": "Medium Risk",
    }
    assert data["support"]["open_tickets"] == 1
    assert data["purchasing"]["last_purchase_date"] == "2025-12-11"
    assert response.headers["etag"]


def test_an_unknown_customer_is_a_404_envelope(client: TestClient) -> None:
    for customer_id in ("C99", "c02", "' or 1=1 --"):
        response = client.get(f"/api/v1/customers/{customer_id}")
        assert response.status_code == 404
        body = response.json()
        assert body["error_type"] == "not_found"
        assert customer_id in body["error_message"]


def test_a_repeated_lookup_is_a_cache_hit_and_supports_304(client: TestClient) -> None:
    cache = client.app.state.query_service.cache  # type: ignore[attr-defined]
    first = client.get("/api/v1/customers/C06")
    hits = cache.hits
    again = client.get("/api/v1/customers/C06", headers={"If-None-Match": first.headers["etag"]})
    assert cache.hits == hits + 1
    assert again.status_code == 304
