"""Every team query gives the same rows on DuckDB and on Spark SQL over one real snapshot,
and the hand-built test snapshots have the pipeline's exact schemas."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

import pytest
from pyspark.sql import SparkSession

from c360_api.app import create_app
from c360_api.engine import SNAPSHOT_TABLES, SnapshotDb
from c360_api.service import SNAPSHOT_PARAMETERS
from c360_api.settings import REPO_SQL_DIR, ApiSettings
from c360_api.snapshots import current_snapshot
from c360_api.sql_registry import SqlQuery, load_registry
from tests.c360_api.conftest import authorised_client, make_settings
from tests.c360_api.snapshot_builder import SCHEMAS
from tests.conftest import Published

QUERIES = list(load_registry(REPO_SQL_DIR))
PARAMETERS: dict[str, Any] = {
    "min_lifetime_value": 150.0,
    "customer_statuses": ["Active", "At Risk"],
    "min_health_score": 2.0,
    "search": "c0",
    "min_total_spent": 1.0,
    "granularity": "week",
    "segment_name": "Champions",
    "days": 365,
    **dict.fromkeys(
        ("customer_segment", "rfm_segment", "loyalty_tier", "customer_status", "lifecycle_stage",
         "region", "generation", "max_total_spent", "max_health_score", "start_date", "end_date",
         "category", "channel", "min_amount", "max_amount"),
    ),  # null: the filter is off (the files' `$x is null or ...`)
}  # fmt: skip
# A customer with purchases and interactions, so that no per-customer query is vacuous.
CUSTOMER_SQL = (
    "select max(customer_360.customer_id) from customer_360 "
    "inner join interactions on interactions.customer_id = customer_360.customer_id "
    "where customer_360.orders > 0"
)


def to_spark_sql(sql: str) -> str:
    """DuckDB's `$name` parameter markers as Spark SQL's `:name`."""
    return re.sub(r"\$([a-z][a-z0-9_]*)", r":\1", sql)


@pytest.fixture(scope="module")
def spark_views(spark: SparkSession, published: Published) -> SparkSession:
    """A Spark session whose temporary views are the snapshot's tables."""
    session = spark.newSession()
    for table in SNAPSHOT_TABLES:
        session.read.parquet(str(published.path / table)).createOrReplaceTempView(table)
    return session


@pytest.fixture(scope="module")
def duck(published: Published) -> Iterator[SnapshotDb]:
    """DuckDB over the same snapshot, as the API opens it (tables in memory, text as ENUMs)."""
    snapshot = current_snapshot(published.settings.data_dir, "acme")
    assert snapshot is not None
    db = SnapshotDb(snapshot, {}, frozenset(ApiSettings().duckdb_memory_tables))
    yield db
    db.retire()


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) or isinstance(right, float):
        if left is None or right is None:
            return left is right
        return bool(left == pytest.approx(right, rel=1e-9, abs=1e-9))
    if isinstance(left, datetime) and isinstance(right, datetime):
        return left.replace(tzinfo=None) == right.replace(tzinfo=None)
    if isinstance(left, date | datetime) or isinstance(right, date | datetime):
        return str(left) == str(right)
    return bool(left == right)


@pytest.mark.parametrize("query", QUERIES, ids=[query.key for query in QUERIES])
def test_query_gives_the_same_rows_on_duckdb_and_spark_sql(
    query: SqlQuery, duck: SnapshotDb, spark_views: SparkSession
) -> None:
    customer_id = duck.execute(CUSTOMER_SQL, {})[1][0][0]
    known = {
        **PARAMETERS,
        "customer_id": customer_id,
        "customer_ids": [customer_id, "no-such-customer"],
        **{name: value(duck.snapshot) for name, value in SNAPSHOT_PARAMETERS.items()},
    }
    parameters = {name: known[name] for name in query.parameters}
    columns, duck_rows = duck.execute(query.sql, parameters)
    spark_df = spark_views.sql(to_spark_sql(query.sql), args=parameters)
    spark_rows = [tuple(row) for row in spark_df.collect()]
    assert spark_df.columns == columns
    assert duck_rows, f"{query.key} returned no rows: the parity check would be vacuous"
    assert len(spark_rows) == len(duck_rows)
    for duck_row, spark_row in zip(duck_rows, spark_rows, strict=True):
        for column, left, right in zip(columns, duck_row, spark_row, strict=True):
            assert _same(left, right), (query.key, column, duck_row, spark_row)


def test_the_hand_built_snapshots_have_the_pipelines_schemas(published: Published) -> None:
    manifest = json.loads((published.path / "manifest.json").read_text())
    for table in SNAPSHOT_TABLES:
        columns = manifest["tables"][table]["columns"]
        if table == "churn_features":
            # One double per model feature: the pipeline's model decides which.
            assert columns[0] == "customer_id string", columns
            assert all(column.endswith(" double") for column in columns[1:]), columns
            continue
        assert columns == SCHEMAS[table], table


def test_the_churn_endpoint_scores_like_spark(published: Published, spark: SparkSession) -> None:
    """POST /api/v1/inference/churn-score (numpy over models/churn.json) gives the
    churn_probability Spark MLlib wrote into customer_360, for the same customers."""
    spark_scores = {
        row["customer_id"]: (row["churn_probability"], row["churn_risk_band"])
        for row in spark.read.parquet(str(published.path / "customer_360"))
        .where("churn_probability is not null")
        .collect()
    }
    assert len(spark_scores) > 100
    settings = make_settings(published.settings.data_dir)
    app = create_app(settings)
    with authorised_client(app, org="acme", scopes="analyst") as client:
        ids = sorted(spark_scores)
        response = client.post("/api/v1/inference/churn-score", json={"customer_ids": ids})
        assert response.status_code == 200, response.text
        data = response.json()["data"]
        assert data["snapshot_id"] == published.result.snapshot_id
        assert data["not_found"] == []
        served = {s["customer_id"]: s for s in data["scores"]}
        assert set(served) == set(ids)
        for customer_id, (probability, band) in spark_scores.items():
            assert served[customer_id]["churn_probability"] == pytest.approx(
                probability, abs=1e-6
            ), customer_id
            assert served[customer_id]["churn_risk_band"] == band, customer_id
        # The same customers' features as a payload score the same.
        features = [
            {k: v for k, v in row.asDict().items() if k != "customer_id"}
            for row in spark.read.parquet(str(published.path / "churn_features"))
            .orderBy("customer_id")
            .limit(50)
            .collect()
        ]
        first = sorted(ids)[:50]
        by_payload = client.post("/api/v1/inference/churn-score", json={"features": features})
        assert by_payload.status_code == 200, by_payload.text
        for score, customer_id in zip(by_payload.json()["data"]["scores"], first, strict=True):
            assert score["churn_probability"] == pytest.approx(
                spark_scores[customer_id][0], abs=1e-6
            )
