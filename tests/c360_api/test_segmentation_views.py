"""/marketing/customer-segmentation: the RFM view (default, unchanged) and the behavioural
cluster view, value by value against plain Python over the fixture rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from c360_api.app import create_app
from tests.c360_api import expected
from tests.c360_api.conftest import (
    CLUSTERS_SECTION,
    CUSTOMERS,
    MANIFEST_MODELS,
    ORG,
    SNAPSHOT_ID,
    TABLES,
    authorised_client,
    make_settings,
)
from tests.c360_api.snapshot_builder import write_snapshot
from tests.c360_api.test_health import assert_error_envelope

URL = "/marketing/customer-segmentation"


def clusters(customers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per cluster (customers without one: 'No Purchases'), by cluster id, with the
    manifest's recommendation."""
    n = len(customers)
    recommendations = {c["cluster_id"]: c["recommendation"] for c in CLUSTERS_SECTION["clusters"]}
    groups = expected.group_by(customers, lambda r: (r["cluster_id"], r["cluster_label"]))
    rows = [
        {
            "cluster_id": cluster_id,
            "cluster_label": label or "No Purchases",
            "customers": len(members),
            "customer_share": expected.sql_round(len(members) / n, 4),
            "avg_recency_days": expected.mean(members, "recency_days", 1),
            "avg_orders": expected.mean(members, "orders", 2),
            "avg_total_spent": expected.mean(members, "total_spent", 2),
            "total_revenue": expected.total(members, "total_spent", 2),
            "avg_health_score": expected.mean(members, "customer_health_score", 2),
            "avg_predicted_clv_12m": expected.mean(members, "predicted_clv_12m", 2),
            "recommendation": recommendations.get(cluster_id),
        }
        for (cluster_id, label), members in groups.items()
    ]
    return sorted(rows, key=lambda r: (r["cluster_id"] is None, r["cluster_id"] or 0))


def test_the_cluster_view_matches_an_independent_computation(client: TestClient) -> None:
    response = client.get(URL, params={"view": "cluster"})
    assert response.status_code == 200, response.text
    body = response.json()
    rows = clusters(CUSTOMERS)
    assert [row["cluster_label"] for row in rows] == [
        "Loyal High Spenders", "Fading Regulars", "Light Buyers", "No Purchases",
    ]  # fmt: skip
    expected.assert_rows_equal(body["data"], rows)
    assert body["count"] == body["total"] == 4
    assert "clusters" in body["message"]


def test_the_cluster_view_as_csv_and_paged(client: TestClient) -> None:
    response = client.get(URL, params={"view": "cluster", "format": "csv", "limit": 2})
    assert response.status_code == 200
    records = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["cluster_label"] for r in records] == ["Loyal High Spenders", "Fading Regulars"]
    assert records[0]["recommendation"] == "Reward and upsell"
    assert response.headers["x-total-count"] == "4"
    assert response.headers["x-truncated"] == "true"


@pytest.mark.parametrize("query", ["", "?view=rfm"])
def test_the_rfm_view_is_the_default_and_unchanged(client: TestClient, query: str) -> None:
    response = client.get(URL + query)
    assert response.status_code == 200
    expected.assert_rows_equal(response.json()["data"], expected.segmentation(CUSTOMERS))


def test_an_unknown_view_is_a_422(client: TestClient) -> None:
    response = client.get(URL, params={"view": "kmeans"})
    assert response.status_code == 422
    assert response.json()["error_details"]["fields"][0]["field"] == "query.view"


@pytest.mark.parametrize(
    ("models", "reason"),
    [
        (None, "published before it existed"),
        ({**MANIFEST_MODELS, "clustering": {"skipped": "fewer than 10 buyers"}},
         "fewer than 10 buyers"),
    ],
    ids=["pre-model snapshot", "clustering skipped"],
)  # fmt: skip
def test_the_cluster_view_of_a_snapshot_without_clusters_is_a_409(
    tmp_path: Path, models: dict[str, Any] | None, reason: str
) -> None:
    exclude = ("customer_360.cluster_id", "customer_360.cluster_label") if models is None else ()
    write_snapshot(tmp_path, ORG, SNAPSHOT_ID, TABLES, models=models, exclude=exclude)
    with authorised_client(create_app(make_settings(tmp_path))) as client:
        response = client.get(URL, params={"view": "cluster"})
        assert response.status_code == 409, response.text
        body = response.json()
        assert_error_envelope(body, 409, "conflict")
        assert "no behavioural clusters" in body["error_message"]
        assert reason in body["error_message"]
        assert client.get(URL).status_code == 200
