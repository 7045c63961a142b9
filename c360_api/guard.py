"""Request-size limit and per-caller response headers, as one pure ASGI middleware.

A body larger than `max_body_bytes` is refused with a 413 envelope: at once when its
`Content-Length` says so (before routing or authentication), or as soon as a streamed body
passes the limit while the app reads it. Every response is marked private to the caller
(`Cache-Control: private` unless the app set its own, `Vary` on the credential headers), so a
shared cache between a client and the API can never hand one organisation's answer to
another; `X-Content-Type-Options: nosniff` keeps browsers from reinterpreting a body.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from c360_api.errors import error_response

_CONTENT_LENGTH = b"content-length"
_EXTRA_HEADERS = [
    (b"vary", b"Authorization, X-API-Key"),
    (b"x-content-type-options", b"nosniff"),
]


def too_large_message(limit: int) -> str:
    """What a client sending too big a body is told."""
    return f"request body larger than {limit} bytes (C360_MAX_BODY_BYTES)"


class RequestGuardMiddleware:
    """Bounds request bodies and adds the privacy headers to every response."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_body_bytes

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                headers += [header for header in _EXTRA_HEADERS if header[0] not in names]
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"private"))
                message["headers"] = headers
            await send(message)

        declared = _declared_length(scope)
        if declared is None:
            refusal = error_response(400, "the Content-Length header is not a number")
        elif declared > limit:
            refusal = error_response(413, too_large_message(limit))
        else:
            refusal = None
        if refusal is not None:
            await refusal(scope, receive, send_with_headers)
            return
        received = 0

        async def receive_with_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # FastAPI re-raises an HTTPException met while reading the body, so the
                    # app's handler answers it with the envelope.
                    raise HTTPException(413, too_large_message(limit))
            return message

        await self.app(scope, receive_with_limit, send_with_headers)


def _declared_length(scope: Scope) -> int | None:
    """The Content-Length (0 when absent), or None when it is not a plain number."""
    for name, value in scope["headers"]:
        if name == _CONTENT_LENGTH:
            return int(value) if value.isdigit() and len(value) <= 18 else None
    return 0
