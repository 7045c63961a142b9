"""Response models for the OpenAPI docs: the success envelope around typed, described rows.

Answers are rendered straight to bytes by the query service; these models document them
(every column with its type, meaning and an example) and a test keeps them equal to the
columns each SQL file returns.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, create_model

from c360_api.errors import utc_now_iso

Column = tuple[str, Any, str, Any]  # (name, type, description, example)


def row_model(name: str, columns: list[Column], doc: str | None = None) -> type[BaseModel]:
    """A model of one result row: a field per column, nullable, with description and example."""
    fields: dict[str, Any] = {
        column: (kind | None, Field(description=description, examples=[example]))
        for column, kind, description, example in columns
    }
    model = create_model(name, __config__=ConfigDict(extra="forbid"), **fields)
    model.__doc__ = doc or f"One row of the {name.removesuffix('Row')} answer."
    return model


def example_row(columns: list[Column]) -> dict[str, Any]:
    """The example values of a row, JSON-ready."""
    return {column: _json_ready(example) for column, _, _, example in columns}


def rows_field(name: str, row: type[BaseModel], description: str) -> Column:
    """A field holding a list of `row`s (a `row_model`), with a one-row example, for an
    `object_envelope`; one row model can serve several fields."""
    example = {
        column: _json_ready((info.examples or [None])[0])
        for column, info in row.model_fields.items()
    }
    return (name, list[row], description, [example])  # type: ignore[valid-type]


def _json_ready(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


EXAMPLE_TIMESTAMP = "2026-01-31T08:00:00.000Z"

_ENVELOPE_FIELDS: dict[str, Any] = {
    "success": (bool, Field(description="Always true for a success.")),
    "message": (str, Field(description="What the answer holds.")),
    "timestamp": (str, Field(description="When the response was sent (UTC, ISO 8601).")),
}
_LIST_FIELDS: dict[str, Any] = {
    "count": (int, Field(description="Rows in `data`.")),
    "total": (int, Field(description="Rows in the whole answer, over every page.")),
    "truncated": (bool, Field(description="True when rows remain after this page.")),
}
_OFFSET_FIELDS: dict[str, Any] = {
    "limit": (int, Field(description="Page size used.")),
    "offset": (int, Field(description="Rows skipped before this page.")),
}
_NUMBERED_FIELDS: dict[str, Any] = {
    "page": (int, Field(description="This page's number (from 1).")),
    "page_size": (int, Field(description="Rows per page.")),
    "pages": (int, Field(description="Pages in the whole answer (0 when it is empty).")),
}


def envelope(
    name: str, columns: list[Column], message: str, *, numbered: bool = False, row: Any = None
) -> type[BaseModel]:
    """The success envelope of a list answer whose rows have `columns`, paged by limit and
    offset, or by page number when `numbered`; `row` replaces the rows' model (e.g. a union of
    two row models when a parameter picks the shape; `columns` then give the example)."""
    row = row or row_model(f"{name}Row", columns)
    paging = {"page": 1, "page_size": 50, "pages": 1} if numbered else {"limit": 1000, "offset": 0}
    example: dict[str, Any] = {
        "success": True,
        "message": message,
        "timestamp": EXAMPLE_TIMESTAMP,
        "data": [example_row(columns)],
        "count": 1,
        "total": 1,
        "truncated": False,
        **paging,
    }
    model = create_model(
        name,
        __config__=ConfigDict(json_schema_extra={"examples": [example]}),
        **_ENVELOPE_FIELDS,
        data=(list[row], Field(description="The rows of this page.")),
        **_LIST_FIELDS,
        **(_NUMBERED_FIELDS if numbered else _OFFSET_FIELDS),
    )
    model.__doc__ = f"Success envelope: {message}."
    return model


def object_envelope(name: str, fields: list[Column], message: str) -> type[BaseModel]:
    """The success envelope of an answer whose `data` is one object with `fields` (a field's
    type may itself be a list of row models)."""
    data = row_model(f"{name.removesuffix('Response')}Data", fields, doc=f"The {message}.")
    example: dict[str, Any] = {
        "success": True,
        "message": message,
        "timestamp": EXAMPLE_TIMESTAMP,
        "data": example_row(fields),
    }
    model = create_model(
        name,
        __config__=ConfigDict(json_schema_extra={"examples": [example]}),
        **_ENVELOPE_FIELDS,
        data=(data, Field(description="The answer.")),
    )
    model.__doc__ = f"Success envelope: {message}."
    return model


def success_response(
    data: Any, message: str, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    """The success envelope around `data` (with `count` when `data` is a list)."""
    body: dict[str, Any] = {
        "success": True,
        "message": message,
        "timestamp": utc_now_iso(),
        "data": data,
    }
    if isinstance(data, list):
        body["count"] = len(data)
    return JSONResponse(status_code=status_code, content=body, headers=headers)


class JobData(BaseModel):
    """A refresh job."""

    job_id: str = Field(description="Job id (32 hex digits).")
    org: str = Field(description="Organisation refreshed.")
    force: bool = Field(description="True when the run ignored unchanged inputs.")
    trigger: str = Field(description="`api` or `schedule`.")
    status: str = Field(description="running, succeeded, skipped or failed.")
    created_at: str | None = Field(description="When the job was accepted (UTC).")
    started_at: str | None = Field(description="When the pipeline started (UTC).")
    finished_at: str | None = Field(description="When it ended (UTC).")
    exit_code: int | None = Field(description="The pipeline's exit code.")
    progress: float = Field(description="Finished stages / all stages (0–1).")
    stage: str | None = Field(description="The last stage that finished.")
    log_tail: list[str] = Field(description="The last lines the pipeline printed.")
    snapshot_id: str | None = Field(description="The snapshot published (or kept).")
    error: str | None = Field(description="Why the job failed.")


class JobResponse(BaseModel):
    """Success envelope around one job."""

    success: bool
    message: str
    timestamp: str
    data: JobData


class JobListResponse(BaseModel):
    """Success envelope around the organisation's jobs, newest first."""

    success: bool
    message: str
    timestamp: str
    data: list[JobData]
    count: int


class ErrorResponse(BaseModel):
    """The error envelope every failure is answered with."""

    success: bool = Field(description="Always false for an error.")
    error_type: str = Field(description="`unauthorized`, `forbidden`, `rate_limited`, ...")
    error_message: str = Field(description="What went wrong, for a person.")
    timestamp: str = Field(description="When the response was sent (UTC, ISO 8601).")
    error_details: dict[str, Any] = Field(
        description="`status_code`, and e.g. `fields`, `required_scopes`, `retry_after_seconds`."
    )


BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body is not UTF-8 JSON (or form) text."},
    413: {"model": ErrorResponse, "description": "The body is larger than C360_MAX_BODY_BYTES."},
    422: {"model": ErrorResponse, "description": "Invalid fields (the envelope names them)."},
}
"""The errors of a route that reads a request body."""
