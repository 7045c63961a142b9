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


def organisation(settings: ApiSettings) -> str:
    """The organisation a request reads (the configured one until credentials name it)."""
    return settings.org


async def get_org(settings: SettingsDep) -> str:
    """The organisation a request reads."""
    return organisation(settings)


OrgDep = Annotated[str, Depends(get_org)]


DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 500

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
    limit: Annotated[
        int | None,
        Query(ge=1, description="Rows per page (default 1000, at most C360_MAX_LIMIT = 10000)."),
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Rows to skip before this page.")] = 0,
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
        org=organisation(settings),
        page=Page(limit=limit or settings.default_limit, offset=offset),
        output=output,
    )


TeamQueryDep = Annotated[TeamQuery, Depends(get_team_query)]


async def get_paged_query(
    request: Request,
    page: Annotated[int, Query(ge=1, description="Page number, from 1.")] = 1,
    page_size: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Rows per page (at most 500).")
    ] = DEFAULT_PAGE_SIZE,
    output: FormatParam = "json",
) -> TeamQuery:
    """Like `get_team_query` for the /api/v1 lists, which count pages (`page`, `page_size`)."""
    return TeamQuery(
        service=request.app.state.query_service,
        org=organisation(request.app.state.settings),
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
