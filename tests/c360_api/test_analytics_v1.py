"""/api/v1/analytics: every answer, value by value, against independent computations on the
hand-built snapshot (as-of 2025-12-31), through the ASGI app."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from c360_api.routers import analytics_v1
from tests.c360_api import expected
from tests.c360_api.conftest import AS_OF, CUSTOMERS, INTERACTIONS, TRANSACTIONS, sql_columns

CASES: list[tuple[str, Callable[[], dict[str, Any]]]] = [
    ("/customers", lambda: expected.demographics(CUSTOMERS)),
    ("/transactions", lambda: expected.trends(TRANSACTIONS, "month", None, None)),
    ("/transactions?granularity=week&start_date=2025-11-15&end_date=2025-12-28",
     lambda: expected.trends(TRANSACTIONS, "week", date(2025, 11, 15), date(2025, 12, 28))),
    ("/transactions?granularity=day&start_date=2025-12-01",
     lambda: expected.trends(TRANSACTIONS, "day", date(2025, 12, 1), None)),
    ("/transactions?end_date=2020-01-01",
     lambda: expected.trends(TRANSACTIONS, "month", None, date(2020, 1, 1))),
    ("/customers/C01/analytics",
     lambda: expected.customer_interactions(CUSTOMERS, INTERACTIONS, "C01", AS_OF, 10)),
    ("/customers/C01/analytics?recent_limit=2",
     lambda: expected.customer_interactions(CUSTOMERS, INTERACTIONS, "C01", AS_OF, 2)),
    ("/customers/C03/analytics",
     lambda: expected.customer_interactions(CUSTOMERS, INTERACTIONS, "C03", AS_OF, 10)),
    ("/customers/C07/analytics",
     lambda: expected.customer_interactions(CUSTOMERS, INTERACTIONS, "C07", AS_OF, 10)),
    ("/segments/At%20Risk/analytics",
     lambda: expected.segment_activity(CUSTOMERS, INTERACTIONS, "At Risk", AS_OF, 30)),
    ("/segments/At%20Risk/analytics?days=7",
     lambda: expected.segment_activity(CUSTOMERS, INTERACTIONS, "At Risk", AS_OF, 7)),
    ("/segments/Champions/analytics?days=365",
     lambda: expected.segment_activity(CUSTOMERS, INTERACTIONS, "Champions", AS_OF, 365)),
    ("/segments/No%20Purchases/analytics",
     lambda: expected.segment_activity(CUSTOMERS, INTERACTIONS, "No Purchases", AS_OF, 30)),
    ("/organization/summary", lambda: {
        **{key: value
           for key, value in expected.interaction_totals(CUSTOMERS, INTERACTIONS, AS_OF).items()
           if not key.startswith("interactions_")},
        "segments": expected.segment_sizes(CUSTOMERS),
        "monthly_interactions": expected.monthly_interactions(INTERACTIONS, AS_OF),
    }),
    ("/dashboard/metrics", lambda: {
        **{key: value
           for key, value in expected.interaction_totals(CUSTOMERS, INTERACTIONS, AS_OF).items()
           if key in ("as_of", "customers") or key.startswith("interactions_")},
        "top_segments": expected.segment_sizes(CUSTOMERS)[:5],
        "recent_activity": expected.recent_activity(INTERACTIONS, AS_OF, 10),
    }),
]  # fmt: skip


@pytest.mark.parametrize(("path", "expect"), CASES, ids=[case[0] for case in CASES])
def test_analytics_match_an_independent_computation(
    client: TestClient, path: str, expect: Callable[[], dict[str, Any]]
) -> None:
    response = client.get(f"/api/v1/analytics{path}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["success"], bool(body["message"])) == (True, True)
    expected.assert_same(body["data"], expect())


def test_the_as_of_figures_count_what_the_test_data_says(client: TestClient) -> None:
    """A hand check of the boundaries the computations above share with the SQL."""
    data = client.get("/api/v1/analytics/dashboard/metrics").json()["data"]
    assert (data["interactions_today"], data["interactions_this_week"]) == (3, 5)
    assert data["interactions_this_month"] == 7, "I005 (after the as-of day) never counts"
    recent = [row["interaction_id"] for row in data["recent_activity"]]
    assert recent[:4] == ["I009", "I001", "I003", "I002"], "ties broken by id"
    customer = client.get("/api/v1/analytics/customers/C01/analytics").json()["data"]
    assert customer["interactions"] == 4
    assert customer["last_interaction_at"] == "2025-12-31T10:00:00+00:00"


def test_segments_list_every_rfm_segment_with_its_customers(client: TestClient) -> None:
    body = client.get("/api/v1/analytics/segments").json()
    expected.assert_rows_equal(body["data"], expected.segment_sizes(CUSTOMERS))
    assert sum(row["customers"] for row in body["data"]) == len(CUSTOMERS)
    assert body["total"] == len(body["data"])


def test_a_quiet_window_is_a_full_timeline_of_zeros(client: TestClient) -> None:
    data = client.get("/api/v1/analytics/segments/Lost/analytics?days=7").json()["data"]
    assert (data["customers"], data["interactions"], data["interaction_types"]) == (1, 0, [])
    assert [day["interactions"] for day in data["daily_activity"]] == [0] * 7
    assert data["daily_activity"][-1]["activity_date"] == AS_OF.isoformat()


@pytest.mark.parametrize(
    ("path", "mentions"),
    [
        ("/customers/C99/analytics", "C99"),
        ("/segments/Nope/analytics", "Nope"),
        ("/segments/champions/analytics", "champions"),
    ],
)
def test_unknown_customers_and_segments_are_a_404_envelope(
    client: TestClient, path: str, mentions: str
) -> None:
    response = client.get(f"/api/v1/analytics{path}")
    assert response.status_code == 404
    body = response.json()
    assert (body["success"], body["error_type"]) == (False, "not_found")
    assert mentions in body["error_message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/transactions?granularity=year", "query.granularity"),
        ("/transactions?start_date=2025-02-30", "query.start_date"),
        ("/transactions?start_date=2025-12-02&end_date=2025-12-01", "query.start_date"),
        ("/customers/C01/analytics?recent_limit=0", "query.recent_limit"),
        ("/customers/C01/analytics?recent_limit=101", "query.recent_limit"),
        ("/segments/At%20Risk/analytics?days=6", "query.days"),
        ("/segments/At%20Risk/analytics?days=366", "query.days"),
        ("/segments?limit=0", "query.limit"),
    ],
)
def test_invalid_parameters_get_a_422_envelope_naming_the_field(
    client: TestClient, path: str, field: str
) -> None:
    response = client.get(f"/api/v1/analytics{path}")
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["success"], body["error_type"]) == (False, "validation_error")
    assert field in [f["field"] for f in body["error_details"]["fields"]]


def test_a_combined_answer_is_cached_whole(client: TestClient) -> None:
    cache = client.app.state.query_service.cache  # type: ignore[attr-defined]
    first = client.get("/api/v1/analytics/organization/summary")
    hits, misses = cache.hits, cache.misses
    again = client.get(
        "/api/v1/analytics/organization/summary", headers={"If-None-Match": first.headers["etag"]}
    )
    assert (cache.hits, cache.misses) == (hits + 1, misses), "one lookup for three queries"
    assert again.status_code == 304


def test_the_documented_rows_are_the_queries_columns(client: TestClient) -> None:
    exact = [
        ("customer_signups", analytics_v1.SIGNUPS),
        ("transaction_trends", analytics_v1.TREND),
        ("customer_recent_interactions", analytics_v1.INTERACTION),
        ("recent_interactions", analytics_v1.ACTIVITY),
        ("segment_sizes", analytics_v1.SEGMENTS),
        ("interaction_totals", analytics_v1.TOTALS),
        ("interaction_trend", analytics_v1.MONTHLY),
    ]
    for name, columns in exact:
        assert sql_columns(client, "analytics", name) == [column[0] for column in columns], name
    grouped = [  # grouping-sets queries: documented columns plus dimension and its sort key
        ("customer_demographics", analytics_v1.DEMOGRAPHIC),
        ("transaction_breakdown", analytics_v1.BREAKDOWN),
        ("customer_interactions", analytics_v1.INTERACTION_COUNTS),
        ("segment_activity", [*analytics_v1.SEGMENT_TYPES, *analytics_v1.DAILY]),
    ]
    for name, columns in grouped:
        assert {column[0] for column in columns} <= set(sql_columns(client, "analytics", name))
    summary = analytics_v1.SegmentAnalyticsResponse.model_fields["data"].annotation
    assert set(sql_columns(client, "analytics", "segment_summary")) <= set(summary.model_fields)


def test_every_route_is_documented_with_an_example(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    routes = [path for path in schema["paths"] if path.startswith("/api/v1/analytics")]
    assert len(routes) == 7
    for route in routes:
        operation = schema["paths"][route]["get"]
        assert operation["summary"], route
        assert operation["description"], route
        for parameter in operation.get("parameters", []):
            assert parameter.get("description"), (route, parameter["name"])
        reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        (example,) = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["examples"]
        assert example["success"] is True
        assert example["data"], route
