"""The names of a pipeline run's stages, in run order (importable without pulling in Spark)."""

from __future__ import annotations

STAGES: tuple[str, ...] = (
    "ingest",
    "validate",
    "quarantine",
    "as_of",
    "transactions",
    "customer_summary",
    "rfm",
    "clv_models",
    "churn_model",
    "clustering",
    "customer_360",
    "interactions",
    "insights",
    "quality",
)
"""Every `stage_finished` log line of a successful run names one of these, in this order."""
