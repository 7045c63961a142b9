"""Snapshot layout, publishing, retention, rollback and the run lock, on real files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from c360_api.snapshots import current_snapshot
from c360_pipeline.snapshots import (
    STATUS_COMPLETE,
    STATUS_FAILED,
    STATUS_INCOMPLETE,
    STATUS_PUBLISHED,
    InvalidOrgError,
    InvalidSnapshotIdError,
    LockHeldError,
    RollbackError,
    RunLock,
    SnapshotError,
    current_snapshot_id,
    discard,
    last_run,
    list_snapshots,
    new_snapshot_id,
    org_root,
    publish,
    read_manifest,
    record_run,
    rollback,
    snapshot_dir,
    validate_org,
    write_manifest,
)

ORG = "acme"
REPO_ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def make_snapshot(
    data_dir: Path,
    when: datetime,
    status: str = STATUS_COMPLETE,
    org: str = ORG,
    with_manifest: bool = True,
) -> str:
    """A snapshot directory like the pipeline writes: a table, a quarantine and a manifest."""
    snapshot_id = new_snapshot_id(when)
    path = snapshot_dir(data_dir, org, snapshot_id)
    (path / "customer_360").mkdir(parents=True)
    (path / "customer_360" / "part-00000.parquet").write_bytes(snapshot_id.encode())
    (path / "_quarantine").mkdir()
    if with_manifest:
        write_manifest(
            path,
            {
                "snapshot_id": snapshot_id,
                "org": org,
                "as_of": when.date(),
                "created_at": when,
                "status": status,
            },
        )
    return snapshot_id


def snapshot_ids_on_disk(data_dir: Path) -> list[str]:
    return sorted(path.name for path in (org_root(data_dir, ORG) / "snapshots").iterdir())


def start_python(script: str, *args: str) -> subprocess.Popen[str]:
    """A second Python process running `script` with this repository importable."""
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        cwd=REPO_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


@pytest.fixture
def three_published(data_dir: Path) -> list[str]:
    """Three snapshots published in order (oldest first); the last one is current."""
    ids = [make_snapshot(data_dir, T0 + timedelta(days=day)) for day in range(3)]
    for snapshot_id in ids:
        publish(data_dir, ORG, snapshot_id, keep=5)
    return ids


# --- names and ids --------------------------------------------------------------------------


@pytest.mark.parametrize("org", ["a", "acme", "acme-eu_2", "0org", "a" * 63])
def test_validate_org_accepts_safe_names(org: str) -> None:
    assert validate_org(org) == org


HOSTILE_ORGS = [
    "",
    ".",
    "..",
    "../other",
    "a/b",
    "/etc",
    "Acme",
    "acme\n",
    "acme ",
    "-acme",
    "_acme",
    "acme.eu",
    "a\x00b",
    "a" * 64,
]


@pytest.mark.parametrize("org", HOSTILE_ORGS)
def test_validate_org_rejects_hostile_names(org: str) -> None:
    with pytest.raises(InvalidOrgError, match="invalid organisation name"):
        validate_org(org)


ORG_FUNCTIONS: dict[str, Callable[[Path, str], object]] = {
    "org_root": org_root,
    "snapshot_dir": lambda d, o: snapshot_dir(d, o, new_snapshot_id(T0)),
    "run_lock": lambda d, o: RunLock(d, o).__enter__(),
    "publish": lambda d, o: publish(d, o, new_snapshot_id(T0), keep=2),
    "current_snapshot_id": current_snapshot_id,
    "list_snapshots": list_snapshots,
    "rollback": rollback,
    "discard": lambda d, o: discard(d, o, new_snapshot_id(T0)),
    "record_run": lambda d, o: record_run(d, o, {"status": "ok"}),
    "last_run": last_run,
}


@pytest.mark.parametrize("org", ["../escape", "..", "Acme", "a/b"])
@pytest.mark.parametrize("function", ORG_FUNCTIONS.values(), ids=ORG_FUNCTIONS.keys())
def test_every_function_validates_the_org(
    tmp_path: Path, function: Callable[[Path, str], object], org: str
) -> None:
    data_dir = tmp_path / "data"
    with pytest.raises(InvalidOrgError):
        function(data_dir, org)
    assert list(tmp_path.iterdir()) == []  # nothing was created anywhere


HOSTILE_IDS = [
    "",
    "..",
    "../other",
    "/etc",
    "CURRENT",
    "20260101T120000Z-3f9a1c/..",
    "20260101T120000Z-3f9a1c\n",
    "20260101T120000Z-3F9A1C",
    "20260101T120000Z-3f9a1",
    "20260101T120000-3f9a1c",
]


@pytest.mark.parametrize("snapshot_id", HOSTILE_IDS)
def test_hostile_snapshot_ids_are_rejected(data_dir: Path, snapshot_id: str) -> None:
    with pytest.raises(InvalidSnapshotIdError):
        snapshot_dir(data_dir, ORG, snapshot_id)
    with pytest.raises(InvalidSnapshotIdError):
        publish(data_dir, ORG, snapshot_id, keep=2)
    with pytest.raises(InvalidSnapshotIdError):
        discard(data_dir, ORG, snapshot_id)


def test_rollback_rejects_a_hostile_snapshot_id(data_dir: Path, three_published: list[str]) -> None:
    with pytest.raises(InvalidSnapshotIdError):
        rollback(data_dir, ORG, "../../other/snapshots/x")
    assert current_snapshot_id(data_dir, ORG) == three_published[-1]


def test_new_snapshot_id_is_utc_sortable_and_unique() -> None:
    paris = timezone(timedelta(hours=2))
    snapshot_id = new_snapshot_id(datetime(2026, 1, 1, 14, 0, 5, tzinfo=paris))
    assert snapshot_id.startswith("20260101T120005Z-")
    assert len(snapshot_id) == len("20260101T120005Z-") + 6
    assert new_snapshot_id(T0) < new_snapshot_id(T0 + timedelta(seconds=1))
    assert len({new_snapshot_id(T0) for _ in range(10)}) == 10


def test_new_snapshot_id_rejects_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        new_snapshot_id(datetime(2026, 1, 1, 12, 0))


def test_org_root_and_snapshot_dir_layout(data_dir: Path) -> None:
    snapshot_id = new_snapshot_id(T0)
    assert org_root(data_dir, ORG) == data_dir / "orgs" / ORG
    assert snapshot_dir(data_dir, ORG, snapshot_id) == data_dir / "orgs" / ORG / "snapshots" / (
        snapshot_id
    )


# --- manifests ------------------------------------------------------------------------------


def test_manifest_round_trip(tmp_path: Path) -> None:
    snapshot_id = new_snapshot_id(T0)
    path = tmp_path / snapshot_id
    path.mkdir()
    manifest: dict[str, Any] = {
        "snapshot_id": snapshot_id,
        "org": ORG,
        "as_of": date(2025, 12, 31),
        "created_at": T0,
        "status": STATUS_COMPLETE,
        "sources": {"transactions": {"rows_in": 10, "accepted": 9, "quarantined": 1}},
        "models": {"clv": {"r": 0.24, "alpha": 4.41}},
    }
    write_manifest(path, manifest)

    assert read_manifest(path) == {
        **manifest,
        "as_of": "2025-12-31",
        "created_at": "2026-01-01T12:00:00+00:00",
    }
    assert [child.name for child in path.iterdir()] == ["manifest.json"]  # no temp files left


def test_write_manifest_replaces_the_previous_one(tmp_path: Path) -> None:
    snapshot_id = new_snapshot_id(T0)
    path = tmp_path / snapshot_id
    path.mkdir()
    base = {"snapshot_id": snapshot_id, "org": ORG, "as_of": "2025-12-31", "created_at": "x"}
    write_manifest(path, {**base, "status": STATUS_COMPLETE})
    write_manifest(path, {**base, "status": STATUS_FAILED})
    assert read_manifest(path)["status"] == STATUS_FAILED
    assert [child.name for child in path.iterdir()] == ["manifest.json"]


def test_write_manifest_requires_the_core_fields(tmp_path: Path) -> None:
    snapshot_id = new_snapshot_id(T0)
    path = tmp_path / snapshot_id
    path.mkdir()
    with pytest.raises(ValueError, match="missing as_of, created_at"):
        write_manifest(path, {"snapshot_id": snapshot_id, "org": ORG, "status": "complete"})
    with pytest.raises(ValueError, match="does not match"):
        write_manifest(
            path,
            {
                "snapshot_id": new_snapshot_id(T0 + timedelta(days=1)),
                "org": ORG,
                "as_of": "2025-12-31",
                "created_at": "2026-01-01T12:00:00+00:00",
                "status": STATUS_COMPLETE,
            },
        )
    assert list(path.iterdir()) == []


# --- publishing -----------------------------------------------------------------------------


def test_publish_points_current_at_the_snapshot_and_the_api_reads_it(data_dir: Path) -> None:
    snapshot_id = make_snapshot(data_dir, T0)
    assert current_snapshot_id(data_dir, ORG) is None
    assert current_snapshot(data_dir, ORG) is None

    assert publish(data_dir, ORG, snapshot_id, keep=3) == []

    root = org_root(data_dir, ORG)
    assert (root / "CURRENT").read_text(encoding="utf-8") == f"{snapshot_id}\n"
    assert current_snapshot_id(data_dir, ORG) == snapshot_id
    assert sorted(path.name for path in root.iterdir()) == ["CURRENT", "snapshots"]
    published = current_snapshot(data_dir, ORG)
    assert published is not None
    assert published.snapshot_id == snapshot_id
    assert published.path == snapshot_dir(data_dir, ORG, snapshot_id)
    assert published.as_of == "2026-01-01"
    assert published.created_at == T0
    assert published.manifest["status"] == STATUS_PUBLISHED


def test_publishing_a_newer_snapshot_moves_current(
    data_dir: Path, three_published: list[str]
) -> None:
    published = current_snapshot(data_dir, ORG)
    assert published is not None
    assert published.snapshot_id == three_published[-1]


@pytest.mark.parametrize("status", [STATUS_FAILED, None], ids=["failed", "no-manifest"])
def test_publish_refuses_unfinished_snapshots(
    data_dir: Path, three_published: list[str], status: str | None
) -> None:
    snapshot_id = make_snapshot(
        data_dir, T0 + timedelta(days=9), status=status or "", with_manifest=status is not None
    )
    with pytest.raises(SnapshotError):
        publish(data_dir, ORG, snapshot_id, keep=1)
    assert current_snapshot_id(data_dir, ORG) == three_published[-1]
    assert len(snapshot_ids_on_disk(data_dir)) == 4  # nothing pruned either


def test_publish_refuses_a_missing_snapshot(data_dir: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        publish(data_dir, ORG, new_snapshot_id(T0), keep=2)
    assert current_snapshot_id(data_dir, ORG) is None


def test_publish_refuses_a_manifest_of_another_org(data_dir: Path) -> None:
    snapshot_id = make_snapshot(data_dir, T0)
    path = snapshot_dir(data_dir, ORG, snapshot_id)
    write_manifest(path, {**read_manifest(path), "org": "globex"})
    with pytest.raises(SnapshotError, match="another org"):
        publish(data_dir, ORG, snapshot_id, keep=2)
    assert current_snapshot_id(data_dir, ORG) is None


def test_publish_needs_keep_of_at_least_one(data_dir: Path) -> None:
    with pytest.raises(ValueError, match="keep"):
        publish(data_dir, ORG, make_snapshot(data_dir, T0), keep=0)


CRASHING_RUN = """
import os, sys
from datetime import UTC, datetime
from pathlib import Path
from c360_pipeline import snapshots

