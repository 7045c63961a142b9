"""Independent expectations for the team endpoints, computed in plain Python from the rows
of the hand-built snapshot (no SQL involved)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

Row = dict[str, Any]


def assert_rows_equal(actual: list[Row], wanted: list[Row]) -> None:
    """Same rows in the same order, same columns in the same order; floats to 1e-9."""
    assert len(actual) == len(wanted), (actual, wanted)
    for got, want in zip(actual, wanted, strict=True):
        assert list(got) == list(want), (list(got), list(want))
        for column, value in want.items():
            if isinstance(value, float):
                assert got[column] == pytest.approx(value, rel=1e-9, abs=1e-9), (column, got)
            else:
                assert got[column] == value, (column, got)


def json_value(value: Any) -> Any:
    """A value as the API's JSON carries it (dates as ISO text)."""
    return value.isoformat() if isinstance(value, date) else value


def sql_round(value: float | None, digits: int) -> float | None:
    """SQL `round`: half away from zero (on the decimal text of the value)."""
    if value is None:
        return None
    quantum = Decimal(1).scaleb(-digits)
    rounded = Decimal(repr(value)).copy_abs().quantize(quantum, rounding=ROUND_HALF_UP)
    return float(rounded if value >= 0 else -rounded)


def values(rows: Iterable[Row], column: str) -> list[Any]:
    """The non-null values of a column."""
    return [row.get(column) for row in rows if row.get(column) is not None]


def mean(rows: Iterable[Row], column: str, digits: int) -> float | None:
    """Rounded mean of the non-null values (None when there are none), like SQL `avg`."""
    found = values(rows, column)
    return sql_round(sum(found) / len(found), digits) if found else None


def total(rows: Iterable[Row], column: str, digits: int | None = None) -> Any:
    """Sum of the non-null values (None when there are none), like SQL `sum`."""
    found = values(rows, column)
    if not found:
        return None
    return sql_round(sum(found), digits) if digits is not None else sum(found)


def count_if(rows: Iterable[Row], predicate: Callable[[Row], bool]) -> int:
    """Number of rows for which `predicate` holds."""
    return sum(1 for row in rows if predicate(row))


def group_by(rows: Iterable[Row], key: Callable[[Row], Any]) -> dict[Any, list[Row]]:
    """Rows grouped by a key, in first-seen order."""
    groups: dict[Any, list[Row]] = {}
    for row in rows:
        groups.setdefault(key(row), []).append(row)
    return groups


def health_overview(customers: list[Row]) -> list[Row]:
    n = len(customers)
    result = [
        {
            "customer_status": status,
            "customers": len(rows),
            "customer_share": sql_round(len(rows) / n, 4),
            "avg_health_score": mean(rows, "customer_health_score", 2),
            "avg_total_spent": mean(rows, "total_spent", 2),
            "total_spent": total(rows, "total_spent", 2),
            "avg_p_alive": mean(rows, "p_alive", 4),
            "avg_recency_days": mean(rows, "recency_days", 1),
        }
        for status, rows in group_by(customers, lambda r: r["customer_status"]).items()
    ]
    return sorted(result, key=lambda r: (-r["customers"], r["customer_status"]))


CHURN_COLUMNS = [
    "customer_id", "customer_name", "customer_segment", "loyalty_tier", "total_spent",
    "risk_status", "customer_health_score", "customer_status", "recency_days", "p_alive",
    "predicted_clv_12m",
]  # fmt: skip


def churn_risk(customers: list[Row], min_value: float) -> list[Row]:
    kept = [
        {column: row.get(column) for column in CHURN_COLUMNS}
        for row in customers
        if row["risk_status"] in ("High Risk", "Medium Risk") and row["total_spent"] >= min_value
    ]
    return sorted(kept, key=lambda r: (-r["total_spent"], r["customer_id"]))


TIER_RANK = {"Platinum": 1, "Gold": 2, "Silver": 3, "Bronze": 4}


