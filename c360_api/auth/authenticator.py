"""Who a request is: its credential checked (401), its scopes (403), its rate (429).

A credential is an API key (`Authorization: Bearer c360_…` or `X-API-Key: c360_…`) or a
user's access token (`Authorization: Bearer <JWT>`). Every failure is an `ApiError`, answered
with the error envelope; a 401 carries `WWW-Authenticate: Bearer` as RFC 6750 asks.
"""

from __future__ import annotations

from collections.abc import Iterable

import structlog

from c360_api.auth.access_tokens import AccessTokens, InvalidAccessTokenError
from c360_api.auth.rate_limit import SlidingWindowLimiter
from c360_api.auth.scopes import Principal, ordered
from c360_api.auth.secrets_format import KEY_PREFIX
from c360_api.auth.store import CredentialStore
from c360_api.errors import ApiError

log = structlog.get_logger(__name__)

REALM = 'Bearer realm="c360"'
MAX_CREDENTIAL_CHARS = 4096
MISSING_MESSAGE = (
    "a credential is required: send `Authorization: Bearer <API key or access token>` "
    "or `X-API-Key: <API key>`"
)


def unauthorized(message: str, *, invalid: bool = True) -> ApiError:
    """A 401 envelope; `invalid` marks a credential that was sent but is not good."""
    challenge = f'{REALM}, error="invalid_token"' if invalid else REALM
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def forbidden(missing: Iterable[str]) -> ApiError:
    """A 403 envelope naming the scopes the credential lacks."""
    needed = ordered(missing)
    challenge = f'{REALM}, error="insufficient_scope", scope="{" ".join(needed)}"'
    return ApiError(
        403,
        f"this credential lacks the scope(s) {', '.join(needed)} that this route needs",
        details={"required_scopes": needed},
        headers={"WWW-Authenticate": challenge},
    )


def rate_limited(retry_after: int, limit: int, what: str) -> ApiError:
    """A 429 envelope with `Retry-After` (also in the envelope)."""
    return ApiError(
        429,
        f"rate limit of {limit} requests per minute {what} exceeded; retry in {retry_after} s",
        details={"retry_after_seconds": retry_after, "limit_per_minute": limit},
        headers={"Retry-After": str(retry_after)},
    )


class Authenticator:
    """Resolves a request's credential to a principal and applies the per-credential limit."""

    def __init__(
        self,
        store: CredentialStore,
        tokens: AccessTokens,
        limiter: SlidingWindowLimiter,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.limiter = limiter

    def authenticate(self, authorization: str | None, api_key: str | None) -> Principal:
        """The principal of the request's headers, or a 401."""
        bearer = _bearer_token(authorization) if authorization is not None else None
        if authorization is not None and bearer is None:
            raise unauthorized("the Authorization header must read `Bearer <credential>`")
        if bearer is not None and api_key is not None and bearer != api_key.strip():
            raise unauthorized("send one credential: Authorization or X-API-Key, not both")
        presented = bearer if bearer is not None else api_key
        if presented is None:
            raise unauthorized(MISSING_MESSAGE, invalid=False)
        presented = presented.strip()
        if not presented or len(presented) > MAX_CREDENTIAL_CHARS:
            raise unauthorized("the credential is not valid")
        if presented.startswith(KEY_PREFIX) or api_key is not None:
            return self._api_key(presented)
        try:
            return self.tokens.verify(presented)
        except InvalidAccessTokenError as exc:
            raise unauthorized(str(exc)) from None

    def admit(self, principal: Principal) -> None:
        """Count the request against the credential's limit; a 429 when it is used up."""
        retry_after = self.limiter.hit(principal.rate_key)
        if retry_after is not None:
            log.warning("rate_limited", principal=principal.rate_key, org=principal.org)
            raise rate_limited(retry_after, self.limiter.limit, "per credential")

    def _api_key(self, presented: str) -> Principal:
        record = self.store.verify_key(presented)
        if record is None:
            raise unauthorized("the API key is not valid (unknown, malformed or revoked)")
        return Principal(
            kind="api_key", id=record.key_id, name=record.name, org=record.org, scopes=record.scopes
        )


def _bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
