"""The scopes a credential can hold, and who a request is (its principal)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

SCOPES: dict[str, str] = {
    "marketing": "Marketing queries (/marketing).",
    "product": "Product queries (/product).",
    "finance": "Finance queries (/finance).",
    "customer_success": "Customer-success queries (/customer-success).",
    "analyst": "Customer directory, analytics, scoring, models (/analytics, /api/v1, /models).",
    "admin": "Refreshes, jobs, metrics, API keys and invites (/admin, /metrics).",
}
"""Every scope, with what it grants (shown in the OpenAPI docs)."""

ALL_SCOPES = frozenset(SCOPES)

CredentialKind = Literal["api_key", "user"]


class InvalidScopesError(ValueError):
    """A scope list that names an unknown scope, or none."""


def parse_scopes(scopes: str | Iterable[str]) -> frozenset[str]:
    """Scopes from `a,b` (or `a b`, or a list); `all` means every scope. Raises on an unknown
    or empty list."""
    items = scopes.replace(",", " ").split() if isinstance(scopes, str) else list(scopes)
    names = {item.strip() for item in items if item.strip()}
    if "all" in names:
        return ALL_SCOPES
    unknown = sorted(names - ALL_SCOPES)
    if unknown:
        raise InvalidScopesError(
            f"unknown scope(s) {', '.join(unknown)}; use {', '.join(SCOPES)} or all"
        )
    if not names:
        raise InvalidScopesError(f"name at least one scope: {', '.join(SCOPES)} or all")
    return frozenset(names)


def format_scopes(scopes: Iterable[str]) -> str:
    """Scopes in their documented order, comma-separated (how they are stored and shown)."""
    held = set(scopes)
    return ",".join(scope for scope in SCOPES if scope in held)


def ordered(scopes: Iterable[str]) -> list[str]:
    """Scopes as a list in their documented order."""
    text = format_scopes(scopes)
    return text.split(",") if text else []


@dataclass(frozen=True)
class Principal:
    """Who is calling: an API key or a user, the one organisation it belongs to, its scopes."""

    kind: CredentialKind
    id: str
    """The key id or the user id."""
    name: str
    """The key's name or the user's email."""
    org: str
    scopes: frozenset[str]

    @property
    def rate_key(self) -> str:
        """What the rate limiter counts requests under."""
        return f"{self.kind}:{self.id}"
