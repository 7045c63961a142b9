"""Locating an organisation's published snapshot (the `CURRENT` pointer and its manifest)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class PublishedSnapshot:
    """The snapshot `CURRENT` points at."""

    snapshot_id: str
    path: Path
    manifest: dict[str, Any]

    @property
    def as_of(self) -> str | None:
        """The snapshot's as-of date, if its manifest records one."""
        value = self.manifest.get("as_of")
        return str(value) if value is not None else None

    @property
    def as_of_date(self) -> date | None:
        """The as-of date as a date: what queries that bind `$as_of` are given."""
        value = self.as_of
        return date.fromisoformat(value) if value else None

    @property
    def created_at(self) -> datetime | None:
        """When the snapshot was published, if its manifest records it."""
        value = self.manifest.get("created_at")
        if not value:
            return None
        parsed = datetime.fromisoformat(str(value))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

    def age_seconds(self) -> float | None:
        """Seconds since the snapshot was created, if its manifest records when."""
        created = self.created_at
        return (datetime.now(UTC) - created).total_seconds() if created else None


def no_snapshot_message(org: str) -> str:
    """What a client is told while the organisation has no published snapshot."""
    return (
        f"no published snapshot for organisation {org!r} yet; "
        "run `c360-pipeline run` (or POST /admin/refresh-data)"
    )


def org_dir(data_dir: Path, org: str) -> Path:
    """An organisation's area under the data directory."""
    return data_dir / "orgs" / org


def data_orgs(data_dir: Path) -> set[str]:
    """The organisations that have an area under the data directory (listed, never built from
    a client's input)."""
    try:
        return {entry.name for entry in (data_dir / "orgs").iterdir() if entry.is_dir()}
    except FileNotFoundError:
        return set()


def current_snapshot(data_dir: Path, org: str) -> PublishedSnapshot | None:
    """The organisation's published snapshot, or None when nothing has been published."""
    root = org_dir(data_dir, org)
    pointer = root / "CURRENT"
    try:
        snapshot_id = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    path = root / "snapshots" / snapshot_id
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return PublishedSnapshot(snapshot_id=snapshot_id, path=path, manifest=manifest)
