"""Every route of the OpenAPI schema, walked: no credential or a bad one is a 401, a credential
without the route's scope a 403, both in the error envelope; the route's scope is enough."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.auth.scopes import ALL_SCOPES, format_scopes
from c360_api.jobs import JobManager
from tests.c360_api.conftest import auth_headers, make_settings
from tests.c360_api.routes import Operation, operations
from tests.c360_api.test_health import assert_error_envelope

BAD_CREDENTIALS = [
    {"Authorization": "Bearer c360_0123456789ab_" + "A" * 43},  # well-formed, unknown
    {"X-API-Key": "c360_not-a-key"},
    {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"},
    {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="},
    {"Authorization": "Bearer "},
]


@pytest.fixture
def app(data_dir: Path) -> Iterator[FastAPI]:
    """The app over the hand-built snapshot; a refresh runs a command that exits at once."""
    application = create_app(make_settings(data_dir))
    application.state.jobs = JobManager(lambda org, force: [sys.executable, "-c", "pass"])
    return application


@pytest.fixture
def protected(app: FastAPI) -> list[Operation]:
    """Every operation that needs a credential."""
    found = operations(app.openapi())
    assert len(found) >= 30, "the schema lost routes"
    return found


def test_without_a_credential_every_route_is_a_401(
    app: FastAPI, protected: list[Operation]
) -> None:
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        for operation in protected:
            response = anonymous.request(operation.method, operation.url)
            assert response.status_code == 401, operation.id
            assert_error_envelope(response.json(), 401, "unauthorized")
            assert response.headers["www-authenticate"] == 'Bearer realm="c360"', operation.id
            assert "credential is required" in response.json()["error_message"]


def test_a_bad_credential_is_a_401_on_every_route(app: FastAPI, protected: list[Operation]) -> None:
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        for operation in protected:
            for headers in BAD_CREDENTIALS:
                response = anonymous.request(operation.method, operation.url, headers=headers)
                assert response.status_code == 401, (operation.id, headers)
                assert_error_envelope(response.json(), 401, "unauthorized")
                challenge = response.headers["www-authenticate"]
                assert challenge == 'Bearer realm="c360", error="invalid_token"', operation.id


def test_every_route_needs_its_scope_and_its_scope_is_enough(
    app: FastAPI, protected: list[Operation]
) -> None:
    statuses: dict[str, int] = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        _walk_scopes(app, client, protected, statuses)
    # The scope alone answers: data routes 200, a refresh 202, a body-less POST 422, an
    # unknown id 404.
    assert statuses["GET /marketing/churn-risk-customers"] == 200
    assert statuses["GET /api/v1/customers/{customer_id}"] == 200
    assert statuses["POST /admin/refresh-data"] == 202
    assert statuses["POST /admin/keys"] == 422
    assert statuses["DELETE /admin/keys/{key_id}"] == 404
    assert statuses["GET /metrics"] == 200


def _walk_scopes(
    app: FastAPI, client: TestClient, protected: list[Operation], statuses: dict[str, int]
) -> None:
    for operation in protected:
        scope = operation.expected_scope
        documented = [
            requirement["password"]
            for requirement in operation.operation.get("security", [])
            if "password" in requirement
        ]
        assert documented == [[scope] if scope else []], operation.id
        assert operation.operation["responses"]["401"], operation.id
        if scope is None:
            continue
        lacking = auth_headers(app, scopes=format_scopes(ALL_SCOPES - {scope}))
        refused = client.request(operation.method, operation.url, headers=lacking)
        assert refused.status_code == 403, operation.id
        body = refused.json()
        assert_error_envelope(body, 403, "forbidden")
        assert body["error_details"]["required_scopes"] == [scope]
        assert refused.headers["www-authenticate"] == (
            f'Bearer realm="c360", error="insufficient_scope", scope="{scope}"'
        )
        allowed = client.request(
            operation.method, operation.url, headers=auth_headers(app, scopes=scope)
        )
        assert allowed.status_code not in (401, 403, 500), (operation.id, allowed.text)
        statuses[operation.id] = allowed.status_code


def test_the_public_routes_and_the_docs_need_no_credential(app: FastAPI) -> None:
    with TestClient(app, raise_server_exceptions=False) as anonymous:
        assert anonymous.get("/health").status_code == 200
        assert anonymous.get("/docs").status_code == 200
        response = anonymous.get("/openapi.json")
        assert response.status_code == 200
        schema = response.json()
        public = operations(schema, public=True)
        assert {operation.id for operation in public} == {
            "GET /health",
            "POST /api/auth/register",
            "POST /api/auth/login",
            "POST /api/auth/login/json",
        }
        for operation in public:
            assert "security" not in operation.operation, operation.id
        schemes = schema["components"]["securitySchemes"]
        assert schemes["bearer"] == {
            "type": "http",
            "scheme": "bearer",
            "description": schemes["bearer"]["description"],
        }
        assert schemes["apiKey"]["name"] == "X-API-Key"
        assert schemes["password"]["flows"]["password"]["tokenUrl"] == "/api/auth/login"


def test_a_router_added_without_a_scope_stops_the_app(data_dir: Path) -> None:
    from fastapi import APIRouter

    from c360_api import app as app_module

    stray = APIRouter(prefix="/stray")

    @stray.get("/open")
    def open_route() -> dict[str, str]:
        return {}

    application = create_app(make_settings(data_dir))
    application.include_router(stray)
    with pytest.raises(RuntimeError, match="/stray/open is served without a credential check"):
        app_module.check_every_route_is_guarded(application)
