"""A hand-built snapshot and an API client over it (sending an API key with every scope)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.auth.scopes import parse_scopes
from c360_api.settings import ApiSettings
from tests.c360_api.snapshot_builder import write_snapshot

ORG = "acme"
SNAPSHOT_ID = "20260101T000000Z-aaaaaa"


def _customer(
    customer_id: str,
    status: str,
    risk: str,
    *,
    health: float,
    spent: float,
    **extra: Any,
) -> dict[str, Any]:
    row: dict[str, Any] = {
        "customer_id": customer_id,
        "customer_name": f"Customer {customer_id}",
        "email": f"{customer_id.lower()}@example.com",
        "customer_status": status,
        "risk_status": risk,
        "customer_health_score": health,
        "total_spent": spent,
        "historic_clv": spent,
        "orders": 0 if risk == "No Purchases" else 3,
        "tickets_total": 0,
        "open_tickets": 0,
        "interactions_total": 0,
        "complaints_90d": 0,
        "app_sessions_30d": 0,
        "web_sessions_30d": 0,
        "app_sessions_90d": 0,
        "web_sessions_90d": 0,
        "is_app_adopter": False,
        "is_loyalty_member": False,
        "loyalty_points": int(spent),
        "gross_margin": round(spent * 0.3, 2),
        "historic_gross_margin": round(spent * 0.3, 2),
        "service_cost": 0.0,
        "net_contribution": round(spent * 0.3, 2),
    }
    row.update(extra)
    return row


CUSTOMERS: list[dict[str, Any]] = [
    _customer("C01", "Active", "Low Risk", health=4.61, spent=3200.0, customer_segment="Consumer",
              customer_name="Ada Lovelace", email="ada@example.com", region="North",
              signup_date=date(2024, 2, 10),
              rfm_segment="Champions", r_score=5, f_score=5, m_score=5, recency_days=3,
              p_alive=0.99, predicted_clv_12m=1500.0, loyalty_tier="Platinum",
              is_loyalty_member=True, loyalty_points=5000, revenue_12m=3100.0,
              generation="Millennial", lifecycle_stage="Growing", tenure_days=700,
              app_sessions_30d=4, app_sessions_90d=10, web_sessions_90d=2, is_app_adopter=True,
              revenue_90d=900.0, revenue_prev_90d=600.0, last_purchase_date=date(2025, 12, 28)),
    _customer("C02", "Active", "Medium Risk", health=3.9, spent=1250.5, customer_segment="SMB",
              customer_name="Grace Hopper", email="grace.hopper@example.com", region="South",
              signup_date=date(2024, 11, 5),
              rfm_segment="Loyal Customers", r_score=4, f_score=4, m_score=3, recency_days=20,
              p_alive=0.65, predicted_clv_12m=420.25, loyalty_tier="Gold",
              revenue_12m=1250.5, next_loyalty_tier="Platinum", spend_to_next_tier=1749.5,
              generation="Gen X", lifecycle_stage="Mature", tenure_days=400,
              web_sessions_30d=3, web_sessions_90d=5, tickets_total=2, open_tickets=1,
              avg_satisfaction=3.5, avg_resolution_hours=12.0, interactions_total=4,
              service_cost=50.0, net_contribution=325.15, revenue_90d=300.0,
              revenue_prev_90d=310.0, last_purchase_date=date(2025, 12, 11)),
    _customer("C03", "At Risk", "Medium Risk", health=2.4, spent=980.0, customer_segment="SMB",
              customer_name="Alan Turing", region="North", signup_date=date(2023, 7, 19),
              rfm_segment="At Risk", r_score=2, f_score=3, m_score=3, recency_days=120,
              p_alive=0.55, predicted_clv_12m=150.0, loyalty_tier="Silver",
              revenue_12m=500.0, next_loyalty_tier="Gold", spend_to_next_tier=700.0,
              generation="Gen X", lifecycle_stage="Declining", tenure_days=900,
              tickets_total=3, avg_satisfaction=2.0, avg_resolution_hours=40.0,
              complaints_90d=1, interactions_total=6, service_cost=75.0,
              net_contribution=219.0, revenue_90d=0.0, revenue_prev_90d=200.0,
              last_purchase_date=date(2025, 9, 2)),
    _customer("C04", "Churned", "High Risk", health=1.35, spent=2100.0, customer_segment="Consumer",
              customer_name="Katherine Johnson", region="East", signup_date=date(2021, 11, 1),
              rfm_segment="Lost", r_score=1, f_score=4, m_score=4, recency_days=400,
              p_alive=0.12, predicted_clv_12m=20.0, loyalty_tier="Bronze",
              revenue_12m=0.0, next_loyalty_tier="Silver", spend_to_next_tier=400.0,
              generation="Boomer", lifecycle_stage="Lapsed", tenure_days=1500,
              revenue_90d=0.0, revenue_prev_90d=0.0, last_purchase_date=date(2024, 11, 26)),
    _customer("C05", "Churned", "High Risk", health=1.21, spent=45.0, customer_segment=None,
              rfm_segment="Hibernating", r_score=1, f_score=1, m_score=1, recency_days=300,
              p_alive=0.25, predicted_clv_12m=3.5, loyalty_tier="Bronze",
              revenue_12m=0.0, next_loyalty_tier="Silver", spend_to_next_tier=400.0,
              generation=None, lifecycle_stage="Lapsed", tenure_days=800,
              revenue_90d=0.0, revenue_prev_90d=0.0, last_purchase_date=date(2025, 3, 6)),
    _customer("C06", "New", "Low Risk", health=4.02, spent=310.0, customer_segment="Consumer",
              region="South", signup_date=date(2025, 12, 1),
              rfm_segment="New Customers", r_score=5, f_score=1, m_score=2, recency_days=10,
              p_alive=1.0, predicted_clv_12m=210.0, loyalty_tier="Bronze",
              revenue_12m=310.0, next_loyalty_tier="Silver", spend_to_next_tier=90.0,
              generation="Gen Z", lifecycle_stage="New", tenure_days=30,
              app_sessions_30d=2, app_sessions_90d=2, is_app_adopter=True,
              revenue_90d=310.0, revenue_prev_90d=0.0, last_purchase_date=date(2025, 12, 21)),
    _customer("C07", "New", "No Purchases", health=1.0, spent=0.0, customer_segment="SMB",
              region="West", signup_date=date(2025, 12, 19),
              loyalty_tier="Bronze", revenue_12m=0.0, next_loyalty_tier="Silver",
              spend_to_next_tier=400.0, generation="Gen Z", lifecycle_stage="Prospect",
              tenure_days=12),
    _customer("C08", "At Risk", "High Risk", health=2.05, spent=1800.25,
              region="North", signup_date=date(2023, 3, 15),
              customer_segment="Consumer",
              rfm_segment="At Risk", r_score=2, f_score=4, m_score=4, recency_days=150,
              p_alive=0.28, predicted_clv_12m=90.0, loyalty_tier="Gold",
              is_loyalty_member=True, loyalty_points=2400, revenue_12m=1300.0,
              next_loyalty_tier="Platinum", spend_to_next_tier=1700.0,
              generation="Millennial", lifecycle_stage="Declining", tenure_days=1000,
              tickets_total=1, avg_satisfaction=4.0, avg_resolution_hours=6.5,
              interactions_total=2, service_cost=25.0, net_contribution=515.08,
              revenue_90d=100.0, revenue_prev_90d=450.0, last_purchase_date=date(2025, 8, 3)),
]  # fmt: skip

# The models' columns (issue 7): churn score and band, behavioural cluster; C07 has no purchase.
MODEL_COLUMNS: dict[str, tuple[float | None, str, int | None, str]] = {
    "C01": (0.08, "Low", 0, "Loyal High Spenders"),
    "C02": (0.35, "Medium", 0, "Loyal High Spenders"),
    "C03": (0.71, "High", 1, "Fading Regulars"),
    "C04": (0.93, "High", 1, "Fading Regulars"),
    "C05": (0.88, "High", 1, "Fading Regulars"),
    "C06": (0.22, "Low", 2, "Light Buyers"),
    "C07": (None, "No Purchases", None, "No Purchases"),
    "C08": (0.64, "High", 1, "Fading Regulars"),
}
for _row in CUSTOMERS:
    _row.update(
        zip(
            ("churn_probability", "churn_risk_band", "cluster_id", "cluster_label"),
            MODEL_COLUMNS[_row["customer_id"]],
            strict=True,
        )
    )

FEATURE_NAMES = ("recency_days", "frequency", "monetary", "tenure_days", "app_sessions_90d")

# Raw churn features as of the as-of date (nulls take the model's fill); C07 has no row.
CHURN_FEATURES: list[dict[str, Any]] = [
    {"customer_id": "C01", "recency_days": 3.0, "frequency": 5.0, "monetary": 800.0,
     "tenure_days": 700.0, "app_sessions_90d": 10.0},
    {"customer_id": "C02", "recency_days": 20.0, "frequency": 1.0, "monetary": 625.25,
     "tenure_days": 400.0, "app_sessions_90d": None},
    {"customer_id": "C03", "recency_days": 120.0, "frequency": 0.0, "monetary": None,
     "tenure_days": 900.0, "app_sessions_90d": 0.0},
    {"customer_id": "C04", "recency_days": 400.0, "frequency": 3.0, "monetary": 700.0,
     "tenure_days": 1500.0, "app_sessions_90d": 0.0},
    {"customer_id": "C05", "recency_days": 300.0, "frequency": 0.0, "monetary": None,
     "tenure_days": 800.0, "app_sessions_90d": None},
    {"customer_id": "C06", "recency_days": 10.0, "frequency": 0.0, "monetary": 310.0,
     "tenure_days": 30.0, "app_sessions_90d": 2.0},
    {"customer_id": "C08", "recency_days": 150.0, "frequency": 3.0, "monetary": 450.0,
     "tenure_days": 1000.0, "app_sessions_90d": 0.0},
]  # fmt: skip

_CHURN_COMMON: dict[str, Any] = {
    "model": "churn",
    "features": [
        {"name": "recency_days", "transform": "log1p", "fill": 365.0},
        {"name": "frequency", "transform": "identity", "fill": 0.0},
        {"name": "monetary", "transform": "log1p", "fill": 0.0},
        {"name": "tenure_days", "transform": "identity", "fill": 0.0},
        {"name": "app_sessions_90d", "transform": "identity", "fill": 0.0},
    ],
    "bands": [
        {"name": "Low", "below": 0.3},
        {"name": "Medium", "below": 0.6},
        {"name": "High", "below": None},
    ],
    "snapshot_id": SNAPSHOT_ID,
    "as_of": "2025-12-31",
    "cutoff": "2025-10-02",
    "window_days": 90,
    "trained_at": "2026-01-01T00:05:00+00:00",
}

# Two trees of depth 2; children are listed out of order on purpose (indices, not positions).
CHURN_GBT: dict[str, Any] = {
    **_CHURN_COMMON,
    "type": "gbt",
    "gbt": {
        "trees": [
            {"weight": 1.0, "nodes": [
                {"feature": 0, "threshold": 3.0, "left": 2, "right": 1},
                {"feature": 1, "threshold": 2.5, "left": 5, "right": 6},
                {"feature": 4, "threshold": 1.5, "left": 3, "right": 4},
                {"leaf": 0.1}, {"leaf": -0.6}, {"leaf": 0.7}, {"leaf": 0.3},
            ]},
            {"weight": 0.5, "nodes": [
                {"feature": 2, "threshold": 6.0, "left": 1, "right": 2},
                {"leaf": 0.4},
                {"feature": 3, "threshold": 365.0, "left": 3, "right": 4},
                {"leaf": -0.2}, {"leaf": -0.5},
            ]},
        ]
    },
}  # fmt: skip

CHURN_LR: dict[str, Any] = {
    **_CHURN_COMMON,
    "type": "logistic_regression",
    "logistic_regression": {"intercept": -1.2, "coefficients": [0.5, -0.3, -0.2, -0.001, -0.1]},
}

CLUSTERS_SECTION: dict[str, Any] = {
    "algorithm": "kmeans",
    "k": 3,
    "silhouette": {"kmeans": {"2": 0.38, "3": 0.44}, "gmm": {"2": 0.31, "3": 0.29}},
    "clusters": [
        {"cluster_id": 0, "label": "Loyal High Spenders", "recommendation": "Reward and upsell",
         "size": 2, "centroid": {"recency": -1.1, "frequency": 1.2}},
        {"cluster_id": 1, "label": "Fading Regulars", "recommendation": "Win back with offers",
         "size": 4, "centroid": {"recency": 1.0, "frequency": 0.4}},
        {"cluster_id": 2, "label": "Light Buyers", "recommendation": "Nurture a second order",
         "size": 1, "centroid": {"recency": 0.1, "frequency": -1.3}},
    ],
    "trained_at": "2026-01-01T00:06:00+00:00",
}  # fmt: skip

MANIFEST_MODELS: dict[str, Any] = {
    "clv": {
        "time_unit": "weeks",
        "bgnbd": {"model": "btyd", "params": {"r": 0.24, "alpha": 4.41, "a": 0.79, "b": 2.43},
                  "log_likelihood": -9.52},
        "gamma_gamma": {"model": "btyd", "params": {"p": 6.25, "q": 3.74, "v": 15.45},
                        "log_likelihood": -4.21},
        "holdout": {"weeks": 13, "predicted": 10.5, "actual": 11},
    },
    "churn": {
        "type": "gbt", "cutoff": "2025-10-02", "window_days": 90,
        "features": list(FEATURE_NAMES), "params": {"max_depth": 2, "max_iter": 2},
        "metrics": {
            "model": {"roc_auc": 0.81, "pr_auc": 0.62, "brier": 0.15, "top_decile_lift": 2.4},
            "baseline": {"roc_auc": 0.74, "pr_auc": 0.51, "brier": 0.19, "top_decile_lift": 1.9},
        },
        "customers": {"train": 4, "validation": 1, "test": 2},
        "trained_at": "2026-01-01T00:05:00+00:00", "training_seconds": 3.2,
    },
    "clustering": CLUSTERS_SECTION,
    "rfm_thresholds": {"recency_days": [7, 30, 90, 180]},
}  # fmt: skip

REVENUE_MONTHLY: list[dict[str, Any]] = [
    {"month_date": date(2025, 10, 1), "customer_segment": "Consumer", "category": "Books",
     "channel": "online", "revenue": 500.0, "orders": 5, "customers": 3, "gross_margin": 150.0,
     "units": 7},
    {"month_date": date(2025, 10, 1), "customer_segment": "SMB", "category": "Toys",
     "channel": "store", "revenue": 250.0, "orders": 2, "customers": 2, "gross_margin": None,
     "units": None},
    {"month_date": date(2025, 11, 1), "customer_segment": "Consumer", "category": "Books",
     "channel": "online", "revenue": 600.0, "orders": 4, "customers": 2, "gross_margin": 180.0,
     "units": 4},
    {"month_date": date(2025, 12, 1), "customer_segment": "Unknown", "category": "Unknown",
     "channel": "unknown", "revenue": 90.0, "orders": 3, "customers": 1, "gross_margin": 9.0,
     "units": 3},
]  # fmt: skip

CATEGORY_INSIGHTS: list[dict[str, Any]] = [
    {"category": "Books", "revenue": 1100.0, "orders": 9, "customers": 4, "avg_order_value": 122.2,
     "units": 11, "gross_margin": 330.0, "margin_pct": 0.3, "revenue_share": 0.7097,
     "repeat_customer_rate": 0.5, "first_sale_date": date(2025, 10, 2),
     "last_sale_date": date(2025, 11, 30)},
    {"category": "Toys", "revenue": 250.0, "orders": 2, "customers": 2, "avg_order_value": 125.0,
     "units": None, "gross_margin": None, "margin_pct": None, "revenue_share": 0.1613,
     "repeat_customer_rate": 0.0, "first_sale_date": date(2025, 10, 5),
     "last_sale_date": date(2025, 10, 9)},
    {"category": "Unknown", "revenue": 200.0, "orders": 3, "customers": 1, "avg_order_value": 66.7,
     "units": 3, "gross_margin": 9.0, "margin_pct": 0.1, "revenue_share": 0.129,
     "repeat_customer_rate": 1.0, "first_sale_date": date(2025, 12, 1),
     "last_sale_date": date(2025, 12, 3)},
]  # fmt: skip

CROSS_SELL: list[dict[str, Any]] = [
    {"customer_id": "C02", "opportunity_type": "tier_upgrade", "recommendation": "Platinum",
     "score": 0.8, "detail": "..."},
    {"customer_id": "C06", "opportunity_type": "tier_upgrade", "recommendation": "Silver",
     "score": 0.775, "detail": "..."},
    {"customer_id": "C06", "opportunity_type": "channel_expansion", "recommendation": "online",
     "score": 1.0, "detail": "..."},
    {"customer_id": "C02", "opportunity_type": "category_association", "recommendation": "Toys",
     "score": 1.8, "detail": "..."},
    {"customer_id": "C01", "opportunity_type": "category_association", "recommendation": "Toys",
     "score": 1.4, "detail": "..."},
]  # fmt: skip


def _transaction(
    transaction_id: str, customer_id: str, day: date, amount: float, **extra: Any
) -> dict[str, Any]:
    return {"transaction_id": transaction_id, "customer_id": customer_id,
            "transaction_date": day, "amount": amount, **extra}  # fmt: skip


# Sorted by customer as the pipeline writes them. C01 has a same-day, same-amount pair (T003,
# T004: ties broken by id); C07 (in customer_360) has none; T005 has no category, channel or
# quantity. 2025-12-21 and 2025-12-28 are Sundays (week boundaries).
TRANSACTIONS: list[dict[str, Any]] = [
    _transaction("T001", "C01", date(2025, 10, 2), 120.0, category="Books", channel="online",
                 quantity=2, product_id="P1"),
    _transaction("T002", "C01", date(2025, 11, 15), 80.5, category="Books", channel="store",
                 quantity=1, product_id="P2", store_id="S1", region="North"),
    _transaction("T004", "C01", date(2025, 12, 28), 200.0, category="Books", channel="online",
                 quantity=1, product_id="P3"),
    _transaction("T003", "C01", date(2025, 12, 28), 200.0, category="Toys", channel="online",
                 quantity=4, product_id="P7"),
    _transaction("T005", "C02", date(2025, 12, 11), 50.0),
    _transaction("T006", "C02", date(2025, 11, 3), 1200.5, category="Toys", channel="store",
                 quantity=3, product_id="P8", store_id="S2", region="South"),
    _transaction("T007", "C03", date(2025, 9, 2), 980.0, category="Books", channel="online",
                 quantity=9, product_id="P1"),
    _transaction("T008", "C06", date(2025, 12, 21), 310.0, category="Toys", channel="app",
                 quantity=1, product_id="P9"),
]  # fmt: skip


def _interaction(
    interaction_id: str, customer_id: str, kind: str, status: str, at: datetime, **extra: Any
) -> dict[str, Any]:
    return {"interaction_id": interaction_id, "customer_id": customer_id,
            "interaction_type": kind, "status": status, "interaction_at": at, **extra}  # fmt: skip


def _at(day: date, hour: int = 9, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


# The snapshot's as-of is 2025-12-31 (a Wednesday: its week starts on Monday 2025-12-29).
# C01 has two interactions at the same instant (I001, I003: ties broken by id) and one after
# the as-of day (I005: never counted); I009 is the as-of day's last second; I010 the week's
# first. C05, C06 and C07 have none; channel and duration are optional (nulls).
INTERACTIONS: list[dict[str, Any]] = [
    _interaction("I001", "C01", "call", "completed", _at(date(2025, 12, 31), 10),
                 channel="phone", duration_minutes=12),
    _interaction("I002", "C01", "email", "completed", _at(date(2025, 12, 30)), channel="email"),
    _interaction("I003", "C01", "call", "pending", _at(date(2025, 12, 31), 10)),
    _interaction("I004", "C01", "meeting", "completed", _at(date(2025, 11, 20)),
                 channel="in_person", duration_minutes=45),
    _interaction("I005", "C01", "complaint", "in_progress", _at(date(2026, 1, 2)),
                 channel="chat", duration_minutes=5),
    _interaction("I006", "C02", "support_ticket", "cancelled", _at(date(2025, 12, 28), 16),
                 channel="app"),
    _interaction("I007", "C02", "feedback", "completed", _at(date(2025, 10, 5)), channel="app"),
    _interaction("I008", "C03", "complaint", "completed", _at(date(2025, 12, 15)),
                 channel="phone", duration_minutes=20),
    _interaction("I009", "C03", "call", "completed", _at(date(2025, 12, 31), 23, 59, 59),
                 channel="phone", duration_minutes=3),
    _interaction("I010", "C08", "email", "pending", _at(date(2025, 12, 29), 0)),
    _interaction("I011", "C04", "call", "completed", _at(date(2024, 6, 1)), channel="phone",
                 duration_minutes=7),
]  # fmt: skip

AS_OF = date(2025, 12, 31)

TABLES = {
    "transactions": TRANSACTIONS,
    "interactions": INTERACTIONS,
    "customer_360": CUSTOMERS,
    "revenue_monthly": REVENUE_MONTHLY,
    "category_insights": CATEGORY_INSIGHTS,
    "cross_sell_candidates": CROSS_SELL,
    "churn_features": CHURN_FEATURES,
}
MODEL_FILES: dict[str, Any] = {"churn.json": CHURN_GBT}


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    """A data directory with the hand-built snapshot published for ORG."""
    data_dir = tmp_path / "data"
    write_snapshot(
        data_dir,
        ORG,
        SNAPSHOT_ID,
        TABLES,
        as_of=AS_OF.isoformat(),
        files_per_table=2,
        models=MANIFEST_MODELS,
        model_files=MODEL_FILES,
    )
    return data_dir


def make_settings(data_dir: Path, **overrides: Any) -> ApiSettings:
    """API settings over `data_dir` for ORG; a new snapshot is noticed at once. Rate limits are
    off (tests poll and hammer); the security tests turn them on."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "org": ORG,
        "snapshot_poll_seconds": 0,
        "rate_limit_per_minute": 0,
        "auth_rate_limit_per_minute": 0,
    }
    values.update(overrides)
    return ApiSettings(**values)


