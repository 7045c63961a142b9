"""FastAPI dependencies as `Annotated` aliases.

They are `async def` although they do not await: FastAPI runs a plain `def` dependency in
the thread pool, one hop per dependency per request; these only read app state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.security import (
    APIKeyHeader,
    HTTPAuthorizationCredentials,
    HTTPBearer,
    OAuth2PasswordBearer,
    SecurityScopes,
)

from c360_api.auth.authenticator import Authenticator, forbidden
from c360_api.auth.scopes import SCOPES, Principal
from c360_api.jobs import JobManager
from c360_api.service import (
    OutputFormat,
    Page,
    QueryCall,
    QueryService,
    SortOrder,
    page_renderer,
)
from c360_api.settings import ApiSettings


async def get_app_settings(request: Request) -> ApiSettings:
    """The settings the app was built with."""
    settings: ApiSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ApiSettings, Depends(get_app_settings)]


async def get_query_service(request: Request) -> QueryService:
    """The app's query service (registry, engine, cache)."""
    service: QueryService = request.app.state.query_service
    return service


QueryServiceDep = Annotated[QueryService, Depends(get_query_service)]


async def get_principal(request: Request) -> Principal:
    """The request's verified credential, counted against its rate limit (401 or 429 if not).

    It reads the headers itself rather than through the security schemes below: a dependency
    on a scheme would make FastAPI key its per-request cache by the route's scopes, and
    authenticate (and count) the request once per distinct set of scopes."""
    authenticator: Authenticator = request.app.state.authenticator
    headers = request.headers
    principal = authenticator.authenticate(headers.get("authorization"), headers.get("x-api-key"))
    authenticator.admit(principal)
    request.state.principal = principal
    return principal


PrincipalDep = Annotated[Principal, Depends(get_principal)]

# The ways to send a credential, for the OpenAPI docs (and the "Authorize" button of /docs).
BEARER_SCHEME = HTTPBearer(
    auto_error=False,
    scheme_name="bearer",
    description="An API key (`c360_…`) or a user's access token (POST /api/auth/login).",
)
API_KEY_SCHEME = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    scheme_name="apiKey",
    description="An API key (`c360_…`), created with `c360-api keys create`.",
)
PASSWORD_SCHEME = OAuth2PasswordBearer(
    tokenUrl="/api/auth/login",
    scopes=SCOPES,
    auto_error=False,
    scheme_name="password",
    description="A user's email and password, exchanged for an access token.",
)


async def require_scopes(
    security_scopes: SecurityScopes,
    principal: PrincipalDep,
    _bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER_SCHEME)],
    _api_key: Annotated[str | None, Depends(API_KEY_SCHEME)],
    _password: Annotated[str | None, Depends(PASSWORD_SCHEME)],
) -> Principal:
    """The principal, if it holds every scope the route asks for (`Security(require_scopes,
    scopes=[...])`), else a 403. The three scheme parameters only document the route."""
    missing = set(security_scopes.scopes) - principal.scopes
    if missing:
        raise forbidden(missing)
    return principal


async def get_org(principal: PrincipalDep) -> str:
    """The organisation a request reads: its credential's, never one the client names."""
    return principal.org


OrgDep = Annotated[str, Depends(get_org)]


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500
MAX_OFFSET = 1_000_000_000
MAX_PAGE = MAX_OFFSET // MAX_PAGE_SIZE
"""Bounds that keep a client's offset a small integer for DuckDB (no table holds more rows)."""

Bound = TypeVar("Bound", float, date)


@dataclass(frozen=True)
class TeamQuery:
    """What a list route needs besides its own parameters: service, organisation, page, format."""

    service: QueryService
    org: str
    page: Page
    output: OutputFormat

    async def respond(
        self,
        request: Request,
        query: tuple[str, str],
        parameters: Mapping[str, Any],
        message: str,
        *,
        order: SortOrder | None = None,
    ) -> Response:
        """Answer a page of `sql/<team>/<name>.sql` with `parameters` (in `order` if given)."""
        return await self.service.respond(
            request,
            self.org,
            [QueryCall(query, parameters, self.page, order)],
            page_renderer(self.page, self.output, message, query[1]),
            output=self.output,
        )


FormatParam = Annotated[
    OutputFormat,
    Query(alias="format", description="`json` (the envelope) or `csv` (the same rows)."),
]


async def get_team_query(
    request: Request,
    principal: PrincipalDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Rows per page (default 1000, at most C360_MAX_LIMIT = 10000)."),
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip before this page.")
    ] = 0,
    output: FormatParam = "json",
) -> TeamQuery:
    """Service, organisation, page (bounded by the configured maximum) and format, resolved in
    one dependency: FastAPI's per-dependency cost is most of a cached answer's cost."""
    settings: ApiSettings = request.app.state.settings
    if limit is not None and limit > settings.max_limit:
        raise invalid_parameter(
            "limit", f"Input should be less than or equal to {settings.max_limit}"
        )
    return TeamQuery(
        service=request.app.state.query_service,
        org=principal.org,
        page=Page(limit=limit or settings.default_limit, offset=offset),
        output=output,
    )


TeamQueryDep = Annotated[TeamQuery, Depends(get_team_query)]


async def get_paged_query(
    request: Request,
    principal: PrincipalDep,
    page: Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page number, from 1.")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page (at most 500).")
    ] = DEFAULT_PAGE_SIZE,
    output: FormatParam = "json",
) -> TeamQuery:
    """Like `get_team_query` for the /api/v1 lists, which count pages (`page`, `page_size`)."""
    return TeamQuery(
        service=request.app.state.query_service,
        org=principal.org,
        page=Page.number(page, page_size),
        output=output,
    )


PagedQueryDep = Annotated[TeamQuery, Depends(get_paged_query)]


def invalid_parameter(field: str, message: str) -> RequestValidationError:
    """The 422 error (error envelope) for one query parameter."""
    error = {"loc": ("query", field), "msg": message, "type": "value_error"}
    return RequestValidationError([error])


def check_range(low_field: str, low: Bound | None, high_field: str, high: Bound | None) -> None:
    """Raise a 422 naming `low_field` when both bounds are given and the low one is higher."""
    if low is not None and high is not None and low > high:
        raise invalid_parameter(low_field, f"{low_field} must not be greater than {high_field}")


async def get_jobs(request: Request) -> JobManager:
    """The app's refresh job manager."""
    jobs: JobManager = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobManager, Depends(get_jobs)]
