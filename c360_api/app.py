"""The FastAPI application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import structlog
from fastapi import APIRouter, FastAPI, Security
from fastapi.dependencies.models import Dependant
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute, iter_route_contexts

from c360_api import health
from c360_api.access_log import AccessLogMiddleware
from c360_api.auth.access_tokens import AccessTokens
from c360_api.auth.authenticator import Authenticator
from c360_api.auth.passwords import Passwords
from c360_api.auth.rate_limit import SlidingWindowLimiter
from c360_api.auth.store import CredentialStore
from c360_api.cache import AnswerCache
from c360_api.deps import require_scopes
from c360_api.engine import SnapshotEngine
from c360_api.envelopes import ErrorResponse
from c360_api.errors import install_error_handlers
from c360_api.guard import RequestGuardMiddleware
from c360_api.jobs import JobManager, pipeline_command
from c360_api.metrics import RequestMetrics
from c360_api.routers import (
    admin,
    analytics,
    analytics_v1,
    auth,
    credentials,
    customer_success,
    customers,
    finance,
    inference,
    marketing,
    models,
    product,
)
from c360_api.scheduler import RefreshScheduler
from c360_api.service import QueryService
from c360_api.settings import DEFAULT_JWT_SECRET, ApiSettings, InsecureSettingsError, get_settings
from c360_api.sql_registry import load_registry

log = structlog.get_logger(__name__)

SCOPED_ROUTERS: tuple[tuple[APIRouter, str], ...] = (
    (marketing.router, "marketing"),
    (product.router, "product"),
    (finance.router, "finance"),
    (customer_success.router, "customer_success"),
    (analytics.router, "analyst"),
    (customers.router, "analyst"),
    (analytics_v1.router, "analyst"),
    (inference.router, "analyst"),
    (models.router, "analyst"),
    (admin.router, "admin"),
    (credentials.router, "admin"),
    (admin.prometheus_router, "admin"),
)
"""Each router and the scope its every route needs (docs/security.md has the same table)."""

PUBLIC_ROUTES = frozenset(
    {"/health", "/api/auth/register", "/api/auth/login", "/api/auth/login/json"}
)
"""The routes that need no credential (besides the docs, which are not API routes)."""

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse, "description": "No credential, or not a valid one."},
    403: {"model": ErrorResponse, "description": "The credential lacks this route's scope."},
    429: {
        "model": ErrorResponse,
        "description": "The credential's rate limit is used up; `Retry-After` says when to retry.",
    },
}


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


def build_authenticator(settings: ApiSettings, store: CredentialStore) -> Authenticator:
    """Credential checks and the per-credential rate limit from settings."""
    if settings.jwt_secret.get_secret_value() == DEFAULT_JWT_SECRET:
        log.warning("jwt_secret_is_the_development_default", env=settings.env)
    tokens = AccessTokens(
        settings.jwt_secret.get_secret_value(), timedelta(minutes=settings.jwt_expire_minutes)
    )
    return Authenticator(store, tokens, SlidingWindowLimiter(settings.rate_limit_per_minute))


def check_production_settings(settings: ApiSettings) -> None:
    """Refuse (InsecureSettingsError) to serve production with development secrets."""
    reasons = settings.insecure_reasons()
    if reasons:
        raise InsecureSettingsError(
            "refusing to start with C360_ENV=production: " + "; ".join(reasons)
        )


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    """Build the API: routers behind their scopes, error envelope, access log, request limits,
    the credential store and the query service."""
    settings = settings or get_settings()
    check_production_settings(settings)
    store = CredentialStore(settings.auth_db_path)
    authenticator = build_authenticator(settings, store)
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
        store.close()

    app = FastAPI(
        title="C360 API",
        description=(
            "Customer 360 queries over the newest published snapshot. Every answer is the "
            "success envelope (`data`, `count`, `total`, `truncated`, `limit`, `offset`) or, "
            "with `?format=csv`, the same rows as CSV; every error is the error envelope.\n\n"
            "Every route but `/health`, the docs and login/registration needs a credential: an "
            "API key (`Authorization: Bearer c360_…` or `X-API-Key`) or a user's access token "
            "(`Authorization: Bearer <token>` from `POST /api/auth/login`). Each team's routes "
            "need its scope; a credential reads its own organisation's data only."
        ),
        version="0.1.0",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.query_service = service
    app.state.metrics = metrics
    app.state.jobs = jobs
    app.state.credential_store = store
    app.state.authenticator = authenticator
    app.state.access_tokens = authenticator.tokens
    app.state.passwords = Passwords()
    app.state.auth_limiter = SlidingWindowLimiter(settings.auth_rate_limit_per_minute)
    install_error_handlers(app)
    # Outermost last: the access log sees every response, CORS headers reach 413s too.
    app.add_middleware(RequestGuardMiddleware, max_body_bytes=settings.max_body_bytes)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=[
                "Authorization",
                "X-API-Key",
                "Content-Type",
                "If-None-Match",
                "X-Request-ID",
            ],
            expose_headers=[
                "ETag",
                "X-Request-ID",
                "X-Snapshot-ID",
                "X-Total-Count",
                "X-Truncated",
                "Retry-After",
                "WWW-Authenticate",
            ],
        )
    app.add_middleware(AccessLogMiddleware, metrics=metrics)
    app.include_router(health.router)
    app.include_router(auth.router)
    for router, scope in SCOPED_ROUTERS:
        app.include_router(
            router,
            dependencies=[Security(require_scopes, scopes=[scope])],
            responses=AUTH_RESPONSES,
        )
    check_every_route_is_guarded(app)
    document_settings(app, settings)
    return app


def document_settings(app: FastAPI, settings: ApiSettings) -> None:
    """Put what the settings bound into the OpenAPI schema: `limit` is at most
    C360_MAX_LIMIT, a number known only when the app is built."""
    build_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build_schema()  # FastAPI keeps it as app.openapi_schema
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                for parameter in operation.get("parameters", []):
                    if (parameter["name"], parameter["in"]) == ("limit", "query"):
                        for option in parameter["schema"].get("anyOf", [parameter["schema"]]):
                            if option.get("type") == "integer":
                                option["maximum"] = settings.max_limit
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def check_every_route_is_guarded(app: FastAPI) -> None:
    """Fail at start-up when an API route outside PUBLIC_ROUTES has no credential check: a
    router added without its scope must not serve anyone."""
    # The effective routes, with the dependencies of the routers that include them.
    for route in iter_route_contexts(app.routes):
        if not isinstance(route.original_route, APIRoute) or route.path in PUBLIC_ROUTES:
            continue  # the docs, /health, login and registration
        if not _checks_scopes(route.dependant):
            raise RuntimeError(f"route {route.path} is served without a credential check")


def _checks_scopes(dependant: Dependant) -> bool:
    return dependant.call is require_scopes or any(
        _checks_scopes(sub) for sub in dependant.dependencies
    )
