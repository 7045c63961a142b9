"""Password hashing with Argon2id (argon2-cffi), and a fixed-cost check for unknown accounts."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


class Passwords:
    """Hashes and verifies passwords; verifying for an unknown account costs the same as for a
    known one, so response times do not tell which emails have accounts."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy_hash: str | None = None  # made on first use: it costs one hash

    def hash(self, password: str) -> str:
        """An Argon2id hash of `password` (salt and parameters inside)."""
        return self._hasher.hash(password)

    def verify(self, stored_hash: str | None, password: str) -> bool:
        """Whether `password` matches `stored_hash`; None (no such account) never matches."""
        if self._dummy_hash is None:
            self._dummy_hash = self._hasher.hash("c360 dummy password, never matches")
        try:
            self._hasher.verify(stored_hash or self._dummy_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return stored_hash is not None

    def needs_rehash(self, stored_hash: str) -> bool:
        """Whether the hash was made with weaker parameters than the current ones."""
        return self._hasher.check_needs_rehash(stored_hash)
