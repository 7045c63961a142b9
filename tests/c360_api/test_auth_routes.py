"""Users over HTTP: registration by policy, login (form and JSON) for an access token, /me,
and what a user's token may read; API keys and invites managed by an organisation's admin."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.auth.passwords import Passwords
from c360_api.settings import ApiSettings
from tests.c360_api.conftest import ORG, auth_headers, credential, make_settings
from tests.c360_api.test_health import assert_error_envelope

PASSWORD = "correct horse battery"

AppFactory = Callable[..., tuple[FastAPI, TestClient]]


@pytest.fixture
def make_app(data_dir: Path) -> Iterator[AppFactory]:
    """Apps over the hand-built snapshot with some settings overridden (closed at the end)."""
    clients: list[TestClient] = []

    def build(**overrides: Any) -> tuple[FastAPI, TestClient]:
        app = create_app(make_settings(data_dir, **overrides))
        # Cheap Argon2 parameters keep the suite quick; test_passwords covers the real ones.
        app.state.passwords = Passwords(
            PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
        )
        client = TestClient(app, raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        return app, client

    yield build
    for client in clients:
        client.__exit__(None, None, None)


def _invite(client: TestClient, app: FastAPI, scopes: list[str]) -> str:
    response = client.post("/admin/invites", json={"scopes": scopes}, headers=auth_headers(app))
    assert response.status_code == 201, response.text
    assert response.headers["cache-control"] == "no-store"
    return str(response.json()["data"]["code"])


def _register(client: TestClient, **body: Any) -> Any:
    return client.post("/api/auth/register", json={"password": PASSWORD, **body})


def _login(client: TestClient, email: str, password: str = PASSWORD, scope: str = "") -> Any:
    return client.post(
        "/api/auth/login", data={"username": email, "password": password, "scope": scope}
    )


def test_an_invited_user_joins_the_invites_organisation_and_reads_with_its_scopes(
    make_app: AppFactory,
) -> None:
    app, client = make_app()
    code = _invite(client, app, ["marketing"])
    registered = _register(client, email="Ada@Example.com", invite_code=code)
    assert registered.status_code == 201, registered.text
    user = registered.json()["data"]
    assert (user["email"], user["organization"], user["scopes"]) == (
        "ada@example.com",
        ORG,
        ["marketing"],
    )
    assert PASSWORD not in registered.text

    login = _login(client, "ada@example.com")
    assert login.status_code == 200, login.text
    assert login.headers["cache-control"] == "no-store"
    token = login.json()
    assert (token["token_type"], token["scope"], token["organization"]) == (
        "bearer",
        "marketing",
        ORG,
    )
    assert token["expires_in"] == 15 * 60
    claims = jwt.decode(token["access_token"], options={"verify_signature": False})
    assert (claims["org"], claims["scopes"], claims["sub"]) == (ORG, ["marketing"], user["user_id"])

    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    me = client.get("/api/auth/me", headers=bearer).json()["data"]
    assert me == {
        "kind": "user",
        "id": user["user_id"],
        "name": "ada@example.com",
        "organization": ORG,
        "scopes": ["marketing"],
    }
    rows = client.get("/marketing/churn-risk-customers", headers=bearer)
    assert rows.status_code == 200
    assert {row["customer_id"] for row in rows.json()["data"]} == {
        "C02",
        "C03",
        "C04",
        "C05",
        "C08",
    }
    refused = client.get("/finance/revenue-analysis", headers=bearer)
    assert refused.status_code == 403
    assert refused.json()["error_details"]["required_scopes"] == ["finance"]

    again = _register(client, email="someone@example.com", invite_code=code)
    assert again.status_code == 403, "an invite is used once"
    assert_error_envelope(again.json(), 403, "forbidden")
    taken = _register(client, email="ADA@example.com", invite_code=_invite(client, app, ["admin"]))
    assert taken.status_code == 409


def test_json_login_and_a_token_narrowed_to_some_scopes(make_app: AppFactory) -> None:
    app, client = make_app()
    code = _invite(client, app, ["marketing", "finance"])
    assert _register(client, email="grace@example.com", invite_code=code).status_code == 201
    login = client.post(
        "/api/auth/login/json",
        json={"email": "grace@example.com", "password": PASSWORD, "scopes": ["finance", "admin"]},
    )
    assert login.status_code == 200, login.text
    assert login.json()["scope"] == "finance", "only scopes the user holds, and only those asked"
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}
    assert client.get("/finance/revenue-analysis", headers=bearer).status_code == 200
    assert client.get("/marketing/customer-segmentation", headers=bearer).status_code == 403
    narrowed = _login(client, "grace@example.com", scope="marketing")
    assert narrowed.json()["scope"] == "marketing"
    unknown = _login(client, "grace@example.com", scope="root")
    assert unknown.status_code == 422


def test_a_wrong_password_or_unknown_email_is_the_same_401(make_app: AppFactory) -> None:
    app, client = make_app()
    _register(client, email="grace@example.com", invite_code=_invite(client, app, ["finance"]))
    wrong = _login(client, "grace@example.com", password="not the password")
    unknown = _login(client, "nobody@example.com")
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert_error_envelope(response.json(), 401, "unauthorized")
        assert response.json()["error_message"] == "incorrect email or password"
        assert response.headers["www-authenticate"].startswith("Bearer")
    json_wrong = client.post(
        "/api/auth/login/json", json={"email": "grace@example.com", "password": "x" * 12}
    )
    assert json_wrong.status_code == 401


def test_an_expired_or_forged_token_is_a_401(make_app: AppFactory) -> None:
    app, client = make_app(jwt_expire_minutes=1)
    code = _invite(client, app, ["marketing"])
    user = _register(client, email="ada@example.com", invite_code=code).json()["data"]
    claims = {
        "iss": "c360",
        "aud": "c360-api",
        "sub": user["user_id"],
        "org": ORG,
        "scopes": ["marketing"],
        "iat": 1_700_000_000,
        "exp": 1_700_000_060,
    }
    secret = app.state.settings.jwt_secret.get_secret_value()
    expired = jwt.encode(claims, secret, algorithm="HS256")
    forged = jwt.encode({**claims, "exp": 4_000_000_000}, "not-the-secret" * 4, algorithm="HS256")
    for token, message in ((expired, "expired"), (forged, "not valid")):
        response = client.get(
            "/marketing/customer-segmentation", headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 401
        assert message in response.json()["error_message"]
        assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_registration_follows_the_deployments_policy(make_app: AppFactory) -> None:
    closed_app, closed = make_app(registration="closed")
    refused = _register(closed, email="a@example.com", invite_code="c360i_whatever")
    assert refused.status_code == 403
    assert "closed" in refused.json()["error_message"]
    invite_only = _register(closed, email="a@example.com", organization="newco")
    assert invite_only.status_code == 403
    assert (
        closed.post(
            "/admin/invites", json={"scopes": ["marketing"]}, headers=auth_headers(closed_app)
        ).status_code
        == 409
    )

    _, by_invite = make_app(registration="invite")
    refused = _register(by_invite, email="a@example.com", organization="newco")
    assert refused.status_code == 403
    assert "invite" in refused.json()["error_message"]

    _, open_app = make_app(registration="open")
    created = _register(open_app, email="founder@newco.test", organization="newco")
    assert created.status_code == 201, created.text
    founder = created.json()["data"]
    assert founder["organization"] == "newco"
    assert founder["scopes"] == ["marketing", "product", "finance", "customer_success", "analyst",
                                 "admin"]  # fmt: skip
    taken = _register(open_app, email="mallory@evil.test", organization="newco")
    assert taken.status_code == 409
    data_org = _register(open_app, email="mallory@evil.test", organization=ORG)
    assert data_org.status_code == 409, "an organisation with data but no users yet is taken"
    token = _login(open_app, "founder@newco.test").json()["access_token"]
    empty = open_app.get("/finance/revenue-analysis", headers={"Authorization": f"Bearer {token}"})
    assert empty.status_code == 503, "the new organisation has no data, and cannot read acme's"
    assert "newco" in empty.json()["error_message"]
    refresh = open_app.post("/admin/refresh-data", headers={"Authorization": f"Bearer {token}"})
    assert refresh.status_code == 409, "no Spark run for an organisation without data"
    assert "no data area" in refresh.json()["error_message"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "invite_code": "c360i_x"}, "email"),
        ({"email": "a@example.com", "password": "short", "invite_code": "c360i_x"}, "password"),
        ({"email": "a@example.com", "password": "x" * 129, "invite_code": "c360i_x"}, "password"),
        ({"email": "a@example.com", "organization": "../etc"}, "organization"),
        ({"email": "a@example.com"}, ""),
        ({"email": "a@example.com", "organization": "x", "invite_code": "c360i_x"}, ""),
    ],
)
def test_a_bad_registration_is_a_422_naming_the_field(
    make_app: AppFactory, body: dict[str, str], field: str
) -> None:
    _, client = make_app(registration="open")
    response = client.post("/api/auth/register", json={"password": PASSWORD, **body})
    assert response.status_code == 422, response.text
    assert_error_envelope(response.json(), 422, "validation_error")
    assert any(field in f["field"] for f in response.json()["error_details"]["fields"])


def test_an_admin_manages_its_organisations_keys_and_a_revoke_is_immediate(
    make_app: AppFactory,
) -> None:
    app, client = make_app()
    admin = auth_headers(app, scopes="admin,marketing")
    created = client.post(
        "/admin/keys", json={"name": "Looker", "scopes": ["marketing"]}, headers=admin
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    new = created.json()["data"]
    assert new["key"].startswith(f"c360_{new['key_id']}_")
    assert (new["organization"], new["scopes"], new["name"]) == (ORG, ["marketing"], "Looker")
    assert new["created_by"].startswith("api_key:")
    key = {"X-API-Key": new["key"]}
    assert client.get("/marketing/customer-segmentation", headers=key).status_code == 200

    listed = client.get("/admin/keys", headers=admin).json()["data"]
    assert new["key_id"] in {row["key_id"] for row in listed}
    listing = client.get("/admin/keys?include_revoked=true", headers=admin).text
    assert new["key"] not in listing
    assert new["key"].split("_", 2)[2] not in listing

    escalation = client.post(
        "/admin/keys", json={"name": "x", "scopes": ["finance"]}, headers=admin
    )
    assert escalation.status_code == 403, "a credential hands out only scopes it holds"
    assert escalation.json()["error_details"]["required_scopes"] == ["finance"]

    revoked = client.delete(f"/admin/keys/{new['key_id']}", headers=admin)
    assert revoked.status_code == 200
    assert revoked.json()["data"]["revoked_at"]
    after = client.get("/marketing/customer-segmentation", headers=key)
    assert after.status_code == 401
    assert client.get("/admin/keys", headers=admin).json()["data"] == [
        row for row in listed if row["key_id"] != new["key_id"]
    ]


def test_a_key_revoked_from_the_command_line_fails_its_next_request(make_app: AppFactory) -> None:
    from c360_api.cli import main

    app, client = make_app()
    key = credential(app, scopes="finance")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/finance/revenue-analysis", headers=headers).status_code == 200
    key_id = key.split("_")[1]
    settings: ApiSettings = app.state.settings
    store_path = settings.auth_db_path
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("C360_AUTH_DB", str(store_path))
        from c360_api.settings import get_settings

        get_settings.cache_clear()
        try:
            assert main(["keys", "revoke", key_id]) == 0
        finally:
            get_settings.cache_clear()
    assert client.get("/finance/revenue-analysis", headers=headers).status_code == 401


def test_an_invite_lasts_the_hours_asked_for(make_app: AppFactory) -> None:
    app, client = make_app(invite_ttl_hours=72)
    before = datetime.now(UTC)
    short = client.post(
        "/admin/invites",
        json={"scopes": ["marketing"], "ttl_hours": 0.5},
        headers=auth_headers(app),
    ).json()["data"]
    default = client.post(
        "/admin/invites", json={"scopes": ["marketing"]}, headers=auth_headers(app)
    ).json()["data"]
    for data, hours in ((short, 0.5), (default, 72)):
        expires = datetime.fromisoformat(data["expires_at"])
        assert abs(expires - before - timedelta(hours=hours)) < timedelta(seconds=5)
        assert data["code"].startswith(f"c360i_{data['invite_id']}_")
