"""Rate limits per credential (429 with Retry-After), request-size limit (413), per-caller
response headers, and the production mode that refuses the development secret."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.cli import main
from c360_api.errors import install_error_handlers
from c360_api.guard import RequestGuardMiddleware
from c360_api.settings import DEFAULT_JWT_SECRET, InsecureSettingsError
from tests.c360_api.conftest import auth_headers, make_settings
from tests.c360_api.test_health import assert_error_envelope


@pytest.fixture
def limited(data_dir: Path) -> Iterator[tuple[FastAPI, TestClient]]:
    """An app allowing 3 requests per credential and 2 login attempts per address a minute."""
    app = create_app(
        make_settings(
            data_dir, rate_limit_per_minute=3, auth_rate_limit_per_minute=2, max_body_bytes=2048
        )
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield app, client


def test_a_credential_over_its_limit_gets_a_429_with_retry_after(
    limited: tuple[FastAPI, TestClient],
) -> None:
    app, client = limited
    first, other = auth_headers(app), auth_headers(app)
    statuses = [
        client.get("/finance/revenue-analysis", headers=first).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    refused = client.get("/finance/revenue-analysis", headers=first)
    assert refused.status_code == 429
    body = refused.json()
    assert_error_envelope(body, 429, "rate_limited")
    retry = int(refused.headers["retry-after"])
    assert 55 <= retry <= 60
    assert body["error_details"]["retry_after_seconds"] == retry
    assert body["error_details"]["limit_per_minute"] == 3
    assert client.get("/api/auth/me", headers=first).status_code == 429, "every route counts"
    assert client.get("/finance/revenue-analysis", headers=other).status_code == 200
    for _ in range(10):
        assert client.get("/health").status_code == 200, "/health is never limited"
    bad = client.get("/finance/revenue-analysis", headers={"X-API-Key": "c360_bogus"})
    assert bad.status_code == 401, "a bad credential is refused, not counted"


def test_login_attempts_are_limited_per_client_address(
    limited: tuple[FastAPI, TestClient],
) -> None:
    _, client = limited
    attempt = {"username": "nobody@example.com", "password": "guess guess guess"}
    assert [client.post("/api/auth/login", data=attempt).status_code for _ in range(2)] == [
        401,
        401,
    ]
    refused = client.post("/api/auth/login/json", json={"email": "x@y.z", "password": "p"})
    assert refused.status_code == 429
    assert refused.json()["error_details"]["retry_after_seconds"] > 0
    assert "retry-after" in refused.headers


def test_an_oversized_body_is_a_413_envelope(limited: tuple[FastAPI, TestClient]) -> None:
    app, client = limited
    big = {"email": "a@example.com", "password": "x" * 4000}
    declared = client.post("/api/auth/login/json", json=big)
    assert declared.status_code == 413
    assert_error_envelope(declared.json(), 413, "payload_too_large")
    assert "2048 bytes" in declared.json()["error_message"]

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(10):
            yield b"x" * 500
        yield b'", "scopes": ["admin"]}'

    streamed = client.post(
        "/admin/keys",
        content=chunks(),
        headers={**auth_headers(app), "Content-Type": "application/json"},
    )
    assert streamed.status_code == 413, streamed.text
    assert_error_envelope(streamed.json(), 413, "payload_too_large")
    names = [key.name for key in app.state.credential_store.list_keys()]
    assert names == ["tests"], "nothing was created from the refused body"


def test_a_content_length_that_is_not_a_number_is_a_400() -> None:
    inner = FastAPI()
    install_error_handlers(inner)
    app = RequestGuardMiddleware(inner, max_body_bytes=1024)
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", b"12; drop")],
        "query_string": b"",
    }
    asyncio.run(app(scope, receive, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 400
    assert b'"error_type":"bad_request"' in sent[1]["body"]  # type: ignore[operator]


def test_answers_are_private_to_the_caller(data_dir: Path) -> None:
    app = create_app(make_settings(data_dir))
    with TestClient(app, headers=auth_headers(app)) as client:
        answer = client.get("/marketing/customer-segmentation")
    assert answer.headers["cache-control"] == "private"
    assert answer.headers["vary"] == "Authorization, X-API-Key"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_production_refuses_the_development_secret(data_dir: Path) -> None:
    with pytest.raises(InsecureSettingsError, match="C360_JWT_SECRET is the built-in"):
        create_app(make_settings(data_dir, env="production"))
    with pytest.raises(InsecureSettingsError, match="at least 32 bytes"):
        create_app(make_settings(data_dir, env="production", jwt_secret="short"))
    app = create_app(make_settings(data_dir, env="production", jwt_secret="s" * 48))
    assert app.state.settings.env == "production"
    create_app(make_settings(data_dir, jwt_secret=DEFAULT_JWT_SECRET))  # development: allowed


def test_the_cli_refuses_to_serve_production_with_the_development_secret(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from c360_api.settings import get_settings

    monkeypatch.setenv("C360_ENV", "production")
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("C360_JWT_SECRET", raising=False)
    get_settings.cache_clear()
    try:
        assert main(["serve", "--port", "1"]) == 2
    finally:
        get_settings.cache_clear()
    assert "refusing to start with C360_ENV=production" in capsys.readouterr().err
