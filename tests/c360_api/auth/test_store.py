"""The SQLite credential store: keys kept as digests, revocation, users, invites."""

from __future__ import annotations

import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from c360_api.auth.scopes import ALL_SCOPES, InvalidScopesError
from c360_api.auth.store import (
    CredentialError,
    CredentialStore,
    EmailTakenError,
    InvalidInviteError,
    OrgTakenError,
)
from c360_pipeline.snapshots import InvalidOrgError


class Clock:
    """A UTC clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> CredentialStore:
    return CredentialStore(tmp_path / "data" / "auth.sqlite3")


def test_a_key_is_stored_only_as_a_digest_in_an_owner_only_file(
    store: CredentialStore, tmp_path: Path
) -> None:
    created = store.create_key("acme", {"marketing", "finance"}, name="Looker")
    record = created.record
    assert created.key.startswith(f"c360_{record.key_id}_")
    assert (record.org, record.name, record.scopes) == ("acme", "Looker", {"marketing", "finance"})
    store.close()
    files = list((tmp_path / "data").iterdir())
    secret = created.key.split("_", 2)[2].encode()
    for path in files:
        assert created.key.encode() not in path.read_bytes(), path
        assert secret not in path.read_bytes(), path
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600


def test_a_key_verifies_until_it_is_revoked(store: CredentialStore) -> None:
    created = store.create_key("acme", ["analyst"], name="cron")
    verified = store.verify_key(created.key)
    assert verified is not None
    assert verified.key_id == created.record.key_id
    assert store.verify_key(created.key[:-1] + ("A" if created.key[-1] != "A" else "B")) is None
    assert store.verify_key("c360_" + created.record.key_id + "_" + "A" * 43) is None
    revoked = store.revoke_key(created.record.key_id)
    assert revoked is not None
    assert revoked.revoked_at is not None
    assert store.verify_key(created.key) is None
    again = store.revoke_key(created.record.key_id)
    assert again is not None
    assert again.revoked_at == revoked.revoked_at


def test_revoking_within_an_organisation_cannot_touch_another(store: CredentialStore) -> None:
    theirs = store.create_key("globex", ["admin"], name="ops")
    assert store.revoke_key(theirs.record.key_id, org="acme") is None
    assert store.verify_key(theirs.key) is not None
    assert store.revoke_key("0123456789ab") is None


def test_listing_shows_no_secret_and_replace_keeps_one_active_key_per_name(
    store: CredentialStore,
) -> None:
    first = store.create_key("acme", "all", name="demo-admin")
    second = store.create_key("acme", "all", name="demo-admin", replace=True)
    store.create_key("globex", ["finance"], name="demo-admin")
    active = store.list_keys("acme")
    assert [key.key_id for key in active] == [second.record.key_id]
    assert active[0].scopes == ALL_SCOPES
    every = store.list_keys("acme", include_revoked=True)
    assert [key.key_id for key in every] == [first.record.key_id, second.record.key_id]
    assert store.verify_key(first.key) is None
    assert {key.org for key in store.list_keys()} == {"acme", "globex"}
    assert all(not hasattr(key, "key") for key in every)
    assert active[0].hint == f"c360_{second.record.key_id}_…"


def test_bad_organisations_scopes_and_names_are_refused(store: CredentialStore) -> None:
    with pytest.raises(InvalidOrgError):
        store.create_key("../etc", ["admin"], name="x")
    with pytest.raises(InvalidScopesError, match="unknown scope"):
        store.create_key("acme", ["root"], name="x")
    with pytest.raises(InvalidScopesError, match="at least one"):
        store.create_key("acme", [], name="x")
    with pytest.raises(CredentialError, match="at most 100"):
        store.create_key("acme", ["admin"], name="x" * 101)
    assert store.list_keys(include_revoked=True) == []


def test_a_key_name_is_a_label_kept_printable(store: CredentialStore) -> None:
    names = {
        "  Looker \t prod\n": "Looker prod",
        "  ": "unnamed",
        "bell\x07 and null\x00": "bell\ufffd and null\ufffd",
        "ok 💩": "ok 💩",
    }
    for given, kept in names.items():
        assert store.create_key("acme", ["admin"], name=given).record.name == kept
    assert [key.name for key in store.list_keys("acme")] == list(names.values())


def test_an_invite_registers_one_user_into_its_organisation_before_it_expires(
    tmp_path: Path,
) -> None:
    clock = Clock()
    store = CredentialStore(tmp_path / "auth.sqlite3", clock=clock)
    invite = store.create_invite("acme", ["marketing"], ttl=timedelta(hours=2))
    user = store.register_with_invite(invite.code, "Ada@Example.com ", "hash-1")
    assert (user.email, user.org, user.scopes) == ("ada@example.com", "acme", {"marketing"})
    with pytest.raises(InvalidInviteError):
        store.register_with_invite(invite.code, "grace@example.com", "hash-2")
    late = store.create_invite("acme", ["finance"], ttl=timedelta(hours=2))
    clock.now += timedelta(hours=2)
    with pytest.raises(InvalidInviteError):
        store.register_with_invite(late.code, "grace@example.com", "hash-2")
    for code in ("", "c360i_nope", late.code[:-1] + "x"):
        with pytest.raises(InvalidInviteError):
            store.register_with_invite(code, "grace@example.com", "hash-2")
    found = store.find_user("ADA@example.com")
    assert found is not None
    assert found[0] == user
    assert found[1] == "hash-1"


def test_a_new_organisation_gets_an_owner_and_cannot_be_taken_twice(
    store: CredentialStore,
) -> None:
    owner = store.create_org_with_owner("initech", "bill@initech.test", "hash")
    assert (owner.org, owner.scopes) == ("initech", ALL_SCOPES)
    with pytest.raises(OrgTakenError):
        store.create_org_with_owner("initech", "peter@initech.test", "hash")
    store.create_key("acme", ["admin"], name="x")
    with pytest.raises(OrgTakenError):
        store.create_org_with_owner("acme", "mallory@evil.test", "hash")
    with pytest.raises(EmailTakenError):
        store.create_org_with_owner("other", "BILL@initech.test", "hash")
    assert not store.org_exists("other"), "a failed registration leaves nothing behind"
    assert store.orgs() == ["acme", "initech"]


def test_the_store_serves_many_threads_at_once(store: CredentialStore) -> None:
    keys = [store.create_key("acme", ["analyst"], name=f"k{n}").key for n in range(5)]
    errors: list[BaseException] = []

    def verify() -> None:
        try:
            for _ in range(50):
                for key in keys:
                    assert store.verify_key(key) is not None
        except AssertionError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=verify) for _ in range(4)]
    for thread in threads:
        thread.start()
    store.create_key("acme", ["analyst"], name="while reading")
    for thread in threads:
        thread.join()
    assert errors == []
    store.close()
