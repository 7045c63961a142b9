"""Independent expectations for the team endpoints, computed in plain Python from the rows
of the hand-built snapshot (no SQL involved)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
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
