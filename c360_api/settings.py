"""API settings: every knob comes from `C360_*` environment variables (or a `.env` file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ApiSettings(BaseSettings):
    """Settings for the query API."""

    model_config = SettingsConfigDict(env_prefix="C360_", env_file=".env", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Root of raw areas and snapshots.")
    org: str = Field("demo", description="Organisation served when no credential names one.")
    api_host: str = Field("127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(8000, ge=1, le=65535, description="Port the API listens on.")
    cache_ttl_seconds: int = Field(1800, ge=0, description="TTL of cached query answers.")
    cache_max_entries: int = Field(1024, ge=1, description="Cached answers kept at most.")
    log_level: str = Field("INFO", description="API log level.")


@lru_cache
def get_settings() -> ApiSettings:
    """Return the process-wide settings (cached; tests override or clear the cache)."""
    return ApiSettings()
