"""FastAPI dependencies as `Annotated` aliases.

They are `async def` although they do not await: FastAPI runs a plain `def` dependency in
the thread pool, one hop per dependency per request; these only read app state.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError

from c360_api.jobs import JobManager
from c360_api.service import OutputFormat, Page, QueryService
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


@dataclass(frozen=True)
class TeamQuery:
    """What a team route needs besides its own parameters: service, organisation, page, format."""

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
    ) -> Response:
        """Answer `sql/<team>/<name>.sql` with `parameters` for this request."""
        return await self.service.respond(
            request,
            self.org,
            query,
            parameters,
            page=self.page,
            output=self.output,
            message=message,
        )


async def get_team_query(
    request: Request,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Rows per page (default 1000, at most C360_MAX_LIMIT = 10000)."),
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Rows to skip before this page.")] = 0,
    output: Annotated[
        Literal["json", "csv"],
        Query(alias="format", description="`json` (the envelope) or `csv` (the same rows)."),
    ] = "json",
) -> TeamQuery:
    """Service, organisation, page (bounded by the configured maximum) and format, resolved in
    one dependency: FastAPI's per-dependency cost is most of a cached answer's cost."""
    settings: ApiSettings = request.app.state.settings
    if limit is not None and limit > settings.max_limit:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", "limit"),
                    "msg": f"Input should be less than or equal to {settings.max_limit}",
                    "type": "less_than_equal",
                }
            ]
        )
    return TeamQuery(
        service=request.app.state.query_service,
        org=organisation(settings),
        page=Page(limit=limit or settings.default_limit, offset=offset),
        output=output,
    )


TeamQueryDep = Annotated[TeamQuery, Depends(get_team_query)]


async def get_jobs(request: Request) -> JobManager:
    """The app's refresh job manager."""
    jobs: JobManager = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobManager, Depends(get_jobs)]
