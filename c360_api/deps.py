"""FastAPI dependencies as `Annotated` aliases.

They are `async def` although they do not await: FastAPI runs a plain `def` dependency in
the thread pool, one hop per dependency per request; these only read app state.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Query, Request
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


async def get_org(settings: SettingsDep) -> str:
    """The organisation a request reads (the configured one until credentials name it)."""
    return settings.org


OrgDep = Annotated[str, Depends(get_org)]


async def get_page(
    settings: SettingsDep,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Rows per page (default 1000, at most C360_MAX_LIMIT = 10000)."),
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Rows to skip before this page.")] = 0,
) -> Page:
    """Pagination from `limit`/`offset`, bounded by the configured maximum page size."""
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
    return Page(limit=limit or settings.default_limit, offset=offset)


PageDep = Annotated[Page, Depends(get_page)]


async def get_output_format(
    output: Annotated[
        Literal["json", "csv"],
        Query(alias="format", description="`json` (the envelope) or `csv` (the same rows)."),
    ] = "json",
) -> OutputFormat:
    """The requested answer format."""
    return output


FormatDep = Annotated[OutputFormat, Depends(get_output_format)]


async def get_jobs(request: Request) -> JobManager:
    """The app's refresh job manager."""
    jobs: JobManager = request.app.state.jobs
    return jobs


JobsDep = Annotated[JobManager, Depends(get_jobs)]
