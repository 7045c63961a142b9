"""`c360-api keys` and `c360-api invites`: the key shown once, listings without secrets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from c360_api.auth.store import CredentialStore
from c360_api.cli import main
from c360_api.settings import get_settings


@pytest.fixture
def store_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The CLI's credential store, under a temporary data directory."""
    monkeypatch.setenv("C360_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("C360_AUTH_DB", raising=False)
    get_settings.cache_clear()
    yield tmp_path / "data" / "auth.sqlite3"
    get_settings.cache_clear()


def test_keys_create_prints_the_key_once_and_list_never_shows_it(
    store_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["keys", "create", "--org", "acme", "--scopes", "marketing,finance",
                 "--name", "Looker"])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0
    key = out.strip()
    assert key.startswith("c360_")
    assert "\n" not in key
    assert "shown once" in err
    assert "marketing,finance" in err
    store = CredentialStore(store_path)
    record = store.verify_key(key)
    assert record is not None
    assert (record.org, record.name, record.scopes) == ("acme", "Looker", {"marketing", "finance"})

    assert main(["keys", "list"]) == 0
    table = capsys.readouterr().out
    assert record.key_id in table
    assert "Looker" in table
    assert "acme" in table
    assert key not in table
    assert key.split("_", 2)[2] not in table
    assert main(["keys", "list", "--json", "--org", "acme"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["scopes"] == ["marketing", "finance"]
    assert "key" not in json.loads(line)

    assert main(["keys", "revoke", record.key_id, "--org", "globex"]) == 1, "not globex's key"
    assert "no API key" in capsys.readouterr().err
    assert store.verify_key(key) is not None
    assert main(["keys", "revoke", record.key_id]) == 0
    assert f"revoked API key {record.key_id}" in capsys.readouterr().out
    assert store.verify_key(key) is None
    assert main(["keys", "list"]) == 0
    assert record.key_id not in capsys.readouterr().out
    assert main(["keys", "list", "--all"]) == 0
    assert record.key_id in capsys.readouterr().out
    store.close()


def test_replace_rotates_the_demo_key(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    command = ["keys", "create", "--org", "demo", "--scopes", "all", "--name", "demo-admin",
               "--replace"]  # fmt: skip
    assert main(command) == 0
    first = capsys.readouterr().out.strip()
    assert main(command) == 0
    second = capsys.readouterr().out.strip()
    store = CredentialStore(store_path)
    assert store.verify_key(first) is None
    active = store.verify_key(second)
    assert active is not None
    assert len(active.scopes) == 6
    assert [key.key_id for key in store.list_keys("demo")] == [active.key_id]
    store.close()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["keys", "create", "--org", "acme", "--scopes", "root"], "unknown scope"),
        (["keys", "create", "--org", "../etc", "--scopes", "admin"], "invalid organisation"),
        (["invites", "create", "--org", "acme", "--scopes", "admin", "--ttl-hours", "0"],
         "must be positive"),
    ],
)  # fmt: skip
def test_bad_arguments_exit_2_with_a_reason(
    store_path: Path, capsys: pytest.CaptureFixture[str], arguments: list[str], message: str
) -> None:
    assert main(arguments) == 2
    assert message in capsys.readouterr().err


def test_invites_create_prints_a_code(store_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invites", "create", "--org", "acme", "--scopes", "analyst"]) == 0
    out, err = capsys.readouterr()
    assert out.strip().startswith("c360i_")
    assert "POST /api/auth/register" in err
    store = CredentialStore(store_path)
    user = store.register_with_invite(out.strip(), "ada@example.com", "hash")
    assert (user.org, user.scopes) == ("acme", {"analyst"})
    store.close()
