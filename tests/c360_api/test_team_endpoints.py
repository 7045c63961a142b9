"""Every team endpoint over the hand-built snapshot, value by value, through the ASGI app."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from c360_api.app import create_app
from tests.c360_api import expected
from tests.c360_api.conftest import (
    CATEGORY_INSIGHTS,
    CROSS_SELL,
    CUSTOMERS,
    REVENUE_MONTHLY,
    authorised_client,
    make_settings,
)


def _categories() -> list[dict[str, Any]]:
    rows = [
        {column: expected.json_value(value) for column, value in row.items()}
        for row in CATEGORY_INSIGHTS
    ]
    return sorted(rows, key=lambda r: (-r["revenue"], r["category"]))


CASES: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
    ("/marketing/customer-health-overview", lambda: expected.health_overview(CUSTOMERS)),
    ("/marketing/churn-risk-customers", lambda: expected.churn_risk(CUSTOMERS, 0.0)),
    (
        "/marketing/churn-risk-customers?min_lifetime_value=1000",
        lambda: expected.churn_risk(CUSTOMERS, 1000.0),
    ),
    ("/marketing/loyalty-program-metrics", lambda: expected.loyalty(CUSTOMERS)),
    ("/marketing/customer-segmentation", lambda: expected.segmentation(CUSTOMERS)),
    ("/product/digital-engagement-analysis", lambda: expected.engagement(CUSTOMERS)),
    ("/product/cross-sell-opportunities", lambda: expected.cross_sell(CROSS_SELL)),
    ("/product/category-insights", _categories),
    ("/finance/customer-lifetime-value", lambda: expected.lifetime_value(CUSTOMERS)),
    ("/finance/revenue-analysis", lambda: expected.revenue(REVENUE_MONTHLY)),
    ("/finance/rfm-segmentation", lambda: expected.rfm(CUSTOMERS)),
    ("/finance/profitability-metrics", lambda: expected.profitability(CUSTOMERS)),
    ("/customer-success/support-insights", lambda: expected.support(CUSTOMERS)),
    ("/customer-success/lifecycle-analysis", lambda: expected.lifecycle(CUSTOMERS)),
    (
        "/analytics/customer-profiles",
        lambda: expected.profiles(CUSTOMERS, {"Active", "At Risk", "Churned", "New"}, 1.0),
    ),
    (
        "/analytics/customer-profiles?customer_status=Active&customer_status=At%20Risk"
        "&min_health_score=2.1",
        lambda: expected.profiles(CUSTOMERS, {"Active", "At Risk"}, 2.1),
    ),
]


@pytest.mark.parametrize(("path", "expect"), CASES, ids=[case[0] for case in CASES])
def test_endpoint_values_match_an_independent_computation(
    client: TestClient, path: str, expect: Callable[[], list[dict[str, Any]]]
) -> None:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body = response.json()
    rows = expect()
    assert body["success"] is True
    assert body["message"]
    assert body["timestamp"].endswith("Z")
    expected.assert_rows_equal(body["data"], rows)
    assert body["count"] == body["total"] == len(rows)
    assert body["truncated"] is False
    assert (body["limit"], body["offset"]) == (1000, 0)


def test_churn_risk_rows_carry_the_contract_columns(client: TestClient) -> None:
    rows = client.get("/marketing/churn-risk-customers?min_lifetime_value=2000").json()["data"]
    assert [row["customer_id"] for row in rows] == ["C04"]
    assert rows[0] | {} == rows[0]
    for column in ("customer_id", "customer_name", "customer_segment", "loyalty_tier",
                   "total_spent", "risk_status", "customer_health_score"):  # fmt: skip
        assert column in rows[0]
    assert rows[0]["risk_status"] == "High Risk"
    assert rows[0]["customer_health_score"] == 1.35


def test_pagination_pages_through_the_whole_answer(client: TestClient) -> None:
    everything = expected.churn_risk(CUSTOMERS, 0.0)
    assert len(everything) == 5
    seen: list[dict[str, Any]] = []
    for offset in (0, 2, 4):
        body = client.get(f"/marketing/churn-risk-customers?limit=2&offset={offset}").json()
        assert body["total"] == 5
        assert (body["limit"], body["offset"]) == (2, offset)
        assert body["count"] == len(body["data"]) == min(2, 5 - offset)
        assert body["truncated"] is (offset + body["count"] < 5)
        seen.extend(body["data"])
    expected.assert_rows_equal(seen, everything)


def test_a_page_past_the_end_is_empty_with_the_true_total(client: TestClient) -> None:
    body = client.get("/marketing/churn-risk-customers?limit=2&offset=50").json()
    assert body["data"] == []
    assert (body["count"], body["total"], body["truncated"]) == (0, 5, False)


def test_csv_returns_the_same_rows(client: TestClient) -> None:
    path = "/analytics/customer-profiles?customer_status=Churned&customer_status=New"
    json_rows = client.get(path).json()["data"]
    response = client.get(path + "&format=csv&limit=3")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert 'filename="customer_profiles.csv"' in response.headers["content-disposition"]
    assert response.headers["x-total-count"] == str(len(json_rows))
    assert response.headers["x-truncated"] == "true"
    parsed = list(csv.DictReader(io.StringIO(response.text)))
    assert len(parsed) == 3
    for csv_row, json_row in zip(parsed, json_rows, strict=False):
        assert list(csv_row) == list(json_row)
        for column, value in json_row.items():
            assert csv_row[column] == ("" if value is None else str(value)), column


def test_etag_and_if_none_match_give_304(client: TestClient) -> None:
    first = client.get("/finance/revenue-analysis")
    etag = first.headers["etag"]
    assert first.headers["x-snapshot-id"]
    again = client.get("/finance/revenue-analysis", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    other = client.get("/finance/revenue-analysis?limit=1", headers={"If-None-Match": etag})
    assert other.status_code == 200
    assert other.headers["etag"] != etag


def test_a_repeated_request_is_served_from_the_cache(client: TestClient) -> None:
    cache = client.app.state.query_service.cache  # type: ignore[attr-defined]
    first = client.get("/finance/rfm-segmentation")
    hits = cache.hits
    second = client.get("/finance/rfm-segmentation")
    assert cache.hits == hits + 1
    assert second.json()["data"] == first.json()["data"]
    assert second.headers["etag"] == first.headers["etag"]
    reordered = client.get(
        "/analytics/customer-profiles?customer_status=New&customer_status=Active"
    )
    hits = cache.hits
    client.get("/analytics/customer-profiles?customer_status=Active&customer_status=New")
    assert cache.hits == hits + 1, "parameters are normalised before keying the cache"
    assert reordered.status_code == 200


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/marketing/churn-risk-customers?limit=0", "query.limit"),
        ("/marketing/churn-risk-customers?limit=10001", "query.limit"),
        ("/marketing/churn-risk-customers?offset=-1", "query.offset"),
        ("/marketing/churn-risk-customers?min_lifetime_value=-5", "query.min_lifetime_value"),
        ("/marketing/churn-risk-customers?min_lifetime_value=lots", "query.min_lifetime_value"),
        ("/analytics/customer-profiles?customer_status=Sleepy", "query.customer_status.0"),
        ("/analytics/customer-profiles?min_health_score=9", "query.min_health_score"),
        ("/finance/revenue-analysis?format=xml", "query.format"),
    ],
)
def test_invalid_parameters_get_a_422_envelope_naming_the_field(
    client: TestClient, path: str, field: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422
    body = response.json()
    assert body["success"] is False
    assert body["error_type"] == "validation_error"
    assert body["error_details"]["status_code"] == 422
    assert field in [f["field"] for f in body["error_details"]["fields"]]


def test_every_team_route_is_documented_with_its_rows(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for path, _ in CASES:
        route = path.split("?")[0]
        operation = schema["paths"][route]["get"]
        assert operation["summary"]
        content = operation["responses"]["200"]["content"]
        assert "application/json" in content
        assert "text/csv" in content
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (route, parameter["name"])


def test_cors_allows_only_the_configured_origins(data_dir: Path) -> None:
    settings = make_settings(data_dir, cors_origins=["https://bi.example.com"])
    with authorised_client(create_app(settings)) as cors_client:
        allowed = cors_client.get(
            "/finance/revenue-analysis", headers={"Origin": "https://bi.example.com"}
        )
        other = cors_client.get(
            "/finance/revenue-analysis", headers={"Origin": "https://evil.test"}
        )
    assert allowed.headers["access-control-allow-origin"] == "https://bi.example.com"
    assert "etag" in allowed.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-origin" not in other.headers


def test_every_team_route_has_an_example_response(client: TestClient) -> None:
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    for path, _ in CASES:
        route = path.split("?")[0]
        operation = client.get("/openapi.json").json()["paths"][route]["get"]
        reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        schema = schemas[reference.rsplit("/", 1)[1]]
        (example,) = schema["examples"]
        assert example["success"] is True
        # One row model, or several when a parameter picks the shape (the example is one).
        items = schema["properties"]["data"]["items"]
        rows = [
            set(schemas[option["$ref"].rsplit("/", 1)[1]]["properties"])
            for option in items.get("anyOf", [items])
        ]
        assert set(example["data"][0]) in rows