def credential(app: FastAPI, org: str = ORG, scopes: str = "all", name: str = "tests") -> str:
    """A new API key of `org` with `scopes`, in the app's credential store."""
    store = app.state.credential_store
    return str(store.create_key(org, parse_scopes(scopes), name=name).key)


def auth_headers(app: FastAPI, org: str = ORG, scopes: str = "all") -> dict[str, str]:
    """Headers that authenticate as a new API key of `org` with `scopes`."""
    return {"Authorization": f"Bearer {credential(app, org, scopes)}"}


def authorised_client(app: FastAPI, org: str = ORG, scopes: str = "all") -> TestClient:
    """A client of `app` that sends a new API key of `org` with `scopes` on every request."""
    return TestClient(app, raise_server_exceptions=False, headers=auth_headers(app, org, scopes))


@pytest.fixture
def client(data_dir: Path) -> Iterator[TestClient]:
    """The app over the hand-built snapshot, through the ASGI transport, with a key of ORG that
    holds every scope."""
    with authorised_client(create_app(make_settings(data_dir))) as test:
        yield test


def sql_columns(client: TestClient, team: str, name: str) -> list[str]:
    """The columns `sql/<team>/<name>.sql` returns over the client's snapshot (DuckDB
    `describe`, nothing executed)."""
    service = client.app.state.query_service  # type: ignore[attr-defined]
    query = service.registry.get(team, name)
    with service.engine.open(ORG) as db:
        _, rows = db.execute(f"describe {query.sql}", dict.fromkeys(query.parameters))
    return [row[0] for row in rows]
