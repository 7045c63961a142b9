"""Pipeline settings: every knob comes from `C360_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class PipelineSettings(BaseSettings):
    """Settings for the Spark pipeline and the mock-data generator."""

    model_config = SettingsConfigDict(env_prefix="C360_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of raw areas and snapshots.")
    org: str = Field("demo", description="Organisation used when a command is given none.")
    spark_master: str = Field(
        "local[*]", description="Spark master: local[*], spark://host:7077, yarn, k8s://..."
    )
    spark_app_name: str = Field("c360", description="Spark application name.")
    spark_driver_memory: str = Field("4g", description="spark.driver.memory (JVM heap).")
    spark_shuffle_partitions: int | None = Field(
        None,
        ge=1,
        description="spark.sql.shuffle.partitions; unset: 2 x cores for local masters, 200 else.",
    )
    spark_timezone: str = Field("UTC", description="spark.sql.session.timeZone.")
    spark_ui_enabled: bool = Field(False, description="Start the Spark web UI.")
    spark_log_level: str = Field("WARN", description="Spark/log4j level: ERROR, WARN, INFO...")
    spark_conf: dict[str, str] = Field(
        default_factory=dict,
        description='Extra Spark settings as JSON, e.g. {"spark.executor.memory": "8g"}.',
    )
    snapshots_keep: int = Field(5, ge=1, description="Published snapshots kept for rollback.")
    churn_window_days: int = Field(
        90, ge=7, le=365, description="Churn label: no purchase in this many days after the cutoff."
    )
    churn_train_max_rows: int = Field(
        50_000, ge=1_000, description="Churn models train on at most this many customers."
    )
    model_seed: int = Field(42, description="Seed of the model splits, samples and fits.")
    cluster_k_min: int = Field(3, ge=2, description="Smallest number of clusters tried.")
    cluster_k_max: int = Field(8, ge=2, description="Largest number of clusters tried.")
    cluster_sample_rows: int = Field(
        20_000, ge=100, description="Clustering chooses its model on a sample of this many."
    )


@lru_cache
def get_settings() -> PipelineSettings:
    """Return the process-wide settings (cached; tests call `get_settings.cache_clear()`)."""
    return PipelineSettings()
