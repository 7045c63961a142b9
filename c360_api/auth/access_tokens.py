"""Users' access tokens: short-lived HS256 JWTs (PyJWT) naming the user, organisation and scopes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from c360_api.auth.scopes import ALL_SCOPES, Principal, ordered
from c360_api.auth.store import UserRecord
from c360_pipeline.snapshots import InvalidOrgError, validate_org

ALGORITHM = "HS256"
ISSUER = "c360"
AUDIENCE = "c360-api"
REQUIRED_CLAIMS = ["exp", "iat", "iss", "aud", "sub", "org", "scopes"]


class InvalidAccessTokenError(ValueError):
    """A token that is malformed, forged, expired or not for this API."""


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AccessTokens:
    """Issues and verifies access tokens signed with the deployment's secret."""

    def __init__(
        self,
        secret: str,
        lifetime: timedelta,
        *,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self._secret = secret
        self.lifetime = lifetime
        self._clock = clock

    def issue(self, user: UserRecord) -> str:
        """A token for `user`, valid for the configured lifetime."""
        now = self._clock()
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": user.user_id,
            "email": user.email,
            "org": user.org,
            "scopes": ordered(user.scopes),
            "iat": now,
            "exp": now + self.lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        """The principal a valid token names; InvalidAccessTokenError for any other token."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": REQUIRED_CLAIMS},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidAccessTokenError("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidAccessTokenError("the access token is not valid") from exc
        subject, org, scopes = claims["sub"], claims["org"], claims["scopes"]
        try:
            if not isinstance(subject, str) or not isinstance(org, str):
                raise TypeError("sub and org must be strings")
            validate_org(org)
            if not isinstance(scopes, list) or not set(scopes) <= ALL_SCOPES:
                raise TypeError("scopes must be a list of known scopes")
        except (TypeError, InvalidOrgError) as exc:
            raise InvalidAccessTokenError("the access token is not valid") from exc
        return Principal(
            kind="user",
            id=subject,
            name=str(claims.get("email", "")),
            org=org,
            scopes=frozenset(scopes),
        )