def loyalty(customers: list[Row]) -> list[Row]:
    n = len(customers)
    result = [
        {
            "loyalty_tier": tier,
            "customers": len(rows),
            "loyalty_members": count_if(rows, lambda r: bool(r.get("is_loyalty_member"))),
            "customer_share": sql_round(len(rows) / n, 4),
            "total_loyalty_points": total(rows, "loyalty_points"),
            "avg_loyalty_points": mean(rows, "loyalty_points", 1),
            "revenue_12m": total(rows, "revenue_12m", 2),
            "avg_revenue_12m": mean(rows, "revenue_12m", 2),
            "avg_spend_to_next_tier": mean(rows, "spend_to_next_tier", 2),
            "tier_rank": TIER_RANK.get(tier, 5),
        }
        for tier, rows in group_by(customers, lambda r: r["loyalty_tier"]).items()
    ]
    return sorted(result, key=lambda r: (r["tier_rank"], r["loyalty_tier"]))


def segmentation(customers: list[Row]) -> list[Row]:
    n = len(customers)
    groups = group_by(customers, lambda r: r.get("rfm_segment") or "No Purchases")
    result = [
        {
            "rfm_segment": segment,
            "customers": len(rows),
            "customer_share": sql_round(len(rows) / n, 4),
            "avg_recency_days": mean(rows, "recency_days", 1),
            "avg_orders": mean(rows, "orders", 2),
            "avg_total_spent": mean(rows, "total_spent", 2),
            "total_revenue": total(rows, "total_spent", 2),
            "avg_health_score": mean(rows, "customer_health_score", 2),
            "avg_predicted_clv_12m": mean(rows, "predicted_clv_12m", 2),
        }
        for segment, rows in groups.items()
    ]
    return sorted(result, key=lambda r: (-r["total_revenue"], r["rfm_segment"]))


GENERATION_RANK = {"Gen Z": 1, "Millennial": 2, "Gen X": 3, "Boomer": 4, "Silent": 5}


def engagement(customers: list[Row]) -> list[Row]:
    result = []
    for generation, rows in group_by(customers, lambda r: r.get("generation") or "Unknown").items():
        adopters = count_if(rows, lambda r: bool(r["is_app_adopter"]))
        result.append(
            {
                "generation": generation,
                "customers": len(rows),
                "app_adopters": adopters,
                "app_adoption_rate": sql_round(adopters / len(rows), 4),
                "digitally_active_90d": count_if(
                    rows, lambda r: r["app_sessions_90d"] + r["web_sessions_90d"] > 0
                ),
                "avg_app_sessions_30d": mean(rows, "app_sessions_30d", 2),
                "avg_web_sessions_30d": mean(rows, "web_sessions_30d", 2),
                "avg_app_sessions_90d": mean(rows, "app_sessions_90d", 2),
                "avg_web_sessions_90d": mean(rows, "web_sessions_90d", 2),
                "avg_total_spent": mean(rows, "total_spent", 2),
                "generation_rank": GENERATION_RANK.get(generation, 6),
            }
        )
    return sorted(result, key=lambda r: (r["generation_rank"], r["generation"]))


def cross_sell(candidates: list[Row]) -> list[Row]:
    groups = group_by(candidates, lambda r: (r["opportunity_type"], r["recommendation"]))
    result = [
        {
            "opportunity_type": kind,
            "recommendation": recommendation,
            "customers": len(rows),
            "avg_score": mean(rows, "score", 4),
            "max_score": sql_round(max(values(rows, "score")), 4),
        }
        for (kind, recommendation), rows in groups.items()
    ]
    return sorted(
        result, key=lambda r: (r["opportunity_type"], -r["customers"], r["recommendation"])
    )


def lifetime_value(customers: list[Row]) -> list[Row]:
    groups = group_by(customers, lambda r: r.get("customer_segment") or "Unknown")
    result = [
        {
            "customer_segment": segment,
            "customer_count": len(rows),
            "buyers": count_if(rows, lambda r: r["orders"] > 0),
            "avg_lifetime_value": mean(rows, "historic_clv", 2),
            "total_revenue": total(rows, "total_spent", 2),
            "total_gross_margin": total(rows, "historic_gross_margin", 2),
            "avg_predicted_clv_12m": mean(rows, "predicted_clv_12m", 2),
            "total_predicted_clv_12m": total(rows, "predicted_clv_12m", 2),
            "avg_p_alive": mean(rows, "p_alive", 4),
        }
        for segment, rows in groups.items()
    ]
    return sorted(result, key=lambda r: (-r["total_revenue"], r["customer_segment"]))