data_dir, org = Path(sys.argv[1]), sys.argv[2]
with snapshots.RunLock(data_dir, org):
    now = datetime.now(UTC)
    snapshot_id = snapshots.new_snapshot_id(now)
    path = snapshots.snapshot_dir(data_dir, org, snapshot_id)
    (path / "customer_360").mkdir(parents=True)
    (path / "customer_360" / "part-00000.parquet").write_bytes(b"new tables")
    snapshots.write_manifest(
        path,
        {"snapshot_id": snapshot_id, "org": org, "as_of": now.date(), "created_at": now,
         "status": snapshots.STATUS_COMPLETE},
    )
    print(snapshot_id, flush=True)
    os._exit(137)  # dies before publish: no cleanup, no lock release by Python
"""


def test_a_run_that_dies_before_publish_leaves_current_untouched(data_dir: Path) -> None:
    previous_id = make_snapshot(data_dir, T0)
    publish(data_dir, ORG, previous_id, keep=3)
    previous_path = snapshot_dir(data_dir, ORG, previous_id)
    files_before = {path: path.read_bytes() for path in previous_path.rglob("*") if path.is_file()}
    current_before = (org_root(data_dir, ORG) / "CURRENT").read_bytes()

    process = start_python(CRASHING_RUN, str(data_dir), ORG)
    stdout, _ = process.communicate(timeout=60)
    assert process.returncode == 137
    orphan_id = stdout.strip()

    assert (org_root(data_dir, ORG) / "CURRENT").read_bytes() == current_before
    files_after = {path: path.read_bytes() for path in previous_path.rglob("*") if path.is_file()}
    assert files_after == files_before
    published = current_snapshot(data_dir, ORG)
    assert published is not None
    assert published.snapshot_id == previous_id
    listed = {info.snapshot_id: info for info in list_snapshots(data_dir, ORG)}
    assert listed[orphan_id].status == STATUS_COMPLETE
    assert not listed[orphan_id].is_current
    assert listed[previous_id].is_current

    with RunLock(data_dir, ORG):  # the dead run's lock is gone; the next run cleans up
        discard(data_dir, ORG, orphan_id)
    assert snapshot_ids_on_disk(data_dir) == [previous_id]


# --- retention ------------------------------------------------------------------------------


def test_retention_keeps_exactly_the_newest_n(data_dir: Path) -> None:
    ids = [make_snapshot(data_dir, T0 + timedelta(days=day)) for day in range(5)]
    removed = [publish(data_dir, ORG, snapshot_id, keep=3) for snapshot_id in ids]

    assert removed == [[], [], [], [ids[0]], [ids[1]]]
    assert snapshot_ids_on_disk(data_dir) == ids[2:]
    assert current_snapshot_id(data_dir, ORG) == ids[4]
    assert [info.snapshot_id for info in list_snapshots(data_dir, ORG)] == ids[:1:-1]


def test_retention_leaves_other_directories_alone(data_dir: Path) -> None:
    failed_id = make_snapshot(data_dir, T0 - timedelta(days=3), status=STATUS_FAILED)
    incomplete_id = make_snapshot(data_dir, T0 - timedelta(days=2), with_manifest=False)
    stray = org_root(data_dir, ORG) / "snapshots" / "notes"
    stray.mkdir()
    (stray / "readme.txt").write_text("keep me", encoding="utf-8")
    ids = [make_snapshot(data_dir, T0 + timedelta(days=day)) for day in range(3)]
    for snapshot_id in ids:
        publish(data_dir, ORG, snapshot_id, keep=1)

    assert snapshot_ids_on_disk(data_dir) == sorted([failed_id, incomplete_id, ids[2], "notes"])
    assert (stray / "readme.txt").read_text(encoding="utf-8") == "keep me"


def test_retention_never_removes_the_current_snapshot(
    data_dir: Path, three_published: list[str]
) -> None:
    oldest, middle, newest = three_published
    rollback(data_dir, ORG, oldest)

    assert publish(data_dir, ORG, oldest, keep=1) == [middle]

    assert current_snapshot_id(data_dir, ORG) == oldest
    assert snapshot_ids_on_disk(data_dir) == [oldest, newest]


# --- listing and rollback -------------------------------------------------------------------


def test_list_snapshots_reports_status_newest_first(data_dir: Path) -> None:
    published_id = make_snapshot(data_dir, T0)
    publish(data_dir, ORG, published_id, keep=5)
    failed_id = make_snapshot(data_dir, T0 + timedelta(days=1), status=STATUS_FAILED)
    incomplete_id = make_snapshot(data_dir, T0 + timedelta(days=2), with_manifest=False)
    (org_root(data_dir, ORG) / "snapshots" / "not-a-snapshot").mkdir()

    infos = list_snapshots(data_dir, ORG)

    assert [(info.snapshot_id, info.status, info.is_current) for info in infos] == [
        (incomplete_id, STATUS_INCOMPLETE, False),
        (failed_id, STATUS_FAILED, False),
        (published_id, STATUS_PUBLISHED, True),
    ]
    assert infos[2].as_of == "2026-01-01"
    assert infos[2].created_at == T0
    assert infos[2].path == snapshot_dir(data_dir, ORG, published_id)
    assert infos[0].as_of is None
    assert infos[0].created_at is None


def test_list_snapshots_of_an_unknown_org_is_empty(data_dir: Path) -> None:
    assert list_snapshots(data_dir, ORG) == []


def test_rollback_without_id_steps_back_one_snapshot_at_a_time(
    data_dir: Path, three_published: list[str]
) -> None:
    oldest, middle, _ = three_published
    assert rollback(data_dir, ORG) == middle
    assert current_snapshot_id(data_dir, ORG) == middle
    assert rollback(data_dir, ORG) == oldest
    published = current_snapshot(data_dir, ORG)
    assert published is not None
    assert published.snapshot_id == oldest
    with pytest.raises(RollbackError, match="older than"):
        rollback(data_dir, ORG)
    assert current_snapshot_id(data_dir, ORG) == oldest


def test_rollback_to_a_given_snapshot(data_dir: Path, three_published: list[str]) -> None:
    oldest, _, newest = three_published
    assert rollback(data_dir, ORG, oldest) == oldest
    assert current_snapshot_id(data_dir, ORG) == oldest
    assert rollback(data_dir, ORG, newest) == newest  # and forward again
    assert current_snapshot_id(data_dir, ORG) == newest


def test_rollback_with_nothing_published(data_dir: Path) -> None:
    make_snapshot(data_dir, T0)
    with pytest.raises(RollbackError, match="nothing is published"):
        rollback(data_dir, ORG)


@pytest.mark.parametrize("kind", ["unknown", "failed", "incomplete", "current", "pruned"])
def test_rollback_to_an_unusable_snapshot(
    data_dir: Path, three_published: list[str], kind: str
) -> None:
    targets = {
        "unknown": lambda: new_snapshot_id(T0 - timedelta(days=30)),
        "failed": lambda: make_snapshot(data_dir, T0 - timedelta(days=1), status=STATUS_FAILED),
        "incomplete": lambda: make_snapshot(data_dir, T0 - timedelta(days=1), with_manifest=False),
        "current": lambda: three_published[-1],
        "pruned": lambda: publish(data_dir, ORG, three_published[-1], keep=1)[0],
    }
    target = targets[kind]()
    with pytest.raises(RollbackError, match=target):
        rollback(data_dir, ORG, target)
    assert current_snapshot_id(data_dir, ORG) == three_published[-1]


def test_discard_removes_a_failed_run_but_never_the_current_one(
    data_dir: Path, three_published: list[str]
) -> None:
    failed_id = make_snapshot(data_dir, T0 + timedelta(days=5), status=STATUS_FAILED)
    discard(data_dir, ORG, failed_id)
    assert failed_id not in snapshot_ids_on_disk(data_dir)
    discard(data_dir, ORG, failed_id)  # already gone: nothing to do

    with pytest.raises(SnapshotError, match="current"):
        discard(data_dir, ORG, three_published[-1])
    assert snapshot_ids_on_disk(data_dir) == three_published


def test_a_corrupt_current_pointer_is_reported(data_dir: Path) -> None:
    root = org_root(data_dir, ORG)
    root.mkdir(parents=True)
    (root / "CURRENT").write_text("../../elsewhere\n", encoding="utf-8")
    with pytest.raises(SnapshotError, match="corrupt"):
        current_snapshot_id(data_dir, ORG)


# --- run records ----------------------------------------------------------------------------


def test_record_run_keeps_the_last_outcome_and_a_history(data_dir: Path) -> None:
    assert last_run(data_dir, ORG) is None
    first = {"snapshot_id": new_snapshot_id(T0), "status": "failed", "error": "bad\ninput"}
    second = {"snapshot_id": new_snapshot_id(T0), "status": "published", "finished_at": T0}

    record_run(data_dir, ORG, first)
    record_run(data_dir, ORG, second)

    assert last_run(data_dir, ORG) == {**second, "finished_at": T0.isoformat()}
    runs = org_root(data_dir, ORG) / "runs"
    lines = (runs / "history.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["status"] for line in lines] == ["failed", "published"]
    assert json.loads(lines[0])["error"] == "bad\ninput"
    assert sorted(path.name for path in runs.iterdir()) == ["history.jsonl", "last_run.json"]


# --- the run lock ---------------------------------------------------------------------------

LOCK_HOLDER = """
import sys
from pathlib import Path
from c360_pipeline.snapshots import RunLock

