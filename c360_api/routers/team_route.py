"""Registering a team route: one SQL file, documented rows, pagination and CSV."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from c360_api.deps import TeamQueryDep
from c360_api.envelopes import Column, envelope

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag matches this answer."},
    422: {"description": "Invalid parameters (the error envelope names the fields)."},
    503: {"description": "No snapshot is published for the organisation yet."},
}


def responses_for(model: type, columns: list[Column]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses of a query route: the JSON envelope, its CSV form and the errors."""
    header = ",".join(column[0] for column in columns)
    return {
        200: {
            "model": model,
            "content": {"text/csv": {"example": f"{header}\r\n..."}},
            "description": "The rows (JSON envelope, or CSV with `?format=csv`).",
        },
        **ERROR_RESPONSES,
    }


def add_query_route(
    router: APIRouter,
    path: str,
    query: tuple[str, str],
    columns: list[Column],
    *,
    summary: str,
    message: str,
) -> None:
    """Add `GET <path>` answering the parameterless query `sql/<team>/<name>.sql`."""
    model = envelope(_model_name(query[1]), columns, message)

    async def handler(request: Request, team_query: TeamQueryDep) -> Response:
        return await team_query.respond(request, query, {}, message)

    handler.__name__ = query[1]
    handler.__doc__ = f"{summary}."
    router.add_api_route(
        path,
        handler,
        methods=["GET"],
        summary=summary,
        response_model=model,
        responses=responses_for(model, columns),
    )


def _model_name(query_name: str) -> str:
    return "".join(part.capitalize() for part in query_name.split("_")) + "Response"
