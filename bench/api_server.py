"""The API as `make bench` serves it: the real app plus a bare route returning a constant."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import Response

from c360_api.app import create_app

BARE_BODY = b'{"success":true,"message":"constant","data":[]}'


def create_bench_app() -> FastAPI:
    """The production app (settings from the environment) with `GET /bench/bare` added."""
    app = create_app()

    @app.get("/bench/bare", include_in_schema=False)
    async def bare() -> Response:
        return Response(BARE_BODY, media_type="application/json")

    return app
