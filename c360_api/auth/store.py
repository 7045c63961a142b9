"""The credential store: organisations, API keys, users and invites in one SQLite file.

SQLite needs no server and keeps working for the CLI and the API at once (WAL mode: readers
never wait for a writer). The file is created readable by its owner only. API keys and invite
codes are kept as SHA-256 digests, passwords as Argon2 hashes; nothing stored lets anyone
call the API. A revoked key fails its very next request: keys are looked up on every request
(an indexed read), never cached.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from c360_api.auth.scopes import format_scopes, parse_scopes
from c360_api.auth.secrets_format import (
    INVITE_PREFIX,
    KEY_PREFIX,
    IssuedSecret,
    matches,
    new_secret,
    split_secret,
)
from c360_pipeline.snapshots import validate_org

SCHEMA_VERSION = 1
MAX_NAME_CHARS = 100

_SCHEMA = """
create table if not exists organizations (
    org text primary key,
    created_at text not null
);
create table if not exists api_keys (
    key_id text primary key,
    org text not null references organizations (org),
    name text not null,
    scopes text not null,
    key_digest blob not null,
    created_at text not null,
    created_by text not null,
    revoked_at text
);
create index if not exists api_keys_by_org on api_keys (org);
create table if not exists users (
    user_id text primary key,
    email text not null unique,
    password_hash text not null,
    org text not null references organizations (org),
    scopes text not null,
    created_at text not null
);
create table if not exists invites (
    invite_id text primary key,
    org text not null references organizations (org),
    scopes text not null,
    code_digest blob not null,
    created_at text not null,
    created_by text not null,
    expires_at text not null,
    used_at text,
    used_by text
);
"""


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


class CredentialError(ValueError):
    """A credential operation that cannot be done (the message says why, for the client)."""


class OrgTakenError(CredentialError):
    """The organisation already exists."""


class EmailTakenError(CredentialError):
    """A user with this email already exists."""


class InvalidInviteError(CredentialError):
    """The invite code is unknown, used or expired."""


@dataclass(frozen=True)
class ApiKeyRecord:
    """An API key as listed: never its secret."""

    key_id: str
    org: str
    name: str
    scopes: frozenset[str]
    created_at: str
    created_by: str
    revoked_at: str | None

    @property
    def is_active(self) -> bool:
        """Not revoked."""
        return self.revoked_at is None

    @property
    def hint(self) -> str:
        """How the key starts (enough to recognise it, useless to use it)."""
        return f"{KEY_PREFIX}{self.key_id}_…"


@dataclass(frozen=True)
class UserRecord:
    """A user, without the password hash."""

    user_id: str
    email: str
    org: str
    scopes: frozenset[str]
    created_at: str


@dataclass(frozen=True)
class InviteRecord:
    """An invite to join an organisation with some scopes."""

    invite_id: str
    org: str
    scopes: frozenset[str]
    created_at: str
    created_by: str
    expires_at: str
    used_at: str | None


@dataclass(frozen=True)
class NewApiKey:
    """A key just created: the record, and the key itself (shown once, never stored)."""

    record: ApiKeyRecord
    key: str


@dataclass(frozen=True)
class NewInvite:
    """An invite just created: the record, and the code itself (shown once, never stored)."""

    record: InviteRecord
    code: str


class CredentialStore:
    """Organisations, API keys, users and invites in SQLite (one connection per thread)."""

    def __init__(self, path: Path, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.path = path
        self._clock = clock
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[sqlite3.Connection] = []
        path.parent.mkdir(parents=True, exist_ok=True)
        # Created owner-only before SQLite opens it (its -wal and -shm files copy the mode).
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
        connection = self._connection()
        version = connection.execute("pragma user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise CredentialError(
                f"{path} was written by a newer version (schema {version} > {SCHEMA_VERSION})"
            )
        # One script, one transaction (executescript commits whatever was open first).
        connection.executescript(
            f"begin immediate; {_SCHEMA} pragma user_version = {SCHEMA_VERSION}; commit;"
        )

    def close(self) -> None:
        """Close every thread's connection."""
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    # Organisations

    def ensure_org(self, org: str) -> None:
        """Record the organisation if it is not recorded yet (its name must be valid)."""
        validate_org(org)
        with self._write() as connection:
            self._insert_org(connection, org, exists_ok=True)

    def org_exists(self, org: str) -> bool:
        """Whether the organisation is recorded."""
        row = self._read("select 1 from organizations where org = ?", (org,)).fetchone()
        return row is not None

    def orgs(self) -> list[str]:
        """Every recorded organisation."""
        return [row[0] for row in self._read("select org from organizations order by org")]

    # API keys

    def create_key(
        self,
        org: str,
        scopes: Iterable[str],
        *,
        name: str,
        created_by: str = "cli",
        replace: bool = False,
    ) -> NewApiKey:
        """A new key for `org` (recorded if new); with `replace`, the organisation's active keys
        of the same name are revoked in the same transaction (one active key per name)."""
        validate_org(org)
        name = clean_name(name)
        held = parse_scopes(scopes)
        issued = new_secret(KEY_PREFIX)
        now = _iso(self._clock())
        with self._write() as connection:
            self._insert_org(connection, org, exists_ok=True)
            if replace:
                connection.execute(
                    "update api_keys set revoked_at = ? "
                    "where org = ? and name = ? and revoked_at is null",
                    (now, org, name),
                )
            connection.execute(
                "insert into api_keys (key_id, org, name, scopes, key_digest, created_at, "
                "created_by) values (?, ?, ?, ?, ?, ?, ?)",
                (issued.id, org, name, format_scopes(held), issued.digest, now, created_by),
            )
        record = ApiKeyRecord(issued.id, org, name, held, now, created_by, None)
        return NewApiKey(record, issued.secret)

    def list_keys(
        self, org: str | None = None, *, include_revoked: bool = False
    ) -> list[ApiKeyRecord]:
        """Keys (of one organisation, or all), oldest first; revoked ones only when asked."""
        sql = (
            "select key_id, org, name, scopes, created_at, created_by, revoked_at from api_keys "
            "where (? is null or org = ?) and (? or revoked_at is null) "
            "order by created_at, rowid"
        )
        rows = self._read(sql, (org, org, include_revoked))
        return [_key_record(row) for row in rows]

    def revoke_key(self, key_id: str, *, org: str | None = None) -> ApiKeyRecord | None:
        """Revoke a key (within `org` when given); None when there is no such key. Revoking a
        revoked key keeps its first revocation time."""
        with self._write() as connection:
            connection.execute(
                "update api_keys set revoked_at = ? "
                "where key_id = ? and (? is null or org = ?) and revoked_at is null",
                (_iso(self._clock()), key_id, org, org),
            )
            row = connection.execute(
                "select key_id, org, name, scopes, created_at, created_by, revoked_at "
                "from api_keys where key_id = ? and (? is null or org = ?)",
                (key_id, org, org),
            ).fetchone()
        return _key_record(row) if row is not None else None

    def verify_key(self, presented: str) -> ApiKeyRecord | None:
        """The active key `presented` is, or None (malformed, unknown, wrong or revoked)."""
        key_id = split_secret(presented, KEY_PREFIX)
        if key_id is None:
            return None
        row = self._read(
            "select key_id, org, name, scopes, created_at, created_by, revoked_at, key_digest "
            "from api_keys where key_id = ?",
            (key_id,),
        ).fetchone()
        if row is None or not matches(presented, row[7]) or row[6] is not None:
            return None
        return _key_record(row[:7])

    # Users

    def create_org_with_owner(self, org: str, email: str, password_hash: str) -> UserRecord:
        """A new organisation and its first user, who holds every scope in it."""
        validate_org(org)
        with self._write() as connection:
            self._insert_org(connection, org, exists_ok=False)
            return self._insert_user(connection, email, password_hash, org, parse_scopes("all"))

    def invite_is_valid(self, code: str) -> bool:
        """Whether `code` is a known, unused, unexpired invite (a cheap check before hashing a
        password; `register_with_invite` checks again, atomically)."""
        return self._valid_invite(self._connection(), code) is not None

    def register_with_invite(self, code: str, email: str, password_hash: str) -> UserRecord:
        """A new user in the invite's organisation with its scopes; the invite is used up."""
        with self._write() as connection:
            invite = self._valid_invite(connection, code)
            if invite is None:
                raise InvalidInviteError("the invite code is unknown, used or expired")
            invite_id, org, scopes = invite
            user = self._insert_user(connection, email, password_hash, org, scopes)
            connection.execute(
                "update invites set used_at = ?, used_by = ? where invite_id = ?",
                (_iso(self._clock()), user.user_id, invite_id),
            )
            return user

    def _valid_invite(
        self, connection: sqlite3.Connection, code: str
    ) -> tuple[str, str, frozenset[str]] | None:
        """(invite id, org, scopes) of a valid invite code, else None."""
        invite_id = split_secret(code, INVITE_PREFIX)
        if invite_id is None:
            return None
        row = connection.execute(
            "select org, scopes, code_digest, expires_at, used_at from invites where invite_id = ?",
            (invite_id,),
        ).fetchone()
        if (
            row is None
            or not matches(code, row[2])
            or row[4] is not None
            or datetime.fromisoformat(row[3]) <= self._clock()
        ):
            return None
        return invite_id, row[0], parse_scopes(row[1])

    def find_user(self, email: str) -> tuple[UserRecord, str] | None:
        """The user with this email and their password hash, or None."""
        row = self._read(
            "select user_id, email, org, scopes, created_at, password_hash from users "
            "where email = ?",
            (normalise_email(email),),
        ).fetchone()
        return (_user_record(row[:5]), row[5]) if row is not None else None

    def get_user(self, user_id: str) -> UserRecord | None:
        """The user with this id, or None."""
        row = self._read(
            "select user_id, email, org, scopes, created_at from users where user_id = ?",
            (user_id,),
        ).fetchone()
        return _user_record(row) if row is not None else None

    def set_password_hash(self, user_id: str, password_hash: str) -> None:
        """Replace a user's password hash (a rehash with current parameters)."""
        with self._write() as connection:
            connection.execute(
                "update users set password_hash = ? where user_id = ?", (password_hash, user_id)
            )

    # Invites

    def create_invite(
        self, org: str, scopes: Iterable[str], *, ttl: timedelta, created_by: str = "cli"
    ) -> NewInvite:
        """A single-use code that lets one person register into `org` with `scopes`."""
        validate_org(org)
        held = parse_scopes(scopes)
        issued: IssuedSecret = new_secret(INVITE_PREFIX)
        now = self._clock()
        expires = now + ttl
        with self._write() as connection:
            self._insert_org(connection, org, exists_ok=True)
            connection.execute(
                "insert into invites (invite_id, org, scopes, code_digest, created_at, "
                "created_by, expires_at) values (?, ?, ?, ?, ?, ?, ?)",
                (
                    issued.id,
                    org,
                    format_scopes(held),
                    issued.digest,
                    _iso(now),
                    created_by,
                    _iso(expires),
                ),
            )
        record = InviteRecord(issued.id, org, held, _iso(now), created_by, _iso(expires), None)
        return NewInvite(record, issued.secret)

    # Plumbing

    def _connection(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            # Autocommit mode: writes open their own `begin immediate` transaction. Each thread
            # uses its own connection; close() may close them from another thread.
            connection = sqlite3.connect(
                self.path, timeout=10, isolation_level=None, check_same_thread=False
            )
            connection.execute("pragma journal_mode = wal")
            connection.execute("pragma foreign_keys = on")
            connection.execute("pragma busy_timeout = 10000")
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _read(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        return self._connection().execute(sql, parameters)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("begin immediate")
        try:
            yield connection
        except BaseException:
            connection.execute("rollback")
            raise
        connection.execute("commit")

    def _insert_org(self, connection: sqlite3.Connection, org: str, *, exists_ok: bool) -> None:
        inserted = connection.execute(
            "insert into organizations (org, created_at) values (?, ?) on conflict do nothing",
            (org, _iso(self._clock())),
        ).rowcount
        if not inserted and not exists_ok:
            raise OrgTakenError(f"organisation {org!r} already exists")

    def _insert_user(
        self,
        connection: sqlite3.Connection,
        email: str,
        password_hash: str,
        org: str,
        scopes: frozenset[str],
    ) -> UserRecord:
        user = UserRecord(
            user_id=uuid.uuid4().hex,
            email=normalise_email(email),
            org=org,
            scopes=scopes,
            created_at=_iso(self._clock()),
        )
        try:
            connection.execute(
                "insert into users (user_id, email, password_hash, org, scopes, created_at) "
                "values (?, ?, ?, ?, ?, ?)",
                (user.user_id, user.email, password_hash, org, format_scopes(scopes),
                 user.created_at),
            )  # fmt: skip
        except sqlite3.IntegrityError as exc:
            raise EmailTakenError(f"a user with email {user.email!r} already exists") from exc
        return user


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively, without surrounding spaces."""
    return email.strip().lower()


def clean_name(name: str) -> str:
    """A key's name as stored and shown: a label, so any text is accepted; runs of whitespace
    become one space, other unprintable characters U+FFFD, an empty name `unnamed`."""
    collapsed = " ".join(name.split())
    cleaned = "".join(char if char.isprintable() else "\ufffd" for char in collapsed)
    if len(cleaned) > MAX_NAME_CHARS:
        raise CredentialError(f"a key name is at most {MAX_NAME_CHARS} characters")
    return cleaned or "unnamed"


def _key_record(row: tuple[object, ...]) -> ApiKeyRecord:
    key_id, org, name, scopes, created_at, created_by, revoked_at = row
    return ApiKeyRecord(
        key_id=str(key_id),
        org=str(org),
        name=str(name),
        scopes=parse_scopes(str(scopes)),
        created_at=str(created_at),
        created_by=str(created_by),
        revoked_at=str(revoked_at) if revoked_at is not None else None,
    )


def _user_record(row: tuple[object, ...]) -> UserRecord:
    user_id, email, org, scopes, created_at = row
    return UserRecord(
        str(user_id), str(email), str(org), parse_scopes(str(scopes)), str(created_at)
    )
