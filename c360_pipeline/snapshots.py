"""Snapshot layout, atomic publishing, the per-organisation run lock, retention and rollback.

Layout: `<data_dir>/orgs/<org>/` holds `raw/`, `snapshots/<snapshot_id>/` (tables,
`_quarantine/`, `manifest.json`), `CURRENT` (the published id), `runs/` and `.lock`.
Functions that change `CURRENT` or delete snapshots expect the caller to hold `RunLock`.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import structlog

log = structlog.get_logger(__name__)

ORG_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
SNAPSHOT_ID_PATTERN = re.compile(r"\d{8}T\d{6}Z-[0-9a-f]{6}")
MANIFEST_FILE = "manifest.json"
REQUIRED_MANIFEST_KEYS = ("snapshot_id", "org", "as_of", "created_at", "status")

# Manifest statuses: the pipeline writes COMPLETE (checked) or FAILED; publish sets PUBLISHED.
STATUS_COMPLETE = "complete"
STATUS_PUBLISHED = "published"
STATUS_FAILED = "failed"
STATUS_INCOMPLETE = "incomplete"  # reported for a directory without a readable manifest


class InvalidOrgError(ValueError):
    """An organisation name that is not a safe directory name."""


class InvalidSnapshotIdError(ValueError):
    """A snapshot id that is not of the form `YYYYMMDDTHHMMSSZ-xxxxxx`."""


class SnapshotError(RuntimeError):
    """A snapshot cannot be published or removed."""


class RollbackError(SnapshotError):
    """There is no snapshot to roll back to."""


class LockHeldError(RuntimeError):
    """Another process holds the organisation's run lock."""

    def __init__(self, org: str, pid: int | None, since: str | None) -> None:
        self.org = org
        self.pid = pid
        self.since = since
        holder = f"pid {pid}" if pid is not None else "another process"
        when = f" since {since}" if since else ""
        super().__init__(f"organisation {org!r} is being processed by {holder}{when}")


@dataclass(frozen=True)
class SnapshotInfo:
    """One snapshot directory as seen by `list_snapshots`."""

    snapshot_id: str
    path: Path
    as_of: str | None
    created_at: datetime | None
    is_current: bool
    status: str


def validate_org(org: str) -> str:
    """Return `org` if it is a safe organisation name, else raise InvalidOrgError."""
    if not isinstance(org, str) or not ORG_PATTERN.fullmatch(org):
        raise InvalidOrgError(
            f"invalid organisation name {org!r}: use 1-63 characters a-z, 0-9, '_' or '-', "
            "starting with a letter or digit"
        )
    return org


def validate_snapshot_id(snapshot_id: str) -> str:
    """Return `snapshot_id` if it is a well-formed id, else raise InvalidSnapshotIdError."""
    if not isinstance(snapshot_id, str) or not SNAPSHOT_ID_PATTERN.fullmatch(snapshot_id):
        raise InvalidSnapshotIdError(
            f"invalid snapshot id {snapshot_id!r}: expected YYYYMMDDTHHMMSSZ-xxxxxx (6 hex digits)"
        )
    return snapshot_id


def org_root(data_dir: Path, org: str) -> Path:
    """An organisation's area: `<data_dir>/orgs/<org>`."""
    return Path(data_dir) / "orgs" / validate_org(org)


def snapshots_root(data_dir: Path, org: str) -> Path:
    """The directory holding an organisation's snapshots."""
    return org_root(data_dir, org) / "snapshots"


def snapshot_dir(data_dir: Path, org: str, snapshot_id: str) -> Path:
    """The directory of one snapshot."""
    return snapshots_root(data_dir, org) / validate_snapshot_id(snapshot_id)


