"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from c360_api import health
from c360_api.errors import install_error_handlers


def create_app() -> FastAPI:
    """Build the API with its routers and error envelope."""
    app = FastAPI(
        title="C360 API",
        description="Customer 360 queries over the newest published snapshot.",
        version="0.1.0",
    )
    install_error_handlers(app)
    app.include_router(health.router)
    return app