with RunLock(Path(sys.argv[1]), sys.argv[2]):
    print("locked", flush=True)
    sys.stdin.readline()
"""


@pytest.fixture
def lock_holder(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """A second process holding the organisation's run lock until told to stop."""
    process = start_python(LOCK_HOLDER, str(data_dir), ORG)
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "locked"
    yield process
    if process.poll() is None:
        process.kill()
        process.wait(timeout=30)


def test_lock_held_by_another_process_is_refused(
    data_dir: Path, lock_holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(LockHeldError) as raised, RunLock(data_dir, ORG):
        pytest.fail("the lock should be held by the other process")

    assert raised.value.pid == lock_holder.pid
    assert raised.value.since is not None
    assert datetime.fromisoformat(raised.value.since) <= datetime.now(UTC)
    assert f"pid {lock_holder.pid} since {raised.value.since}" in str(raised.value)


@pytest.mark.parametrize("ending", ["exits", "is-killed"])
def test_lock_is_released_when_the_holder_ends(
    data_dir: Path, lock_holder: subprocess.Popen[str], ending: str
) -> None:
    if ending == "exits":
        assert lock_holder.stdin is not None
        lock_holder.stdin.write("done\n")
        lock_holder.stdin.flush()
    else:
        lock_holder.kill()  # SIGKILL: no Python cleanup runs, the kernel drops the flock
    lock_holder.wait(timeout=30)

    with RunLock(data_dir, ORG) as lock:
        holder = json.loads((org_root(data_dir, ORG) / ".lock").read_text(encoding="utf-8"))
        assert holder["pid"] == os.getpid()
        assert lock.started_at is not None
        assert holder["started_at"] == lock.started_at.isoformat()


def test_lock_is_exclusive_within_a_process_and_reusable_after_release(data_dir: Path) -> None:
    with RunLock(data_dir, ORG):
        with pytest.raises(LockHeldError, match=f"pid {os.getpid()}"), RunLock(data_dir, ORG):
            pytest.fail("a second RunLock must not be granted")
        # Closing the refused attempt's descriptor must not drop our lock (flock, not fcntl).
        with pytest.raises(LockHeldError), RunLock(data_dir, ORG):
            pytest.fail("the lock must still be held")
        with RunLock(data_dir, "globex"):  # other organisations are independent
            pass
    with RunLock(data_dir, ORG):
        pass
    assert (org_root(data_dir, ORG) / ".lock").read_text(encoding="utf-8") == ""