def new_snapshot_id(now: datetime) -> str:
    """A sortable, unique, filesystem-safe id: UTC time plus 6 random hex digits."""
    if now.tzinfo is None:
        raise ValueError("new_snapshot_id needs a timezone-aware datetime")
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write_text(path: Path, text: str) -> None:
    """Write via a temp file in the same directory, fsync, rename over `path`, fsync the dir."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f"{path.name}.tmp-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, 0o644)  # mkstemp creates 0600; readers may run as another user
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _json_default(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def write_manifest(snapshot_path: Path, manifest: dict[str, Any]) -> None:
    """Write `manifest.json` into a snapshot directory atomically."""
    missing = [key for key in REQUIRED_MANIFEST_KEYS if key not in manifest]
    if missing:
        raise ValueError(f"manifest is missing {', '.join(missing)}")
    if manifest["snapshot_id"] != snapshot_path.name:
        raise ValueError(
            f"manifest snapshot_id {manifest['snapshot_id']!r} does not match "
            f"directory {snapshot_path.name!r}"
        )
    text = json.dumps(manifest, indent=2, sort_keys=True, default=_json_default) + "\n"
    _atomic_write_text(snapshot_path / MANIFEST_FILE, text)


MODELS_DIR = "models"


def write_model_file(snapshot_path: Path, name: str, model: dict[str, Any]) -> None:
    """Write a portable model export as `models/<name>.json` in a snapshot directory."""
    models = snapshot_path / MODELS_DIR
    models.mkdir(exist_ok=True)
    _atomic_write_text(models / f"{name}.json", json.dumps(model, indent=1, sort_keys=True))


def read_manifest(snapshot_path: Path) -> dict[str, Any]:
    """Read a snapshot's `manifest.json`."""
    manifest = json.loads((snapshot_path / MANIFEST_FILE).read_text(encoding="utf-8"))
    if not isinstance(manifest, dict):
        raise ValueError(f"{snapshot_path / MANIFEST_FILE} does not hold a JSON object")
    return manifest


def _try_read_manifest(snapshot_path: Path) -> dict[str, Any] | None:
    try:
        return read_manifest(snapshot_path)
    except (OSError, ValueError):
        return None


def current_snapshot_id(data_dir: Path, org: str) -> str | None:
    """The published snapshot id, or None when nothing has been published."""
    pointer = org_root(data_dir, org) / "CURRENT"
    try:
        value = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    try:
        return validate_snapshot_id(value)
    except InvalidSnapshotIdError as error:
        raise SnapshotError(f"{pointer} is corrupt: {error}") from error


