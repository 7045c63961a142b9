"""The query service's building blocks: sort orders, snapshot-bound parameters, combined calls."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from c360_api.service import Page, QueryCall, SortOrder
from tests.c360_api.conftest import AS_OF, ORG


def test_a_sort_order_reaches_sql_only_as_a_plain_identifier() -> None:
    order = SortOrder("total_spent", descending=True, tie_breaker="customer_id")
    assert order.sql == '"total_spent" desc nulls last, "customer_id"'
    for bad in ('total_spent"; drop table customer_360; --', "Total", "1st", ""):
        with pytest.raises(ValueError, match="not a column name"):
            SortOrder(bad, descending=False, tie_breaker="customer_id")
    with pytest.raises(ValueError, match="not a column name"):
        SortOrder("total_spent", descending=False, tie_breaker="id desc")


def test_as_of_is_bound_from_the_snapshot_never_by_a_route(client: TestClient) -> None:
    service = client.app.state.query_service  # type: ignore[attr-defined]
    with service.engine.open(ORG) as db:
        totals = service.fetch(db, QueryCall(("analytics", "interaction_totals"), {}))
        assert totals.records()[0]["as_of"] == AS_OF
        with pytest.raises(ValueError, match="the service binds"):
            service.fetch(db, QueryCall(("analytics", "interaction_totals"), {"as_of": AS_OF}))
        with pytest.raises(ValueError, match="binds"):
            service.fetch(db, QueryCall(("customers", "customer_detail"), {}))


def test_a_call_without_a_page_returns_every_row_and_an_order_replaces_the_files(
    client: TestClient,
) -> None:
    service = client.app.state.query_service  # type: ignore[attr-defined]
    with service.engine.open(ORG) as db:
        everyone = service.fetch(db, QueryCall(("analytics", "segment_sizes"), {}))
        by_name = service.fetch(
            db,
            QueryCall(
                ("analytics", "segment_sizes"),
                {},
                Page(limit=3, offset=1),
                SortOrder("rfm_segment", descending=True, tie_breaker="rfm_segment"),
            ),
        )
    names = sorted((row[0] for row in everyone.rows), reverse=True)
    assert (everyone.total, len(everyone.rows)) == (len(names), len(names))
    assert [row[0] for row in by_name.rows] == names[1:4]
    assert by_name.total == len(names)


@pytest.mark.parametrize(
    "page", [Page(limit=2), Page(limit=2, offset=2), Page(limit=2, offset=40), Page(limit=50)]
)
def test_a_small_call_counts_its_answer_in_the_page_query_with_the_same_rows_and_total(
    client: TestClient, page: Page
) -> None:
    service = client.app.state.query_service  # type: ignore[attr-defined]
    order = SortOrder("rfm_segment", descending=False, tie_breaker="rfm_segment")
    query = ("analytics", "segment_sizes")
    with service.engine.open(ORG) as db:
        everyone = service.fetch(db, QueryCall(query, {}, order=order))
        small = service.fetch(db, QueryCall(query, {}, page, order, small=True))
        counted = service.fetch(db, QueryCall(query, {}, page, order))
    assert everyone.total > 2
    assert small.columns == counted.columns == everyone.columns
    assert small.rows == counted.rows == everyone.rows[page.offset : page.offset + page.limit]
    assert small.total == counted.total == everyone.total
