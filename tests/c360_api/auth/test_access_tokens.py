"""Access tokens: HS256 JWTs with org and scopes; expired, forged or altered ones are refused."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest

from c360_api.auth.access_tokens import AccessTokens, InvalidAccessTokenError
from c360_api.auth.store import UserRecord

SECRET = "a-test-secret-that-is-long-enough-for-hs256-0123456789"
USER = UserRecord("u1", "ada@example.com", "acme", frozenset({"marketing", "analyst"}), "2026")


def test_a_token_names_the_user_org_and_scopes_and_expires_as_configured() -> None:
    issued_at = datetime(2026, 1, 1, tzinfo=UTC)
    tokens = AccessTokens(SECRET, timedelta(minutes=15), clock=lambda: datetime.now(UTC))
    principal = tokens.verify(tokens.issue(USER))
    assert (principal.kind, principal.id, principal.name) == ("user", "u1", "ada@example.com")
    assert (principal.org, principal.scopes) == ("acme", frozenset({"marketing", "analyst"}))
    claims = jwt.decode(
        AccessTokens(SECRET, timedelta(minutes=15), clock=lambda: issued_at).issue(USER),
        SECRET,
        algorithms=["HS256"],
        audience="c360-api",
        options={"verify_exp": False},
    )
    assert claims["exp"] - claims["iat"] == 15 * 60
    assert claims["scopes"] == ["marketing", "analyst"]
    assert jwt.get_unverified_header(tokens.issue(USER))["alg"] == "HS256"


def test_an_expired_token_is_refused() -> None:
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    old = AccessTokens(SECRET, timedelta(minutes=15), clock=lambda: an_hour_ago).issue(USER)
    with pytest.raises(InvalidAccessTokenError, match="expired"):
        AccessTokens(SECRET, timedelta(minutes=15)).verify(old)


def test_forged_altered_and_unsigned_tokens_are_refused() -> None:
    tokens = AccessTokens(SECRET, timedelta(minutes=15))
    forged = AccessTokens("another-secret-" + SECRET, timedelta(minutes=15)).issue(USER)
    header, payload, signature = tokens.issue(USER).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["org"] = "globex"
    altered = ".".join(
        (
            header,
            base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("="),
            signature,
        )
    )
    unsigned = jwt.encode({**claims, "org": "acme"}, key=None, algorithm="none")
    other_audience = jwt.encode({**claims, "aud": "someone-else"}, SECRET, algorithm="HS256")
    unknown_scope = jwt.encode({**claims, "scopes": ["root"]}, SECRET, algorithm="HS256")
    bad_org = jwt.encode({**claims, "org": "../etc"}, SECRET, algorithm="HS256")
    no_org = jwt.encode({k: v for k, v in claims.items() if k != "org"}, SECRET, algorithm="HS256")
    for token in (forged, altered, unsigned, other_audience, unknown_scope, bad_org, no_org, "x"):
        with pytest.raises(InvalidAccessTokenError):
            tokens.verify(token)