def _parse_created_at(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _snapshot_paths(data_dir: Path, org: str) -> list[Path]:
    """Snapshot directories (names that are snapshot ids, not symlinks), newest first."""
    root = snapshots_root(data_dir, org)
    if not root.is_dir():
        return []
    paths = [
        path
        for path in root.iterdir()
        if SNAPSHOT_ID_PATTERN.fullmatch(path.name) and path.is_dir() and not path.is_symlink()
    ]
    return sorted(paths, key=lambda path: path.name, reverse=True)


def list_snapshots(data_dir: Path, org: str) -> list[SnapshotInfo]:
    """All snapshots of an organisation, newest first; those without a manifest are incomplete."""
    current = current_snapshot_id(data_dir, org)
    infos = []
    for path in _snapshot_paths(data_dir, org):
        manifest = _try_read_manifest(path) or {}
        as_of = manifest.get("as_of")
        infos.append(
            SnapshotInfo(
                snapshot_id=path.name,
                path=path,
                as_of=str(as_of) if as_of is not None else None,
                created_at=_parse_created_at(manifest.get("created_at")),
                is_current=path.name == current,
                status=str(manifest.get("status", STATUS_INCOMPLETE)),
            )
        )
    return infos


def _point_current(data_dir: Path, org: str, snapshot_id: str) -> None:
    _atomic_write_text(org_root(data_dir, org) / "CURRENT", f"{snapshot_id}\n")


def _remove_snapshot(path: Path) -> None:
    """Rename out of the snapshot namespace first, so a half-deleted tree never looks valid."""
    doomed = path.with_name(f".deleting-{path.name}-{secrets.token_hex(3)}")
    os.replace(path, doomed)
    try:
        shutil.rmtree(doomed)
    except OSError as error:
        log.warning("snapshot_remove_failed", path=str(doomed), error=str(error))


def _prune(data_dir: Path, org: str, keep: int) -> list[str]:
    """Remove published snapshots beyond the newest `keep`, never the current one."""
    current = current_snapshot_id(data_dir, org)
    published = [info for info in list_snapshots(data_dir, org) if info.status == STATUS_PUBLISHED]
    kept = {info.snapshot_id for info in published[:keep]} | {current}
    removed = []
    for info in published:
        if info.snapshot_id not in kept:
            _remove_snapshot(info.path)
            removed.append(info.snapshot_id)
    return removed


def publish(data_dir: Path, org: str, snapshot_id: str, keep: int) -> list[str]:
    """Atomically point CURRENT at a checked snapshot, then prune; returns the ids removed."""
    if keep < 1:
        raise ValueError("keep must be at least 1")
    path = snapshot_dir(data_dir, org, snapshot_id)
    if not path.is_dir():
        raise SnapshotError(f"snapshot {snapshot_id} of {org!r} does not exist")
    try:
        manifest = read_manifest(path)
    except (OSError, ValueError) as error:
        raise SnapshotError(f"snapshot {snapshot_id} has no readable manifest: {error}") from error
    if manifest.get("status") == STATUS_FAILED:
        raise SnapshotError(f"snapshot {snapshot_id} failed its checks and cannot be published")
    if manifest.get("org") != org or manifest.get("snapshot_id") != snapshot_id:
        raise SnapshotError(f"manifest of {snapshot_id} names another org or snapshot")
    if manifest.get("status") != STATUS_PUBLISHED:
        published_at = datetime.now(UTC).isoformat()
        write_manifest(path, {**manifest, "status": STATUS_PUBLISHED, "published_at": published_at})
    _point_current(data_dir, org, snapshot_id)
    removed = _prune(data_dir, org, keep)
    log.info("snapshot_published", org=org, snapshot_id=snapshot_id, removed=removed)
    return removed


def rollback(data_dir: Path, org: str, snapshot_id: str | None = None) -> str:
    """Point CURRENT at a kept snapshot (default: the newest one older than the current)."""
    current = current_snapshot_id(data_dir, org)
    kept = {
        info.snapshot_id: info
        for info in list_snapshots(data_dir, org)
        if info.status == STATUS_PUBLISHED
    }
    if snapshot_id is None:
        if current is None:
            raise RollbackError(f"nothing is published for {org!r}: nothing to roll back")
        older = [sid for sid in kept if sid < current]
        if not older:
            raise RollbackError(f"no kept snapshot of {org!r} is older than {current}")
        target = max(older)
    else:
        target = validate_snapshot_id(snapshot_id)
        if target not in kept:
            raise RollbackError(f"{target} is not a kept, published snapshot of {org!r}")
        if target == current:
            raise RollbackError(f"{target} is already the current snapshot of {org!r}")
    _point_current(data_dir, org, target)
    log.info("snapshot_rolled_back", org=org, snapshot_id=target, previous=current)
    return target


def discard(data_dir: Path, org: str, snapshot_id: str) -> None:
    """Remove a failed or abandoned run's snapshot directory (never the current one)."""
    path = snapshot_dir(data_dir, org, snapshot_id)
    if snapshot_id == current_snapshot_id(data_dir, org):
        raise SnapshotError(f"{snapshot_id} is the current snapshot of {org!r}: not removed")
    if path.is_symlink() or not path.is_dir():
        return
    _remove_snapshot(path)
    log.info("snapshot_discarded", org=org, snapshot_id=snapshot_id)


def _runs_dir(data_dir: Path, org: str) -> Path:
    return org_root(data_dir, org) / "runs"


def record_run(data_dir: Path, org: str, record: dict[str, Any]) -> None:
    """Store a run's outcome as `runs/last_run.json` and append it to `runs/history.jsonl`."""
    runs = _runs_dir(data_dir, org)
    runs.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, sort_keys=True, default=_json_default)
    with (runs / "history.jsonl").open("a", encoding="utf-8") as history:
        history.write(line + "\n")
        history.flush()
        os.fsync(history.fileno())
    text = json.dumps(record, indent=2, sort_keys=True, default=_json_default) + "\n"
    _atomic_write_text(runs / "last_run.json", text)


def last_run(data_dir: Path, org: str) -> dict[str, Any] | None:
    """The last recorded run's outcome, or None before the first run."""
    try:
        text = (_runs_dir(data_dir, org) / "last_run.json").read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    record = json.loads(text)
    return record if isinstance(record, dict) else None


class RunLock:
    """Exclusive, non-blocking `flock` on `<org>/.lock` for a whole run; freed if we die."""

    def __init__(self, data_dir: Path, org: str) -> None:
        self.org = validate_org(org)
        self.path = org_root(data_dir, org) / ".lock"
        self.started_at: datetime | None = None
        self._fd: int | None = None

    def __enter__(self) -> RunLock:
        if self._fd is not None:
            raise RuntimeError("RunLock is not re-entrant")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # No O_TRUNC: the file holds the current holder's details until we own the lock.
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise LockHeldError(self.org, holder.get("pid"), holder.get("started_at")) from None
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        self.started_at = datetime.now(UTC)
        info = {"pid": os.getpid(), "started_at": self.started_at.isoformat()}
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(info) + "\n").encode(), 0)
        os.fsync(fd)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        try:
            os.ftruncate(fd, 0)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _read_holder(fd: int) -> dict[str, Any]:
    """The pid and start time the lock holder wrote ({} while it has not written them yet)."""
    try:
        holder = json.loads(os.pread(fd, 4096, 0).decode("utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}
