"""Two organisations with different data behind one API: a credential of one never sees the
other's rows, jobs, cache entries, metrics or keys, even with the same snapshot id."""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.jobs import JobManager
from tests.c360_api.conftest import (
    AS_OF,
    CATEGORY_INSIGHTS,
    CROSS_SELL,
    CUSTOMERS,
    INTERACTIONS,
    ORG,
    REVENUE_MONTHLY,
    SNAPSHOT_ID,
    TRANSACTIONS,
    credential,
    make_settings,
)
from tests.c360_api.routes import operations
from tests.c360_api.snapshot_builder import write_snapshot
from tests.c360_api.test_admin import FAKE_RUN

OTHER = "globex"
MONEY = (
    "total_spent", "historic_clv", "gross_margin", "historic_gross_margin", "net_contribution",
    "revenue_12m", "revenue_90d", "revenue_prev_90d", "predicted_clv_12m", "revenue", "amount",
)  # fmt: skip
CATEGORY = {"Books": "Garden", "Toys": "Tools", "Unknown": "Unknown"}
# What only one organisation's answers may contain.
ACME_MARKERS = re.compile(r"\bC0\d\b|\bT00\d\b|\bI0\d\d\b|example\.com|Books|Toys")
GLOBEX_MARKERS = re.compile(r"\bG0\d\b|\bU00\d\b|\bJ0\d\d\b|globex\.test|Garden|Tools")


def _globex_id(value: str) -> str:
    """C01 -> G01, T001 -> U001, I001 -> J001."""
    return {"C": "G", "T": "U", "I": "J"}[value[0]] + value[1:]


def _globex(row: dict[str, Any]) -> dict[str, Any]:
    """A row of acme's data as globex's: other ids, names, categories; ten times the money."""
    moved: dict[str, Any] = {}
    for column, value in row.items():
        if column in ("customer_id", "transaction_id", "interaction_id"):
            value = _globex_id(value)
        elif column in MONEY and value is not None:
            value = value * 10
        elif column in ("category", "recommendation") and value in CATEGORY:
            value = CATEGORY[value]
        moved[column] = value
    if "customer_name" in row:
        number = row["customer_id"][1:]
        moved["customer_name"] = f"Globex person {number}"
        moved["email"] = f"person{number}@globex.test"
    return moved


KEPT = {"C01", "C02", "C03", "C04", "C05"}  # globex has five customers, acme eight


def _globex_tables() -> dict[str, list[dict[str, Any]]]:
    customers = [_globex(row) for row in CUSTOMERS if row["customer_id"] in KEPT]
    # globex has no Champions: its G01 is a Loyal Customer.
    customers[0]["rfm_segment"] = "Loyal Customers"
    return {
        "customer_360": customers,
        "transactions": [_globex(r) for r in TRANSACTIONS if r["customer_id"] in KEPT],
        "interactions": [_globex(r) for r in INTERACTIONS if r["customer_id"] in KEPT],
        "revenue_monthly": [_globex(r) for r in REVENUE_MONTHLY[:2]],
        "category_insights": [_globex(r) for r in CATEGORY_INSIGHTS[:2]],
        "cross_sell_candidates": [_globex(r) for r in CROSS_SELL if r["customer_id"] in KEPT],
    }


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """Creating this file lets the stand-in pipeline runs finish."""
    return tmp_path / "gate"


@pytest.fixture
def refreshed(tmp_path: Path) -> list[str]:
    """The organisations the stand-in pipeline was started for."""
    return []


@pytest.fixture
def app(data_dir: Path, gate: Path, refreshed: list[str]) -> Iterator[FastAPI]:
    """acme's and globex's snapshots, published under the same snapshot id."""
    write_snapshot(data_dir, OTHER, SNAPSHOT_ID, _globex_tables(), as_of=AS_OF.isoformat())
    application = create_app(make_settings(data_dir))

    def command(org: str, force: bool) -> list[str]:
        refreshed.append(org)
        return [sys.executable, "-c", FAKE_RUN, str(gate)]

    application.state.jobs = JobManager(command)
    yield application
    gate.touch()


@pytest.fixture
def clients(app: FastAPI) -> Iterator[tuple[TestClient, dict[str, str], dict[str, str]]]:
    """A client and headers with an every-scope key of acme and of globex."""
    acme = {"Authorization": f"Bearer {credential(app, ORG)}"}
    globex = {"Authorization": f"Bearer {credential(app, OTHER)}"}
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client, acme, globex


def _without_timestamp(text: str) -> str:
    return re.sub(r'"timestamp":"[^"]*"', "", text)


