"""API keys and invite codes: prefix, short id, 256-bit secret, digest comparison."""

from __future__ import annotations

from c360_api.auth.secrets_format import (
    INVITE_PREFIX,
    KEY_PREFIX,
    digest,
    matches,
    new_secret,
    split_secret,
)


def test_a_key_has_a_prefix_a_short_id_and_a_long_random_secret() -> None:
    issued = new_secret(KEY_PREFIX)
    assert issued.secret.startswith(f"c360_{issued.id}_")
    assert len(issued.id) == 12
    assert len(issued.secret) == len("c360_") + 12 + 1 + 43
    assert split_secret(issued.secret, KEY_PREFIX) == issued.id
    assert issued.secret != new_secret(KEY_PREFIX).secret
    assert matches(issued.secret, issued.digest)
    assert not matches(issued.secret[:-1] + "x", issued.digest)
    assert digest(issued.secret) == issued.digest
    assert len(issued.digest) == 32


def test_malformed_secrets_have_no_id() -> None:
    good = new_secret(KEY_PREFIX).secret
    for bad in ("", "c360_", good[:-1], good + "x", good.replace("c360_", "c360i_"),
                "c360_0123456789AB_" + "a" * 43, "c360_0123456789ab-" + "a" * 43,
                "c360_0123456789ab_" + "a" * 42 + "!"):  # fmt: skip
        assert split_secret(bad, KEY_PREFIX) is None, bad
    invite = new_secret(INVITE_PREFIX)
    assert split_secret(invite.secret, INVITE_PREFIX) == invite.id
    assert split_secret(invite.secret, KEY_PREFIX) is None
