"""Password hashing: Argon2id with argon2-cffi's parameters, salted, verified, upgraded."""

from __future__ import annotations

from argon2 import PasswordHasher

from c360_api.auth.passwords import Passwords


def test_passwords_are_salted_argon2id_hashes_that_verify() -> None:
    passwords = Passwords()
    first, second = passwords.hash("correct horse battery"), passwords.hash("correct horse battery")
    assert first.startswith("$argon2id$")
    assert first != second, "a new salt every time"
    assert "correct horse" not in first
    assert passwords.verify(first, "correct horse battery")
    assert not passwords.verify(first, "correct horse batterY")
    assert not passwords.verify("not a hash", "correct horse battery")
    assert not passwords.verify(None, "correct horse battery"), "no account never matches"
    assert not passwords.needs_rehash(first)


def test_a_hash_made_with_weaker_parameters_needs_a_rehash() -> None:
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    assert Passwords().needs_rehash(weak.hash("correct horse battery"))
