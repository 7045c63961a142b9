"""API settings: every knob comes from `C360_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_SQL_DIR = Path(__file__).resolve().parents[1] / "sql"

DEFAULT_JWT_SECRET = "c360-development-secret-do-not-use-in-production"
"""The JWT secret a development deployment runs with; production refuses to start with it."""
MIN_PRODUCTION_SECRET_BYTES = 32

Registration = Literal["closed", "invite", "open"]


class InsecureSettingsError(RuntimeError):
    """Settings a production deployment must not run with."""


class ApiSettings(BaseSettings):
    """Settings for the query API."""

    model_config = SettingsConfigDict(env_prefix="C360_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of raw areas and snapshots.")
    org: str = Field(
        "demo", description="Organisation /health reports (requests use their credential's)."
    )
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
    env: Literal["development", "production"] = Field(
        "development", description="`production` refuses to start with the development secret."
    )
    auth_db: Path | None = Field(
        None, description="SQLite credential store (default: <data_dir>/auth.sqlite3)."
    )
    jwt_secret: SecretStr = Field(
        SecretStr(DEFAULT_JWT_SECRET), description="HS256 key signing users' access tokens."
    )
    jwt_expire_minutes: int = Field(
        15, ge=1, le=1440, description="Lifetime of an access token, in minutes."
    )
    registration: Registration = Field(
        "invite",
        description=(
            "Who may register: `closed` (nobody), `invite` (holders of an admin's invite code "
            "join its organisation), `open` (also anyone, as the owner of a new organisation)."
        ),
    )
    invite_ttl_hours: float = Field(72, gt=0, description="How long an invite code stays valid.")
    rate_limit_per_minute: int = Field(
        600, ge=0, description="Requests per credential per sliding minute (0: unlimited)."
    )
    auth_rate_limit_per_minute: int = Field(
        10,
        ge=0,
        description="Login and registration attempts per client address per minute (0: unlimited).",
    )
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted (413 beyond it)."
    )

    @property
    def auth_db_path(self) -> Path:
        """Where the credential store lives."""
        return self.auth_db if self.auth_db is not None else self.data_dir / "auth.sqlite3"

    def insecure_reasons(self) -> list[str]:
        """Why these settings must not run in production (empty when they may)."""
        if self.env != "production":
            return []
        secret = self.jwt_secret.get_secret_value()
        if secret == DEFAULT_JWT_SECRET:
            return [
                "C360_JWT_SECRET is the built-in development secret; set it to a random value, "
                "e.g. `python -c 'import secrets; print(secrets.token_urlsafe(48))'`"
            ]
        if len(secret.encode()) < MIN_PRODUCTION_SECRET_BYTES:
            return [f"C360_JWT_SECRET must be at least {MIN_PRODUCTION_SECRET_BYTES} bytes long"]
        return []


@lru_cache
def get_settings() -> ApiSettings:
    """Return the process-wide settings (cached; tests override or clear the cache)."""
    return ApiSettings()
