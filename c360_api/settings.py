"""API settings: every knob comes from `C360_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_SQL_DIR = Path(__file__).resolve().parents[1] / "sql"


class ApiSettings(BaseSettings):
    """Settings for the query API."""

    model_config = SettingsConfigDict(env_prefix="C360_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of raw areas and snapshots.")
    org: str = Field("demo", description="Organisation served when no credential names one.")
    api_host: str = Field("127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    sql_dir: Path = Field(REPO_SQL_DIR, description="Directory of team queries (sql/<team>/*.sql).")
    cache_ttl_seconds: float = Field(1800, ge=0, description="TTL of cached query answers.")
    cache_max_entries: int = Field(1024, ge=1, description="Cached answers kept at most.")
    default_limit: int = Field(1000, ge=1, description="Rows per page when a request sets none.")
    max_limit: int = Field(10000, ge=1, description="Largest page a request may ask for.")
    snapshot_poll_seconds: float = Field(
        1.0, ge=0, description="How often a request may re-read CURRENT to notice a new snapshot."
    )
    duckdb_threads: int | None = Field(None, ge=1, description="DuckDB threads (default: cores).")
    duckdb_memory_tables: list[str] = Field(
        default_factory=lambda: [
            "customer_360",
            "category_associations",
            "revenue_monthly",
            "category_insights",
            "cross_sell_candidates",
        ],
        description="Snapshot tables loaded into DuckDB memory; the others are Parquet views.",
    )
    duckdb_memory_limit: str | None = Field(None, description="DuckDB memory limit, e.g. '4GB'.")
    refresh_cron: str | None = Field(
        None, description="Cron expression for scheduled refreshes (off when unset)."
    )
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS (JSON list)."
    )
    log_level: str = Field("INFO", description="API log level.")


@lru_cache
def get_settings() -> ApiSettings:
    """Return the process-wide settings (cached; tests override or clear the cache)."""
    return ApiSettings()