def revenue(monthly: list[Row]) -> list[Row]:
    result: list[Row] = []
    previous = None
    for month, rows in sorted(group_by(monthly, lambda r: r["month_date"]).items()):
        month_revenue = total(rows, "revenue")
        orders = total(rows, "orders")
        change = (month_revenue - previous) / previous if previous else None
        result.append(
            {
                "month_date": month.isoformat(),
                "revenue": sql_round(month_revenue, 2),
                "orders": orders,
                "avg_order_value": sql_round(month_revenue / orders, 2),
                "gross_margin": total(rows, "gross_margin", 2),
                "units": total(rows, "units"),
                "revenue_change": sql_round(change, 4),
            }
        )
        previous = month_revenue
    return result


def rfm(customers: list[Row]) -> list[Row]:
    buyers = [row for row in customers if row.get("rfm_segment")]
    revenue_all = sum(row["total_spent"] for row in buyers)
    result = [
        {
            "rfm_segment": segment,
            "customers": len(rows),
            "customer_share": sql_round(len(rows) / len(buyers), 4),
            "avg_r_score": mean(rows, "r_score", 2),
            "avg_f_score": mean(rows, "f_score", 2),
            "avg_m_score": mean(rows, "m_score", 2),
            "avg_recency_days": mean(rows, "recency_days", 1),
            "avg_orders": mean(rows, "orders", 2),
            "avg_monetary": mean(rows, "total_spent", 2),
            "revenue": total(rows, "total_spent", 2),
            "revenue_share": sql_round(total(rows, "total_spent") / revenue_all, 4),
        }
        for segment, rows in group_by(buyers, lambda r: r["rfm_segment"]).items()
    ]
    return sorted(result, key=lambda r: (-r["revenue"], r["rfm_segment"]))


def profitability(customers: list[Row]) -> list[Row]:
    groups = group_by(customers, lambda r: r.get("customer_segment") or "Unknown")
    result = [
        {
            "customer_segment": segment,
            "customers": len(rows),
            "revenue": total(rows, "total_spent", 2),
            "gross_margin": total(rows, "gross_margin", 2),
            "gross_margin_pct": sql_round(
                total(rows, "gross_margin") / total(rows, "total_spent"), 4
            ),
            "service_cost": total(rows, "service_cost", 2),
            "net_contribution": total(rows, "net_contribution", 2),
            "avg_net_contribution": mean(rows, "net_contribution", 2),
            "unprofitable_customers": count_if(rows, lambda r: r["net_contribution"] < 0),
        }
        for segment, rows in groups.items()
    ]
    return sorted(result, key=lambda r: (-r["net_contribution"], r["customer_segment"]))


def support(customers: list[Row]) -> list[Row]:
    result = [
        {
            "customer_status": status,
            "customers": len(rows),
            "customers_with_tickets": count_if(rows, lambda r: r["tickets_total"] > 0),
            "tickets": total(rows, "tickets_total"),
            "open_tickets": total(rows, "open_tickets"),
            "avg_satisfaction": mean(rows, "avg_satisfaction", 2),
            "avg_resolution_hours": mean(rows, "avg_resolution_hours", 1),
            "complaints_90d": total(rows, "complaints_90d"),
            "interactions": total(rows, "interactions_total"),
            "avg_interactions": mean(rows, "interactions_total", 2),
        }
        for status, rows in group_by(customers, lambda r: r["customer_status"]).items()
    ]
    return sorted(result, key=lambda r: (-r["customers"], r["customer_status"]))


STAGE_RANK = {"Prospect": 1, "New": 2, "Growing": 3, "Mature": 4, "Declining": 5, "Lapsed": 6}


def lifecycle(customers: list[Row]) -> list[Row]:
    n = len(customers)
    result = [
        {
            "lifecycle_stage": stage,
            "customers": len(rows),
            "customer_share": sql_round(len(rows) / n, 4),
            "avg_tenure_days": mean(rows, "tenure_days", 1),
            "avg_total_spent": mean(rows, "total_spent", 2),
            "revenue_90d": total(rows, "revenue_90d", 2),
            "revenue_prev_90d": total(rows, "revenue_prev_90d", 2),
            "avg_health_score": mean(rows, "customer_health_score", 2),
            "avg_p_alive": mean(rows, "p_alive", 4),
            "high_risk_customers": count_if(rows, lambda r: r["risk_status"] == "High Risk"),
            "stage_rank": STAGE_RANK.get(stage, 7),
        }
        for stage, rows in group_by(customers, lambda r: r["lifecycle_stage"]).items()
    ]
    return sorted(result, key=lambda r: (r["stage_rank"], r["lifecycle_stage"]))


