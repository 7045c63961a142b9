"""Checks a snapshot must pass before it is published."""

from __future__ import annotations

from typing import Any

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from c360_pipeline.transforms.rfm import SEGMENTS

ACCEPTED_VALUES: dict[str, tuple[str, ...]] = {
    "customer_status": ("Active", "At Risk", "Churned", "New"),
    "risk_status": ("High Risk", "Medium Risk", "Low Risk", "No Purchases"),
    "lifecycle_stage": ("Prospect", "New", "Growing", "Mature", "Declining", "Lapsed"),
    "loyalty_tier": ("Bronze", "Silver", "Gold", "Platinum"),
    "rfm_segment": SEGMENTS,
    "generation": ("Gen Z", "Millennial", "Gen X", "Boomer", "Silent"),
    "churn_risk_band": ("Low", "Medium", "High", "No Purchases"),
}


class QualityError(RuntimeError):
    """The snapshot failed a check; it is not published."""


def check_conservation(counts: dict[str, dict[str, Any]]) -> None:
    """Every row read was either accepted or quarantined."""
    for source, c in counts.items():
        if c["accepted"] + c["quarantined"] != c["rows_read"]:
            raise QualityError(
                f"{source}: accepted {c['accepted']} + quarantined {c['quarantined']} != "
                f"read {c['rows_read']}"
            )


def check_customer_360(
    customer_360_df: DataFrame, customers_df: DataFrame | None
) -> dict[str, Any]:
    """Unique, non-null customer keys; accepted values; scores in range; one row per customer."""
    aggregations = [
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct("customer_id").alias("distinct_ids"),
        F.count(F.when(F.col("customer_id").isNull(), 1)).alias("null_ids"),
        F.count(F.when(~F.col("customer_health_score").between(1.0, 5.0), 1)).alias(
            "health_out_of_range"
        ),
        F.count(F.when(~F.col("p_alive").between(0.0, 1.0), 1)).alias("p_alive_out_of_range"),
        F.count(F.when(~F.col("churn_probability").between(0.0, 1.0), 1)).alias(
            "churn_probability_out_of_range"
        ),
    ]
    for column, values in ACCEPTED_VALUES.items():
        aggregations.append(
            F.count(F.when(~F.col(column).isin(*values), 1)).alias(f"unexpected_{column}")
        )
    row = customer_360_df.agg(*aggregations).first()
    assert row is not None
    results = row.asDict()
    problems = []
    if results["rows"] != results["distinct_ids"] or results["null_ids"]:
        problems.append("customer_id is not a unique, non-null key")
    problems += [f"{k} = {v}" for k, v in results.items() if k.endswith("out_of_range") and v]
    problems += [f"{k} = {v}" for k, v in results.items() if k.startswith("unexpected_") and v]
    if customers_df is not None:
        expected = customers_df.count()
        results["customers_accepted"] = expected
        if expected != results["rows"]:
            problems.append(f"{results['rows']} customer_360 rows for {expected} customers")
    if problems:
        raise QualityError("customer_360 failed checks: " + "; ".join(problems))
    return results