def test_the_same_request_answers_each_organisation_with_its_own_rows_only(
    app: FastAPI, clients: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    client, acme, globex = clients
    data_routes = [
        operation
        for operation in operations(app.openapi())
        if operation.method == "GET" and operation.expected_scope not in ("admin", None)
    ]
    assert len(data_routes) >= 24
    for operation in data_routes:
        parameters = {p["name"] for p in operation.operation.get("parameters", [])}
        for suffix in ("", "?format=csv") if "format" in parameters else ("",):
            url = operation.url + suffix
            mine = client.get(url, headers=acme)
            theirs = client.get(url, headers=globex)
            assert mine.status_code == 200, (url, mine.text)
            assert theirs.status_code in (200, 404), (url, theirs.text)
            assert _without_timestamp(mine.text) != _without_timestamp(theirs.text), url
            assert not GLOBEX_MARKERS.search(mine.text), (url, mine.text)
            if theirs.status_code == 200:  # a 404 names the id the client asked for
                assert not ACME_MARKERS.search(theirs.text), (url, theirs.text)
                assert GLOBEX_MARKERS.search(theirs.text) or "customer_id" not in theirs.text
                assert mine.headers["x-snapshot-id"] == theirs.headers["x-snapshot-id"]


def test_a_customer_of_one_organisation_is_unknown_to_the_other(
    clients: tuple[TestClient, dict[str, str], dict[str, str]],
) -> None:
    client, acme, globex = clients
    assert client.get("/api/v1/customers/C01", headers=acme).status_code == 200
    assert client.get("/api/v1/customers/G01", headers=globex).json()["data"]["profile"][
        "email"
    ] == ("person01@globex.test")
    for path, headers in (("/api/v1/customers/G01", acme), ("/api/v1/customers/C01", globex)):
        for suffix in ("", "/transactions"):
            response = client.get(path + suffix, headers=headers)
            assert response.status_code == 404
            assert response.json()["error_type"] == "not_found"
    directory = client.get("/api/v1/customers?search=globex", headers=acme).json()
    assert (directory["total"], directory["data"]) == (0, [])
    directory = client.get("/api/v1/customers?search=globex", headers=globex).json()
    assert directory["total"] == 5


def test_a_cached_answer_is_never_served_to_another_organisation(
    app: FastAPI, clients: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    client, acme, globex = clients
    cache = app.state.query_service.cache
    path = "/marketing/churn-risk-customers"
    first = client.get(path, headers=acme)
    again = client.get(path, headers=acme)
    assert cache.stats(ORG).hits == 1
    other = client.get(path, headers=globex)
    assert (cache.stats(OTHER).hits, cache.stats(OTHER).misses) == (0, 1), "a miss, not A's entry"
    assert first.headers["x-snapshot-id"] == other.headers["x-snapshot-id"] == SNAPSHOT_ID
    assert again.json()["data"] == first.json()["data"]
    acme_ids = {row["customer_id"] for row in first.json()["data"]}
    globex_ids = {row["customer_id"] for row in other.json()["data"]}
    assert acme_ids == {"C02", "C03", "C04", "C05", "C08"}
    assert globex_ids == {"G02", "G03", "G04", "G05"}
    # An ETag of one organisation's answer does not make the other's a 304.
    conditional = client.get(path, headers={**globex, "If-None-Match": first.headers["etag"]})
    assert conditional.status_code == 200
    assert cache.stats(ORG).entries == cache.stats(OTHER).entries == 1


def test_jobs_belong_to_the_organisation_that_started_them(
    clients: tuple[TestClient, dict[str, str], dict[str, str]], gate: Path, refreshed: list[str]
) -> None:
    client, acme, globex = clients
    started = client.post("/admin/refresh-data", headers=acme)
    assert started.status_code == 202
    job = started.json()["data"]
    assert job["org"] == ORG
    assert client.get("/admin/jobs", headers=globex).json()["data"] == []
    peek = client.get(f"/admin/jobs/{job['job_id']}", headers=globex)
    assert peek.status_code == 404
    assert peek.json()["error_type"] == "not_found"
    # acme's running refresh does not block globex's (one at a time per organisation).
    theirs = client.post("/admin/refresh-data", headers=globex)
    assert theirs.status_code == 202
    assert refreshed == [ORG, OTHER]
    assert [j["job_id"] for j in client.get("/admin/jobs", headers=acme).json()["data"]] == [
        job["job_id"]
    ]
    assert client.post("/admin/refresh-data", headers=acme).status_code == 409
    gate.touch()
    deadline = time.monotonic() + 30
    while (
        client.get(f"/admin/jobs/{job['job_id']}", headers=acme).json()["data"]["status"]
        == "running"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_metrics_and_keys_are_the_organisations_own(
    app: FastAPI, clients: tuple[TestClient, dict[str, str], dict[str, str]]
) -> None:
    client, acme, globex = clients
    for _ in range(3):
        client.get("/finance/revenue-analysis", headers=acme)
    client.get("/finance/revenue-analysis", headers=globex)
    mine = client.get("/admin/metrics", headers=acme).json()["data"]
    theirs = client.get("/admin/metrics", headers=globex).json()["data"]
    route = "/finance/revenue-analysis"
    assert next(e for e in mine["endpoints"] if e["route"] == route)["requests"] == 3
    assert next(e for e in theirs["endpoints"] if e["route"] == route)["requests"] == 1
    assert (mine["cache"]["hits"], mine["cache"]["misses"]) == (2, 1)
    assert (theirs["cache"]["hits"], theirs["cache"]["misses"]) == (0, 1)
    prometheus = client.get("/metrics", headers=globex).text
    assert 'route="/finance/revenue-analysis",status="200"} 1.0' in prometheus

    globex_key_id = globex["Authorization"].split("_")[1]
    listed = client.get("/admin/keys", headers=acme).json()["data"]
    assert {key["organization"] for key in listed} == {ORG}
    assert globex_key_id not in {key["key_id"] for key in listed}
    refused = client.delete(f"/admin/keys/{globex_key_id}", headers=acme)
    assert refused.status_code == 404
    assert client.get("/api/auth/me", headers=globex).json()["data"]["organization"] == OTHER
