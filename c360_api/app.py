"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from c360_api import health
from c360_api.access_log import AccessLogMiddleware
from c360_api.cache import AnswerCache
from c360_api.engine import SnapshotEngine
from c360_api.errors import install_error_handlers
from c360_api.jobs import JobManager, pipeline_command
from c360_api.metrics import RequestMetrics
from c360_api.routers import (
    admin,
    analytics,
    analytics_v1,
    customer_success,
    customers,
    finance,
    marketing,
    product,
)
from c360_api.scheduler import RefreshScheduler
from c360_api.service import QueryService
from c360_api.settings import ApiSettings, get_settings
from c360_api.sql_registry import load_registry

log = structlog.get_logger(__name__)

TEAM_ROUTERS = (
    marketing, product, finance, customer_success, analytics, customers, analytics_v1,
)  # fmt: skip


def build_query_service(settings: ApiSettings) -> QueryService:
    """Registry, engine and cache from settings; checks the queries against the current snapshot."""
    registry = load_registry(settings.sql_dir)
    engine = SnapshotEngine(
        settings.data_dir,
        registry,
        poll_seconds=settings.snapshot_poll_seconds,
        threads=settings.duckdb_threads,
        memory_limit=settings.duckdb_memory_limit,
        memory_tables=frozenset(settings.duckdb_memory_tables),
    )
    engine.open_strict(settings.org)
    cache = AnswerCache(settings.cache_ttl_seconds, settings.cache_max_entries)
    log.info("query_registry_loaded", queries=len(registry), sql_dir=str(settings.sql_dir))
    return QueryService(registry, engine, cache)


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the API: routers, error envelope, access log and the query service."""
    settings = settings or get_settings()
    service = build_query_service(settings)
    metrics = RequestMetrics()
    jobs = JobManager(pipeline_command, env={"C360_DATA_DIR": str(settings.data_dir.resolve())})
    scheduler = (
        RefreshScheduler(
            settings.refresh_cron,
            orgs=lambda: [settings.org],
            start=lambda org: jobs.start(org, force=False, trigger="schedule"),
        )
        if settings.refresh_cron
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if scheduler is not None:
            scheduler.start()
            log.info("refresh_schedule_started", cron=scheduler.cron)
        yield
        if scheduler is not None:
            scheduler.stop()
        jobs.shutdown()
        service.engine.close()

    app = FastAPI(
        title="C360 API",
        description=(
            "Customer 360 queries over the newest published snapshot. Every answer is the "
            "success envelope (`data`, `count`, `total`, `truncated`, `limit`, `offset`) or, "
            "with `?format=csv`, the same rows as CSV; every error is the error envelope."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.query_service = service
    app.state.metrics = metrics
    app.state.jobs = jobs
    install_error_handlers(app)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["*"],
            expose_headers=["ETag", "X-Request-ID", "X-Snapshot-ID", "X-Total-Count"],
        )
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    app.include_router(health.router)
    for team in TEAM_ROUTERS:
        app.include_router(team.router)
    app.include_router(admin.router)
    app.include_router(admin.prometheus_router)
    return app
