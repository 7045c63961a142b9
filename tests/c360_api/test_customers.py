"""/api/v1/customers: the directory, one customer's 360 profile in sections and their purchase
history, value by value against independent computations on the hand-built snapshot."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from c360_api.routers.analytics_v1 import MEMBERSHIPS
from c360_api.routers.customers import DIRECTORY, SECTIONS
from c360_api.routers.customers import TRANSACTIONS as TRANSACTIONS_ROW
from tests.c360_api import expected
from tests.c360_api.conftest import CUSTOMERS, TRANSACTIONS, sql_columns
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


def _page(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["success"] is True
    return body


DIRECTORY_CASES: list[tuple[str, Callable[[], list[dict[str, Any]]]]] = [
    ("", lambda: expected.directory(CUSTOMERS)),
    ("search=ADA", lambda: expected.directory(CUSTOMERS, search="ADA")),
    ("search=hopper%40", lambda: expected.directory(CUSTOMERS, search="hopper@")),
    ("search=c08", lambda: expected.directory(CUSTOMERS, search="c08")),
    ("search=%25", lambda: []),
    ("search=_", lambda: []),
    ("segment=SMB", lambda: expected.directory(CUSTOMERS, equals={"customer_segment": "SMB"})),
    ("rfm_segment=At%20Risk",
     lambda: expected.directory(CUSTOMERS, equals={"rfm_segment": "At Risk"})),
    ("loyalty_tier=Bronze",
     lambda: expected.directory(CUSTOMERS, equals={"loyalty_tier": "Bronze"})),
    ("customer_status=New",
     lambda: expected.directory(CUSTOMERS, equals={"customer_status": "New"})),
    ("lifecycle_stage=Lapsed",
     lambda: expected.directory(CUSTOMERS, equals={"lifecycle_stage": "Lapsed"})),
    ("region=North", lambda: expected.directory(CUSTOMERS, equals={"region": "North"})),
    ("generation=Gen%20Z", lambda: expected.directory(CUSTOMERS, equals={"generation": "Gen Z"})),
    ("generation=Nobody", lambda: []),
    ("min_total_spent=980&max_total_spent=2100",
     lambda: expected.directory(CUSTOMERS, spent=(980.0, 2100.0))),
    ("min_total_spent=1000", lambda: expected.directory(CUSTOMERS, spent=(1000.0, None))),
    ("max_health_score=2.4", lambda: expected.directory(CUSTOMERS, health=(None, 2.4))),
    ("min_health_score=2.05&max_health_score=4.02",
     lambda: expected.directory(CUSTOMERS, health=(2.05, 4.02))),
    ("region=North&customer_status=At%20Risk&search=alan",
     lambda: expected.directory(CUSTOMERS, search="alan",
                                equals={"region": "North", "customer_status": "At Risk"})),
    ("sort=total_spent&order=desc",
     lambda: expected.directory(CUSTOMERS, sort="total_spent", descending=True)),
    ("sort=customer_name", lambda: expected.directory(CUSTOMERS, sort="customer_name")),
    ("sort=orders&order=desc",
     lambda: expected.directory(CUSTOMERS, sort="orders", descending=True)),
    ("sort=predicted_clv_12m",
     lambda: expected.directory(CUSTOMERS, sort="predicted_clv_12m")),
    ("sort=last_purchase_date&order=desc",
     lambda: expected.directory(CUSTOMERS, sort="last_purchase_date", descending=True)),
    ("sort=customer_health_score&order=asc&segment=Consumer",
     lambda: expected.directory(CUSTOMERS, sort="customer_health_score",
                                equals={"customer_segment": "Consumer"})),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "expect"), DIRECTORY_CASES, ids=[case[0] or "all" for case in DIRECTORY_CASES]
)
def test_the_directory_searches_filters_and_sorts_like_an_independent_computation(
    client: TestClient, query: str, expect: Callable[[], list[dict[str, Any]]]
) -> None:
    body = _page(client, f"/api/v1/customers?{query}")
    rows = expect()
    expected.assert_rows_equal(body["data"], rows)
    assert (body["count"], body["total"], body["truncated"]) == (len(rows), len(rows), False)
    assert (body["page"], body["page_size"], body["pages"]) == (1, 50, 1 if rows else 0)


def test_the_directory_pages_through_every_customer_once(client: TestClient) -> None:
    everything = expected.directory(CUSTOMERS, sort="total_spent", descending=True)
    seen: list[dict[str, Any]] = []
    for page in (1, 2, 3):
        body = _page(
            client, f"/api/v1/customers?sort=total_spent&order=desc&page={page}&page_size=3"
        )
        assert (body["total"], body["pages"], body["page"], body["page_size"]) == (8, 3, page, 3)
        assert body["count"] == len(body["data"]) == (3 if page < 3 else 2), (
            "the last page is short"
        )
        assert body["truncated"] is (page < 3)
        seen.extend(body["data"])
    expected.assert_rows_equal(seen, everything)
    past = _page(client, "/api/v1/customers?sort=total_spent&order=desc&page=4&page_size=3")
    assert (past["data"], past["count"], past["total"], past["pages"]) == ([], 0, 8, 3)
    assert past["truncated"] is False


def test_the_directory_is_available_as_csv(client: TestClient) -> None:
    response = client.get("/api/v1/customers?sort=customer_name&page_size=2&format=csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert (response.headers["x-total-count"], response.headers["x-truncated"]) == ("8", "true")
    names = [row["customer_name"] for row in csv.DictReader(io.StringIO(response.text))]
    wanted = expected.directory(CUSTOMERS, sort="customer_name")[:2]
    assert names == [row["customer_name"] for row in wanted]


HISTORY_CASES: list[tuple[str, str, Callable[[], list[dict[str, Any]]]]] = [
    ("C01", "", lambda: expected.history(TRANSACTIONS, "C01")),
    ("C01", "order=asc", lambda: expected.history(TRANSACTIONS, "C01", descending=False)),
    ("C01", "sort=amount&order=desc",
     lambda: expected.history(TRANSACTIONS, "C01", sort="amount")),
    ("C01", "sort=amount&order=asc",
     lambda: expected.history(TRANSACTIONS, "C01", sort="amount", descending=False)),
    ("C01", "start_date=2025-11-15&end_date=2025-12-28",
     lambda: expected.history(TRANSACTIONS, "C01", dates=(date(2025, 11, 15), date(2025, 12, 28)))),
    ("C01", "end_date=2025-11-14",
     lambda: expected.history(TRANSACTIONS, "C01", dates=(None, date(2025, 11, 14)))),
    ("C01", "category=Books", lambda: expected.history(TRANSACTIONS, "C01", category="Books")),
    ("C01", "channel=online&category=Toys",
     lambda: expected.history(TRANSACTIONS, "C01", channel="online", category="Toys")),
    ("C01", "min_amount=100&max_amount=200",
     lambda: expected.history(TRANSACTIONS, "C01", amounts=(100.0, 200.0))),
    ("C02", "", lambda: expected.history(TRANSACTIONS, "C02")),
    ("C02", "category=Toys", lambda: expected.history(TRANSACTIONS, "C02", category="Toys")),
    ("C07", "", lambda: []),
]  # fmt: skip


@pytest.mark.parametrize(
    ("customer_id", "query", "expect"),
    HISTORY_CASES,
    ids=[f"{case[0]}?{case[1]}" for case in HISTORY_CASES],
)
def test_a_customers_transactions_match_an_independent_computation(
    client: TestClient,
    customer_id: str,
    query: str,
    expect: Callable[[], list[dict[str, Any]]],
) -> None:
    body = _page(client, f"/api/v1/customers/{customer_id}/transactions?{query}")
    rows = expect()
    expected.assert_rows_equal(body["data"], rows)
    assert (body["total"], body["pages"]) == (len(rows), 1 if rows else 0)
    assert body["message"] == f"customer {customer_id}'s transactions"


def test_ties_in_the_history_are_broken_by_transaction_id(client: TestClient) -> None:
    ids = [row["transaction_id"] for row in
           _page(client, "/api/v1/customers/C01/transactions?sort=amount")["data"]]  # fmt: skip
    assert ids == ["T003", "T004", "T001", "T002"]


def test_the_history_pages_and_a_page_past_the_end_is_empty(client: TestClient) -> None:
    everything = expected.history(TRANSACTIONS, "C01")
    last = _page(client, "/api/v1/customers/C01/transactions?page=2&page_size=3")
    expected.assert_rows_equal(last["data"], everything[3:])
    assert (last["count"], last["total"], last["pages"], last["truncated"]) == (1, 4, 2, False)
    past = _page(client, "/api/v1/customers/C01/transactions?page=9&page_size=3")
    assert (past["data"], past["total"], past["pages"]) == ([], 4, 2)


@pytest.mark.parametrize("query", ["", "category=Books", "page=3&page_size=2"])
def test_the_history_of_an_unknown_customer_is_a_404_envelope(
    client: TestClient, query: str
) -> None:
    response = client.get(f"/api/v1/customers/C99/transactions?{query}")
    assert response.status_code == 404
    body = response.json()
    assert (body["success"], body["error_type"]) == (False, "not_found")
    assert "C99" in body["error_message"]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/api/v1/customers?sort=email", "query.sort"),
        ("/api/v1/customers?sort=customer_id;drop table customer_360", "query.sort"),
        ("/api/v1/customers?order=sideways", "query.order"),
        ("/api/v1/customers?page=0", "query.page"),
        ("/api/v1/customers?page_size=0", "query.page_size"),
        ("/api/v1/customers?page_size=501", "query.page_size"),
        ("/api/v1/customers?min_health_score=0.5", "query.min_health_score"),
        ("/api/v1/customers?max_health_score=6", "query.max_health_score"),
        ("/api/v1/customers?min_total_spent=lots", "query.min_total_spent"),
        ("/api/v1/customers?min_total_spent=500&max_total_spent=100", "query.min_total_spent"),
        ("/api/v1/customers?min_health_score=4&max_health_score=2", "query.min_health_score"),
        ("/api/v1/customers?search=", "query.search"),
        ("/api/v1/customers?format=xml", "query.format"),
        ("/api/v1/customers/C01/transactions?sort=category", "query.sort"),
        ("/api/v1/customers/C01/transactions?page_size=501", "query.page_size"),
        ("/api/v1/customers/C01/transactions?start_date=2025-13-01", "query.start_date"),
        ("/api/v1/customers/C01/transactions?start_date=2025-12-02&end_date=2025-12-01",
         "query.start_date"),
        ("/api/v1/customers/C01/transactions?min_amount=10&max_amount=5", "query.min_amount"),
    ],
)  # fmt: skip
def test_invalid_parameters_get_a_422_envelope_naming_the_field(
    client: TestClient, path: str, field: str
) -> None:
    response = client.get(path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["success"], body["error_type"]) == (False, "validation_error")
    assert field in [f["field"] for f in body["error_details"]["fields"]]


def test_the_documented_rows_are_the_queries_columns(client: TestClient) -> None:
    for name, columns in (
        ("customer_directory", DIRECTORY),
        ("customer_transactions", TRANSACTIONS_ROW),
    ):
        assert sql_columns(client, "customers", name) == [column[0] for column in columns]
    memberships = sql_columns(client, "customers", "customer_memberships")
    assert memberships == ["customer_id", *(column[0] for column in MEMBERSHIPS)]


def test_the_list_routes_are_documented_with_examples(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    for route in ("/api/v1/customers", "/api/v1/customers/{customer_id}/transactions"):
        operation = schema["paths"][route]["get"]
        assert operation["summary"]
        assert operation["description"]
        assert {"application/json", "text/csv"} <= set(operation["responses"]["200"]["content"])
        for parameter in operation["parameters"]:
            assert parameter.get("description"), (route, parameter["name"])
        reference = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        (example,) = schema["components"]["schemas"][reference.rsplit("/", 1)[1]]["examples"]
        assert {"page", "page_size", "pages", "total"} <= set(example)
