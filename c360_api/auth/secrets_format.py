"""API keys and invite codes: high-entropy random secrets with a recognisable prefix.

An API key reads `c360_<key id>_<secret>`: the prefix tells it from an access token (and
lets secret scanners find leaked keys), the key id is the short public name shown in
listings, the secret is 32 random bytes. Only the SHA-256 of the whole key is stored; with
256 random bits a fast hash is enough (there is nothing to guess), and hashes are compared in
constant time. Invite codes have the same shape with the prefix `c360i_`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

KEY_PREFIX = "c360_"
INVITE_PREFIX = "c360i_"
ID_BYTES = 6  # 12 hex digits
SECRET_BYTES = 32
_ID = re.compile(r"[0-9a-f]{12}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{43}")


@dataclass(frozen=True)
class IssuedSecret:
    """A new key or invite code: its public id and the whole secret (shown once)."""

    id: str
    secret: str

    @property
    def digest(self) -> bytes:
        """What the store keeps."""
        return digest(self.secret)


def new_secret(prefix: str) -> IssuedSecret:
    """A fresh `<prefix><id>_<secret>`."""
    public_id = secrets.token_hex(ID_BYTES)
    return IssuedSecret(public_id, f"{prefix}{public_id}_{secrets.token_urlsafe(SECRET_BYTES)}")


def split_secret(presented: str, prefix: str) -> str | None:
    """The id of a well-formed `<prefix><id>_<secret>`, None for anything else."""
    if not presented.startswith(prefix):
        return None
    public_id, separator, secret = presented[len(prefix) :].partition("_")
    if not separator or not _ID.fullmatch(public_id) or not _SECRET.fullmatch(secret):
        return None
    return public_id


def digest(secret: str) -> bytes:
    """SHA-256 of a key or code."""
    return hashlib.sha256(secret.encode()).digest()


def matches(secret: str, stored_digest: bytes) -> bool:
    """Whether `secret` hashes to `stored_digest` (compared in constant time)."""
    return hmac.compare_digest(digest(secret), stored_digest)
