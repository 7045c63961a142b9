"""`c360-api`: serve the API."""

from __future__ import annotations

import argparse

import uvicorn

from c360_api.settings import get_settings
from c360_pipeline.logs import configure_logging


def main(argv: list[str] | None = None) -> int:
    """`c360-api serve [--host H] [--port P]`."""
    settings = get_settings()
    parser = argparse.ArgumentParser(prog="c360-api", description="C360 query API")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the API with uvicorn")
    serve.add_argument("--host", default=settings.api_host)
    serve.add_argument("--port", type=int, default=settings.api_port)
    args = parser.parse_args(argv)
    configure_logging(settings.log_level)
    base = f"http://{args.host}:{args.port}"
    print(f"C360 API on {base}  (docs {base}/docs, health {base}/health)", flush=True)
    # The app writes its own JSON access log (request id, route, cache hit, snapshot).
    uvicorn.run(
        "c360_api.app:create_app", factory=True, host=args.host, port=args.port, access_log=False
    )
    return 0