PROFILE_COLUMNS = [
    "customer_id", "customer_name", "email", "region", "customer_segment", "generation",
    "customer_status", "lifecycle_stage", "rfm_segment", "loyalty_tier", "orders",
    "total_spent", "last_purchase_date", "customer_health_score", "p_alive",
    "predicted_clv_12m", "risk_status",
]  # fmt: skip


def profiles(customers: list[Row], statuses: set[str], min_health: float) -> list[Row]:
    kept = [
        {column: json_value(row.get(column)) for column in PROFILE_COLUMNS}
        for row in customers
        if row["customer_status"] in statuses and row["customer_health_score"] >= min_health
    ]
    return sorted(kept, key=lambda r: (-r["customer_health_score"], r["customer_id"]))


def assert_same(actual: Any, wanted: Any, path: str = "data") -> None:
    """Equal JSON values, recursively: objects with the same keys in the same order, lists of
    the same length, floats to 1e-9."""
    if isinstance(wanted, dict):
        assert isinstance(actual, dict), (path, actual)
        assert list(actual) == list(wanted), (path, list(actual), list(wanted))
        for key, value in wanted.items():
            assert_same(actual[key], value, f"{path}.{key}")
    elif isinstance(wanted, list):
        assert isinstance(actual, list), (path, actual)
        assert len(actual) == len(wanted), (path, actual, wanted)
        for index, (got, want) in enumerate(zip(actual, wanted, strict=True)):
            assert_same(got, want, f"{path}[{index}]")
    elif isinstance(wanted, float):
        assert actual == pytest.approx(wanted, rel=1e-9, abs=1e-9), (path, actual, wanted)
    else:
        assert actual == wanted, (path, actual, wanted)


def ordered(rows: list[Row], column: str, *, descending: bool, tie: str) -> list[Row]:
    """Rows by `column` (nulls last either way), ties by `tie` ascending."""
    present = sorted((r for r in rows if r[column] is not None), key=lambda r: r[tie])
    present.sort(key=lambda r: r[column], reverse=descending)  # stable: ties keep `tie` order
    missing = sorted((r for r in rows if r[column] is None), key=lambda r: r[tie])
    return present + missing


def within(value: Any, low: Any, high: Any) -> bool:
    """`low <= value <= high` with a missing bound open; a null value is never within bounds."""
    if low is None and high is None:
        return True
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def pick(row: Row, columns: list[str]) -> Row:
    """The columns of a row, as the API's JSON carries them."""
    return {column: json_value(row.get(column)) for column in columns}


DIRECTORY_COLUMNS = PROFILE_COLUMNS  # a directory row is the customer-profiles row


def directory(
    customers: list[Row],
    *,
    search: str | None = None,
    equals: dict[str, Any] | None = None,
    spent: tuple[float | None, float | None] = (None, None),
    health: tuple[float | None, float | None] = (None, None),
    sort: str = "customer_id",
    descending: bool = False,
) -> list[Row]:
    def keep(row: Row) -> bool:
        found = search is None or any(
            search.lower() in (row.get(column) or "").lower()
            for column in ("customer_id", "customer_name", "email")
        )
        return (
            found
            and all(row.get(column) == value for column, value in (equals or {}).items())
            and within(row.get("total_spent"), *spent)
            and within(row.get("customer_health_score"), *health)
        )

    kept = [pick(row, DIRECTORY_COLUMNS) for row in customers if keep(row)]
    return ordered(kept, sort, descending=descending, tie="customer_id")


TRANSACTION_COLUMNS = [
    "transaction_id", "transaction_date", "category", "product_id", "quantity", "amount",
    "channel", "store_id", "region",
]  # fmt: skip


def history(
    transactions: list[Row],
    customer_id: str,
    *,
    dates: tuple[date | None, date | None] = (None, None),
    category: str | None = None,
    channel: str | None = None,
    amounts: tuple[float | None, float | None] = (None, None),
    sort: str = "transaction_date",
    descending: bool = True,
) -> list[Row]:
    kept = [
        row
        for row in transactions
        if row["customer_id"] == customer_id
        and within(row["transaction_date"], *dates)
        and (category is None or row.get("category") == category)
        and (channel is None or row.get("channel") == channel)
        and within(row["amount"], *amounts)
    ]
    rows = ordered(kept, sort, descending=descending, tie="transaction_id")
    return [pick(row, TRANSACTION_COLUMNS) for row in rows]


