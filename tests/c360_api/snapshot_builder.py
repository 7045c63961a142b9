"""Hand-built snapshots for the API tests: a few rows per table, written as Parquet.

Tables have the pipeline's exact schemas (a parity test compares them with a real run's
manifest); a row names only the columns it cares about, the rest are null.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

ARROW_TYPES = {
    "string": pa.string(),
    "date": pa.date32(),
    "int": pa.int32(),
    "bigint": pa.int64(),
    "double": pa.float64(),
    "boolean": pa.bool_(),
    "timestamp": pa.timestamp("us", tz="UTC"),
}

_SCHEMA_TEXT: dict[str, str] = {
    "transactions": (
        "transaction_id string, customer_id string, transaction_date date, amount double, "
        "quantity int, product_id string, category string, channel string, store_id string, "
        "region string, unit_cost double, cost double, gross_margin double"
    ),
    "interactions": (
        "interaction_id string, customer_id string, interaction_type string, status string, "
        "interaction_at timestamp, channel string, duration_minutes int"
    ),
    "customer_360": (
        "customer_id string, customer_name string, email string, region string, "
        "customer_segment string, signup_date date, tenure_days int, birth_year int, "
        "generation string, account_status string, first_purchase_date date, "
        "last_purchase_date date, orders bigint, purchase_days bigint, total_spent double, "
        "avg_order_value double, favourite_category string, channels_used string, "
        "channel_count int, revenue_12m double, revenue_90d double, revenue_prev_90d double, "
        "recency_days int, frequency int, recency_weeks double, t_weeks double, "
        "monetary double, r_score int, f_score int, m_score int, rfm_score string, "
        "rfm_segment string, historic_clv double, historic_gross_margin double, "
        "p_alive double, expected_purchases_12m double, expected_avg_value double, "
        "predicted_clv_12m double, customer_health_score double, customer_status string, "
        "risk_status string, loyalty_tier string, loyalty_points bigint, "
        "is_loyalty_member boolean, next_loyalty_tier string, spend_to_next_tier double, "
        "lifecycle_stage string, app_sessions_30d bigint, web_sessions_30d bigint, "
        "app_sessions_90d bigint, web_sessions_90d bigint, last_digital_date date, "
        "is_app_adopter boolean, tickets_total bigint, open_tickets bigint, "
        "avg_satisfaction double, avg_resolution_hours double, interactions_total bigint, "
        "call_count bigint, email_count bigint, meeting_count bigint, "
        "support_ticket_count bigint, complaint_count bigint, feedback_count bigint, "
        "interactions_pending bigint, interactions_in_progress bigint, "
        "interactions_completed bigint, interactions_cancelled bigint, complaints_90d bigint, "
        "last_interaction_at timestamp, gross_margin double, service_cost double, "
        "net_contribution double, churn_probability double, churn_risk_band string, "
        "cluster_id int, cluster_label string"
    ),
    "category_associations": (
        "antecedent string, consequent string, antecedent_size int, support double, "
        "confidence double, lift double, customers bigint"
    ),
    "revenue_monthly": (
        "month_date date, customer_segment string, category string, channel string, "
        "revenue double, orders bigint, customers bigint, gross_margin double, units bigint"
    ),
    "category_insights": (
        "category string, revenue double, orders bigint, customers bigint, "
        "avg_order_value double, units bigint, gross_margin double, margin_pct double, "
        "revenue_share double, repeat_customer_rate double, first_sale_date date, "
        "last_sale_date date"
    ),
    "cross_sell_candidates": (
        "customer_id string, opportunity_type string, recommendation string, score double, "
        "detail string"
    ),
    # One double per churn-model feature (the model's own list; these are the test models').
    "churn_features": (
        "customer_id string, recency_days double, frequency double, monetary double, "
        "tenure_days double, app_sessions_90d double"
    ),
}

SCHEMAS: dict[str, list[str]] = {
    table: text.split(", ") for table, text in _SCHEMA_TEXT.items()
}  # table -> ["name type", ...] as in the manifest


def arrow_schema(table: str) -> pa.Schema:
    """The Arrow schema of a snapshot table."""
    fields = []
    for column in SCHEMAS[table]:
        name, kind = column.split(" ")
        fields.append(pa.field(name, ARROW_TYPES[kind]))
    return pa.schema(fields)


def write_snapshot(
    data_dir: Path,
    org: str,
    snapshot_id: str,
    tables: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    as_of: str = "2025-12-31",
    publish: bool = True,
    files_per_table: int = 1,
    models: Mapping[str, Any] | None = None,
    model_files: Mapping[str, Any] | None = None,
    exclude: Collection[str] = (),
) -> Path:
    """Write a snapshot (every table, missing ones empty), its manifest, and point CURRENT at it.

    `models` is the manifest's `models` section; `model_files` are written as JSON (or as the
    text given) under `models/`; `exclude` names tables and `table.column`s to leave out (a
    snapshot published before they existed)."""
    path = data_dir / "orgs" / org / "snapshots" / snapshot_id
    manifest_tables = {}
    for table in SCHEMAS:
        if table in exclude:
            continue
        rows = list(tables.get(table, ()))
        schema = arrow_schema(table)
        unknown = {key for row in rows for key in row} - set(schema.names)
        assert not unknown, f"{table}: unknown columns {unknown}"
        dropped = [name for name in schema.names if f"{table}.{name}" in exclude]
        schema = pa.schema([field for field in schema if field.name not in dropped])
        (path / table).mkdir(parents=True)
        chunks = [rows[i::files_per_table] for i in range(files_per_table)] or [[]]
        for index, chunk in enumerate(chunks):
            arrow_table = pa.Table.from_pylist(
                [{name: row.get(name) for name in schema.names} for row in chunk], schema=schema
            )
            pq.write_table(arrow_table, path / table / f"part-{index:05d}.parquet")
        manifest_tables[table] = {
            "rows": len(rows),
            "columns": [c for c in SCHEMAS[table] if c.split(" ")[0] not in dropped],
        }
    for name, content in (model_files or {}).items():
        (path / "models").mkdir(parents=True, exist_ok=True)
        text = content if isinstance(content, str) else json.dumps(content)
        (path / "models" / name).write_text(text, encoding="utf-8")
    manifest: dict[str, Any] = {
        "snapshot_id": snapshot_id,
        "org": org,
        "as_of": as_of,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "status": "published",
        "tables": manifest_tables,
    }
    if models is not None:
        manifest["models"] = models
    (path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    if publish:
        pointer = data_dir / "orgs" / org / "CURRENT"
        temp = pointer.with_suffix(".tmp")
        temp.write_text(snapshot_id + "\n", encoding="utf-8")
        temp.replace(pointer)
    return path
