"""The JSON error envelope every failure is returned in."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from c360_api.engine import SnapshotUnavailableError

log = structlog.get_logger(__name__)

_ERROR_TYPES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    503: "service_unavailable",
}


class ApiError(Exception):
    """A failure answered with the error envelope: status, message, extra details, headers."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.details = details
        self.headers = headers


def utc_now_iso() -> str:
    """Current time as an ISO-8601 UTC string (the envelope's timestamp)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def error_response(
    status_code: int,
    message: str,
    *,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """Build the error envelope for a status code."""
    body = {
        "success": False,
        "error_type": _ERROR_TYPES.get(status_code, "error"),
        "error_message": message,
        "timestamp": utc_now_iso(),
        "error_details": {"status_code": status_code, **(details or {})},
    }
    return JSONResponse(status_code=status_code, content=body, headers=headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    headers = getattr(exc, "headers", None)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such path: {request.url.path}"
    if exc.status_code == 405:
        # Every method the path has (Starlette names only the first route that matched it).
        headers = {**(headers or {}), "Allow": ", ".join(_allowed_methods(request))}
    return error_response(exc.status_code, message, headers=headers)


def _allowed_methods(request: Request) -> list[str]:
    methods: set[str] = set()
    for route in iter_route_contexts(request.app.routes):
        match, _ = route.matches(request.scope)
        if match != Match.NONE:
            methods |= set(route.methods or ())
    return sorted(methods)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status_code, exc.message, details=exc.details, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [
        {
            "field": ".".join(str(part) for part in err.get("loc", ()) if part != "body") or "body",
            "message": err.get("msg", "invalid value"),
        }
        for err in exc.errors()
    ]
    names = ", ".join(f["field"] for f in fields)
    return error_response(422, f"invalid request parameters: {names}", details={"fields": fields})


async def _snapshot_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return error_response(503, str(exc))


async def _unhandled_error(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    log.error(
        "unhandled_error",
        request_id=request_id,
        path=request.url.path,
        exc_info=(type(exc), exc, exc.__traceback__),
    )
    return error_response(
        500,
        "internal error; quote the request id to an administrator",
        details={"request_id": request_id},
        headers={"X-Request-ID": request_id},
    )


def install_error_handlers(app: FastAPI) -> None:
    """Route every error through the envelope."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(SnapshotUnavailableError, _snapshot_unavailable)
    app.add_exception_handler(Exception, _unhandled_error)
