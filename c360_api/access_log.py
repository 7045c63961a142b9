"""Request ids, the JSON access log and request metrics, as one pure ASGI middleware.

Every response echoes `X-Request-ID` (the caller's, when it sent a sane one, else a new id).
After each request one `request` log line records the route template, status, latency and
what the request noted on `request.state` (the credential and its organisation, query name,
cache hit, snapshot id); never the credential itself.
"""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from c360_api.metrics import RequestMetrics

log = structlog.get_logger("c360_api.access")

REQUEST_ID_HEADER = b"x-request-id"
_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")


class AccessLogMiddleware:
    """Assigns request ids, logs each request and feeds the metrics."""

    def __init__(self, app: ASGIApp, metrics: RequestMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _request_id(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER, request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", None) or "<unmatched>"
            principal = state.get("principal")
            org = principal.org if principal is not None else None
            self.metrics.record(scope["method"], template, status, seconds, org)
            log.info(
                "request",
                request_id=request_id,
                method=scope["method"],
                route=template,
                path=scope["path"],
                status=status,
                org=org,
                principal=principal.rate_key if principal is not None else None,
                latency_ms=round(seconds * 1000, 2),
                cache_hit=state.get("cache_hit"),
                query=state.get("query_name"),
                snapshot_id=state.get("snapshot_id"),
            )


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _SANE_ID.fullmatch(value):
            return value.decode()
    return uuid.uuid4().hex
