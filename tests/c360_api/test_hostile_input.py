"""Injection attempts in every string parameter of the OpenAPI schema (and the string fields
of the request bodies) get correct, harmless answers: a free-text filter matches the text
literally (no customer here does), an unknown id is a 404, a whitelisted value or a date is a
422; never a 500, and the data and credentials are intact afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from c360_api.app import create_app
from c360_api.auth.passwords import Passwords
from c360_api.auth.store import clean_name
from c360_pipeline.snapshots import ORG_PATTERN
from tests.c360_api.conftest import CUSTOMERS, auth_headers, make_settings
from tests.c360_api.routes import Operation, operations

PAYLOADS = [
    "' OR '1'='1",
    "'; DROP TABLE customer_360; --",
    '" OR ""="',
    "1; SELECT * FROM api_keys",
    "C01' --",
    "') UNION SELECT password_hash, 1 FROM users --",
    "read_parquet('/etc/passwd')",
    "%",
    "_",
    "\\",
    "*",
    "$search",
    ":customer_id",
    "?",
    "../../etc/passwd",
    "{{7*7}}",
    "${jndi:ldap://example.invalid/a}",
    "<script>alert(1)</script>",
    "\x00",
    "Ω≈ç√ 💩",
    "null",
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, TestClient]]:
    """One app (and a client with an every-scope key) for the whole module."""
    from tests.c360_api.conftest import AS_OF, ORG, SNAPSHOT_ID, TABLES
    from tests.c360_api.snapshot_builder import write_snapshot

    data_dir = tmp_path_factory.mktemp("hostile") / "data"
    write_snapshot(data_dir, ORG, SNAPSHOT_ID, TABLES, as_of=AS_OF.isoformat())
    app = create_app(make_settings(data_dir, registration="open"))
    # Cheap hashing: these tests are about what is stored and compared, not hashing cost.
    app.state.passwords = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    with TestClient(app, raise_server_exceptions=False, headers=auth_headers(app)) as client:
        yield app, client


def _string_parameters(operation: Operation) -> list[tuple[dict[str, Any], str]]:
    """(parameter, kind) for each string parameter: `choice` (an enum or a date), `path`
    (an id), or `text` (a free-text filter)."""
    found = []
    for parameter in operation.operation.get("parameters", []):
        schema = parameter["schema"]
        options = schema.get("anyOf", [schema])
        strings = [o for o in options if o.get("type") == "string"]
        arrays = [o["items"] for o in options if o.get("type") == "array"]
        if not strings and not arrays:
            continue
        typed = (strings or arrays)[0]
        if "enum" in typed or "const" in typed or typed.get("format") in ("date", "date-time"):
            kind = "choice"
        elif parameter["in"] == "path":
            kind = "path"
        else:
            kind = "text"
        found.append((parameter, kind))
    return found


def test_every_string_parameter_takes_injection_attempts_harmlessly(
    served: tuple[FastAPI, TestClient],
) -> None:
    app, client = served
    tried = {"choice": 0, "path": 0, "text": 0}
    for operation in operations(app.openapi()):
        for parameter, kind in _string_parameters(operation):
            for payload in PAYLOADS:
                response = _send(client, operation, parameter["name"], parameter["in"], payload)
                where = (operation.id, parameter["name"], payload)
                assert response.status_code < 500, (where, response.text)
                if kind == "choice":
                    assert response.status_code == 422, where
                    assert response.json()["error_type"] == "validation_error"
                elif kind == "path":
                    assert response.status_code == 404, (where, response.text)
                    assert response.json()["error_type"] == "not_found"
                else:
                    assert response.status_code == 200, (where, response.text)
                    body = response.json()
                    assert (body["total"], body["data"]) == (0, []), where
                tried[kind] += 1
    assert tried["text"] >= 10 * len(PAYLOADS), tried
    assert tried["path"] >= 5 * len(PAYLOADS), tried
    assert tried["choice"] >= 25 * len(PAYLOADS), tried
    _assert_intact(app, client)


def test_a_search_matches_literally_not_as_a_pattern(served: tuple[FastAPI, TestClient]) -> None:
    _, client = served
    ada = client.get("/api/v1/customers", params={"search": "LOVELACE"}).json()
    assert [row["customer_id"] for row in ada["data"]] == ["C01"]
    grace = client.get("/api/v1/customers", params={"search": "grace.hopper@"}).json()
    assert [row["customer_id"] for row in grace["data"]] == ["C02"]
    for pattern in ("%", "_", "C0_", "%@example%", ".*", "C0[1-3]"):
        answer = client.get("/api/v1/customers", params={"search": pattern}).json()
        assert answer["total"] == 0, pattern
    either = client.get("/api/v1/customers", params={"search": "ada' OR '1'='1"}).json()
    assert either["total"] == 0


def test_string_fields_of_request_bodies_are_stored_and_compared_as_values(
    served: tuple[FastAPI, TestClient],
) -> None:
    app, client = served
    for number, payload in enumerate(PAYLOADS):
        created = client.post("/admin/keys", json={"name": f"k {payload}", "scopes": ["admin"]})
        assert created.status_code == 201, (payload, created.text)
        assert created.json()["data"]["name"] == clean_name(f"k {payload}")
        login = client.post("/api/auth/login", data={"username": payload, "password": payload})
        assert login.status_code == 401, payload
        login = client.post(
            "/api/auth/login/json", json={"email": f"a{payload}@x.io", "password": payload}
        )
        assert login.status_code == 401, payload
        registered = client.post(
            "/api/auth/register",
            json={"email": "new@example.com", "password": "long enough password",
                  "invite_code": payload},
        )  # fmt: skip
        assert registered.status_code == 403, (payload, registered.text)
        organisation = client.post(
            "/api/auth/register",
            json={"email": f"new{number}@example.com", "password": "long enough password",
                  "organization": payload},
        )  # fmt: skip
        # Open registration: a well-formed new name ("null") is a new organisation.
        expected = 201 if ORG_PATTERN.fullmatch(payload) else 422
        assert organisation.status_code == expected, (payload, organisation.text)
    names = {key.name for key in app.state.credential_store.list_keys()}
    assert "k '; DROP TABLE customer_360; --" in names
    assert "k \ufffd" in names, "a NUL in a name is stored as U+FFFD"
    _assert_intact(app, client)


def _send(client: TestClient, operation: Operation, name: str, location: str, payload: str) -> Any:
    if location == "path":
        url = operation.template
        for other, value in {"customer_id": "C01", "segment_name": "Champions"}.items():
            if other != name:
                url = url.replace("{" + other + "}", value)
        url = url.replace("{" + name + "}", quote(payload, safe=""))
        return client.request(operation.method, url)
    return client.request(operation.method, operation.url, params={name: payload})


def _assert_intact(app: FastAPI, client: TestClient) -> None:
    directory = client.get("/api/v1/customers").json()
    assert directory["total"] == len(CUSTOMERS)
    assert client.get("/api/v1/customers/C01").json()["data"]["profile"]["customer_name"] == (
        "Ada Lovelace"
    )
    assert client.get("/api/auth/me").status_code == 200
    assert app.state.credential_store.list_keys()


def test_a_path_never_comes_from_the_client(tmp_path: Path) -> None:
    """The organisation (the only name that becomes a path) is the credential's: no
    parameter, header or body field names it."""
    app = create_app(make_settings(tmp_path / "data"))
    for operation in operations(app.openapi()):
        names = {parameter["name"] for parameter in operation.operation.get("parameters", [])}
        assert not names & {"org", "organization", "organisation", "path", "file", "dir"}, (
            operation.id
        )