DEMOGRAPHIC_DIMENSIONS = [
    "generation", "region", "customer_segment", "loyalty_tier", "customer_status",
]  # fmt: skip


def _month(day: date) -> date:
    return day.replace(day=1)


def demographics(customers: list[Row]) -> Row:
    n = len(customers)

    def value_of(rows: list[Row]) -> Row:
        return {
            "customers": len(rows),
            "total_spent": total(rows, "total_spent", 2),
            "avg_total_spent": mean(rows, "total_spent", 2),
            "predicted_clv_12m": total(rows, "predicted_clv_12m", 2),
        }

    def breakdown(dimension: str) -> list[Row]:
        groups = group_by(customers, lambda r: r.get(dimension) or "Unknown")
        rows = [
            {
                "dimension_value": value,
                "customers": len(members),
                "customer_share": sql_round(len(members) / n, 4),
                **{k: v for k, v in value_of(members).items() if k != "customers"},
            }
            for value, members in groups.items()
        ]
        return sorted(rows, key=lambda r: (-r["customers"], r["dimension_value"]))

    signups = group_by(
        [row for row in customers if row.get("signup_date")], lambda r: _month(r["signup_date"])
    )
    return {
        **value_of(customers),
        **{f"by_{dimension}": breakdown(dimension) for dimension in DEMOGRAPHIC_DIMENSIONS},
        "signups_by_month": [
            {"signup_month": month.isoformat(), "signups": len(rows)}
            for month, rows in sorted(signups.items())
        ],
    }


def _period(day: date, granularity: str) -> date:
    if granularity == "day":
        return day
    if granularity == "week":
        return day - timedelta(days=day.weekday())
    return _month(day)


def trends(transactions: list[Row], granularity: str, start: date | None, end: date | None) -> Row:
    rows = [row for row in transactions if within(row["transaction_date"], start, end)]

    def sales(group: list[Row]) -> Row:
        revenue = sum(row["amount"] for row in group)
        return {
            "revenue": sql_round(revenue, 2),
            "orders": len(group),
            "avg_order_value": sql_round(revenue / len(group), 2),
        }

    def breakdown(dimension: str) -> list[Row]:
        revenue_all = sum(row["amount"] for row in rows)
        result = [
            {
                "dimension_value": value,
                **sales(group),
                "revenue_share": sql_round(sum(r["amount"] for r in group) / revenue_all, 4),
            }
            for value, group in group_by(rows, lambda r: r.get(dimension) or "Unknown").items()
        ]
        return sorted(result, key=lambda r: (-r["revenue"], r["dimension_value"]))

    periods = group_by(rows, lambda r: _period(r["transaction_date"], granularity))
    overall = sales(rows) if rows else {"revenue": None, "orders": 0, "avg_order_value": None}
    return {
        "granularity": granularity,
        "start_date": json_value(start),
        "end_date": json_value(end),
        **overall,
        "trend": [
            {
                "period_start": period.isoformat(),
                "revenue": sales(group)["revenue"],
                "orders": len(group),
                "customers": len({row["customer_id"] for row in group}),
                "avg_order_value": sales(group)["avg_order_value"],
            }
            for period, group in sorted(periods.items())
        ],
        "by_category": breakdown("category"),
        "by_channel": breakdown("channel"),
    }


INTERACTION_COLUMNS = [
    "interaction_id", "interaction_type", "status", "interaction_at", "channel",
    "duration_minutes",
]  # fmt: skip
MEMBERSHIP_COLUMNS = [
    "rfm_segment", "customer_segment", "lifecycle_stage", "loyalty_tier", "customer_status",
]  # fmt: skip


def recorded(interactions: list[Row], as_of: date) -> list[Row]:
    """Interactions up to the end of the as-of day (UTC)."""
    return [row for row in interactions if row["interaction_at"].date() <= as_of]


def latest_first(rows: list[Row]) -> list[Row]:
    """Latest first, ties by interaction id."""
    by_id = sorted(rows, key=lambda r: r["interaction_id"])
    return sorted(by_id, key=lambda r: r["interaction_at"], reverse=True)


def customer_interactions(
    customers: list[Row], interactions: list[Row], customer_id: str, as_of: date, limit: int
) -> Row:
    customer = next(row for row in customers if row["customer_id"] == customer_id)
    rows = [r for r in recorded(interactions, as_of) if r["customer_id"] == customer_id]

    def counts(column: str) -> list[Row]:
        result = [
            {
                "dimension_value": value,
                "interactions": len(group),
                "last_interaction_at": json_value(max(r["interaction_at"] for r in group)),
            }
            for value, group in group_by(rows, lambda r: r[column]).items()
        ]
        return sorted(result, key=lambda r: (-r["interactions"], r["dimension_value"]))

    return {
        "customer_id": customer_id,
        "segments": pick(customer, MEMBERSHIP_COLUMNS),
        "interactions": len(rows),
        "last_interaction_at": json_value(max((r["interaction_at"] for r in rows), default=None)),
        "by_interaction_type": counts("interaction_type"),
        "by_status": counts("status"),
        "recent_interactions": [pick(r, INTERACTION_COLUMNS) for r in latest_first(rows)[:limit]],
    }


def segment_of(row: Row) -> str:
    """A customer's RFM segment as the API names it."""
    return row.get("rfm_segment") or "No Purchases"


def segment_sizes(customers: list[Row]) -> list[Row]:
    rows = [
        {
            "rfm_segment": segment,
            "customers": len(members),
            "customer_share": sql_round(len(members) / len(customers), 4),
        }
        for segment, members in group_by(customers, segment_of).items()
    ]
    return sorted(rows, key=lambda r: (-r["customers"], r["rfm_segment"]))


def segment_activity(
    customers: list[Row], interactions: list[Row], segment: str, as_of: date, days: int
) -> Row:
    members = {row["customer_id"] for row in customers if segment_of(row) == segment}
    start = as_of - timedelta(days=days - 1)
    rows = [
        r
        for r in interactions
        if r["customer_id"] in members and start <= r["interaction_at"].date() <= as_of
    ]
    types = [
        {
            "interaction_type": kind,
            "interactions": len(group),
            "active_customers": len({r["customer_id"] for r in group}),
            "interaction_share": sql_round(len(group) / len(rows), 4),
        }
        for kind, group in group_by(rows, lambda r: r["interaction_type"]).items()
    ]
    by_day = group_by(rows, lambda r: r["interaction_at"].date())
    return {
        "rfm_segment": segment,
        "days": days,
        "window_start": start.isoformat(),
        "window_end": as_of.isoformat(),
        "customers": len(members),
        "interactions": len(rows),
        "active_customers": len({r["customer_id"] for r in rows}),
        "avg_interactions_per_customer": sql_round(len(rows) / len(members), 2),
        "interaction_types": sorted(
            types, key=lambda r: (-r["interactions"], r["interaction_type"])
        ),
        "daily_activity": [
            {
                "activity_date": day.isoformat(),
                "interactions": len(by_day.get(day, [])),
                "active_customers": len({r["customer_id"] for r in by_day.get(day, [])}),
            }
            for day in (start + timedelta(days=n) for n in range(days))
        ],
    }


def interaction_totals(customers: list[Row], interactions: list[Row], as_of: date) -> Row:
    rows = recorded(interactions, as_of)
    week_start = as_of - timedelta(days=as_of.weekday())

    def since(day: date) -> int:
        return count_if(rows, lambda r: r["interaction_at"].date() >= day)

    return {
        "as_of": as_of.isoformat(),
        "customers": len(customers),
        "interactions": len(rows),
        "interacting_customers": len({r["customer_id"] for r in rows}),
        "avg_interactions_per_customer": sql_round(len(rows) / len(customers), 2),
        "last_interaction_at": json_value(max(r["interaction_at"] for r in rows)),
        "interactions_today": since(as_of),
        "interactions_this_week": since(week_start),
        "interactions_this_month": since(_month(as_of)),
    }


def monthly_interactions(interactions: list[Row], as_of: date) -> list[Row]:
    groups = group_by(recorded(interactions, as_of), lambda r: _month(r["interaction_at"].date()))
    return [
        {
            "month_date": month.isoformat(),
            "interactions": len(rows),
            "active_customers": len({r["customer_id"] for r in rows}),
        }
        for month, rows in sorted(groups.items())
    ]


ACTIVITY_COLUMNS = [INTERACTION_COLUMNS[0], "customer_id", *INTERACTION_COLUMNS[1:]]


def recent_activity(interactions: list[Row], as_of: date, limit: int) -> list[Row]:
    rows = latest_first(recorded(interactions, as_of))[:limit]
    return [pick(row, ACTIVITY_COLUMNS) for row in rows]
