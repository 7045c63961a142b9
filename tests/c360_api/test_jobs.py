"""Refresh jobs over real subprocesses: a small Python script stands in for the pipeline."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from c360_api.jobs import (
    LOCKED_ERROR,
    MAX_LINE_CHARS,
    Job,
    JobConflictError,
    JobManager,
    pipeline_command,
)
from c360_pipeline import snapshots
from c360_pipeline.stages import STAGES

SNAPSHOT_ID = "20260101T020000Z-abc123"

# Logs like the pipeline (JSON lines on stderr), optionally waits for a file, then exits.
FAKE_PIPELINE = """
import json, pathlib, sys, time
spec = json.loads(sys.argv[1])
def event(**fields):
    print(json.dumps({"level": "info", **fields}), file=sys.stderr, flush=True)
for name in spec.get("stages", []):
    event(event="stage_finished", stage=name, seconds=0.01)
if spec.get("wait_for"):
    deadline = time.monotonic() + 60
    while not pathlib.Path(spec["wait_for"]).exists() and time.monotonic() < deadline:
        time.sleep(0.01)
for fields in spec.get("events", []):
    event(**fields)
for line in spec.get("stderr", []):
    print(line, file=sys.stderr, flush=True)
for line in spec.get("stdout", []):
    print(line, flush=True)
sys.exit(spec.get("exit", 0))
"""

Command = Callable[[str, bool], list[str]]


def fake(**spec: Any) -> Command:
    """A command that runs the fake pipeline with `spec`, whatever the org and force."""
    return lambda org, force: [sys.executable, "-c", FAKE_PIPELINE, json.dumps(spec)]


@pytest.fixture
def managers() -> Iterator[Callable[..., JobManager]]:
    """Build JobManagers that are shut down after the test."""
    built: list[JobManager] = []

    def build(command: Command, **kwargs: Any) -> JobManager:
        manager = JobManager(command, **kwargs)
        built.append(manager)
        return manager

    yield build
    for manager in built:
        manager.shutdown(timeout=5)


def run_to_end(manager: JobManager, org: str = "acme", *, force: bool = False) -> Job:
    job = manager.start(org, force=force)
    return manager.wait(org, job.job_id, timeout=30)


def stage_of(manager: JobManager, job: Job) -> str | None:
    current = manager.get(job.org, job.job_id)
    return current.stage if current is not None else None


def until(check: Callable[[], bool], timeout: float = 30) -> None:
    """Poll a subprocess-driven condition (the job's own thread updates it)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.01)


def test_pipeline_command_adds_if_changed_unless_forced() -> None:
    base = [sys.executable, "-m", "c360_pipeline.cli", "run", "--org", "acme"]
    assert pipeline_command("acme", True) == base
    assert pipeline_command("acme", False) == [*base, "--if-changed"]


def test_success_reports_progress_stage_and_snapshot(
    managers: Callable[..., JobManager],
) -> None:
    manager = managers(
        fake(
            stages=list(STAGES),
            events=[{"event": "run_published", "snapshot_id": SNAPSHOT_ID}],
            stdout=[f"Published snapshot {SNAPSHOT_ID}"],
        )
    )
    with capture_logs() as events:
        job = run_to_end(manager)
    assert job.status == "succeeded"
    assert job.exit_code == 0
    assert job.progress == 1.0
    assert job.stage == "quality"
    assert job.snapshot_id == SNAPSHOT_ID
    assert job.error is None
    assert job.trigger == "api"
    assert job.force is False
    assert job.created_at is not None
    assert job.started_at is not None
    assert job.finished_at is not None
    assert job.log_tail[-1] == f"Published snapshot {SNAPSHOT_ID}"
    assert json.loads(json.dumps(job.to_dict()))["snapshot_id"] == SNAPSHOT_ID
    names = [e["event"] for e in events if e["event"].startswith("refresh_job_")]
    assert names == ["refresh_job_started", "refresh_job_finished"]
    finished = next(e for e in events if e["event"] == "refresh_job_finished")
    assert finished["status"] == "succeeded"
    assert finished["job_id"] == job.job_id


def test_progress_counts_finished_stages_while_running(
    managers: Callable[..., JobManager], tmp_path: Path
) -> None:
    release = tmp_path / "release"
    manager = managers(fake(stages=list(STAGES[:4]), wait_for=str(release)))
    job = manager.start("acme", force=True, trigger="schedule")
    until(lambda: stage_of(manager, job) == STAGES[3])
    running = manager.get("acme", job.job_id)
    assert running is not None
    assert running.status == "running"
    assert running.progress == pytest.approx(4 / len(STAGES), abs=0.001)
    assert running.finished_at is None
    assert running.trigger == "schedule"
    assert running.force is True
    release.touch()
    assert manager.wait("acme", job.job_id, timeout=30).status == "succeeded"


def test_run_skipped_makes_a_skipped_job_with_the_current_snapshot(
    managers: Callable[..., JobManager],
) -> None:
    manager = managers(
        fake(
            events=[
                {"event": "run_skipped", "org": "acme", "snapshot_id": SNAPSHOT_ID,
                 "reason": "inputs unchanged"},
            ],
        )
    )  # fmt: skip
    job = run_to_end(manager)
    assert job.status == "skipped"
    assert job.exit_code == 0
    assert job.progress == 1.0
    assert job.snapshot_id == SNAPSHOT_ID
    assert job.error is None


def test_failure_keeps_exit_code_and_the_last_error_line(
    managers: Callable[..., JobManager],
) -> None:
    manager = managers(
        fake(
            stages=["ingest"],
            events=[
                {"event": "run_failed", "level": "error",
                 "exception": "Traceback (most recent call last):\nPipelineError: boom"},
            ],
            stderr=["error: run failed, nothing published: boom"],
            exit=1,
        )
    )  # fmt: skip
    job = run_to_end(manager)
    assert job.status == "failed"
    assert job.exit_code == 1
    assert job.error == "run failed, nothing published: boom"
    assert job.stage == "ingest"
    assert job.snapshot_id is None
    assert job.progress == pytest.approx(1 / len(STAGES), abs=0.001)


def test_failure_without_an_error_line_reports_the_last_logged_error(
    managers: Callable[..., JobManager],
) -> None:
    manager = managers(
        fake(
            events=[{"event": "run_failed", "level": "error", "exception": "X\nValueError: bad"}],
            stdout=[""],
            exit=1,
        )
    )
    job = run_to_end(manager)
    assert job.status == "failed"
    assert job.error == "run_failed: ValueError: bad"


def test_exit_3_means_another_run_holds_the_lock(managers: Callable[..., JobManager]) -> None:
    manager = managers(fake(stderr=["error: organisation 'acme' is being processed"], exit=3))
    job = run_to_end(manager)
    assert job.status == "failed"
    assert job.exit_code == 3
    assert job.error == LOCKED_ERROR


def test_a_second_start_for_a_running_org_conflicts(
    managers: Callable[..., JobManager], tmp_path: Path
) -> None:
    release = tmp_path / "release"
    manager = managers(fake(wait_for=str(release)))
    first = manager.start("acme", force=False)
    with pytest.raises(JobConflictError) as conflict:
        manager.start("acme", force=True)
    assert conflict.value.job.job_id == first.job_id
    assert conflict.value.job.status == "running"
    other = manager.start("globex", force=False)  # another organisation is independent
    release.touch()
    assert manager.wait("acme", first.job_id, timeout=30).status == "succeeded"
    assert manager.wait("globex", other.job_id, timeout=30).status == "succeeded"
    again = run_to_end(manager)
    assert again.status == "succeeded"


def test_get_and_list_are_scoped_to_the_organisation(
    managers: Callable[..., JobManager],
) -> None:
    manager = managers(fake())
    first = run_to_end(manager, "acme")
    second = run_to_end(manager, "acme")
    theirs = run_to_end(manager, "globex")
    assert manager.get("acme", first.job_id) is not None
    assert manager.get("acme", theirs.job_id) is None
    assert manager.get("globex", first.job_id) is None
    assert manager.get("acme", "no-such-job") is None
    assert [j.job_id for j in manager.list("acme")] == [second.job_id, first.job_id]
    assert [j.job_id for j in manager.list("globex")] == [theirs.job_id]
    assert manager.list("initech") == []
    with pytest.raises(KeyError):
        manager.wait("globex", first.job_id, timeout=1)


def test_log_tail_keeps_the_last_lines(managers: Callable[..., JobManager]) -> None:
    manager = managers(fake(stdout=[f"line {i}" for i in range(20)]), log_lines=5)
    job = run_to_end(manager)
    assert job.log_tail == [f"line {i}" for i in range(15, 20)]


def test_a_long_log_line_is_parsed_whole_and_cut_in_the_tail(
    managers: Callable[..., JobManager],
) -> None:
    tables = {f"table_{i}": i for i in range(400)}
    published = {"event": "run_published", "snapshot_id": SNAPSHOT_ID, "tables": tables}
    job = run_to_end(managers(fake(events=[published])))
    assert job.snapshot_id == SNAPSHOT_ID
    assert len(job.log_tail[-1]) == MAX_LINE_CHARS


def test_history_keeps_the_newest_finished_jobs_per_org(
    managers: Callable[..., JobManager],
) -> None:
    manager = managers(fake(), history=2)
    ids = [run_to_end(manager, "acme").job_id for _ in range(3)]
    theirs = run_to_end(manager, "globex")
    assert [j.job_id for j in manager.list("acme")] == ids[:0:-1]
    assert manager.get("acme", ids[0]) is None
    assert [j.job_id for j in manager.list("globex")] == [theirs.job_id]


def test_shutdown_terminates_running_jobs_and_refuses_new_ones(
    managers: Callable[..., JobManager], tmp_path: Path
) -> None:
    manager = managers(fake(stages=["ingest"], wait_for=str(tmp_path / "never")))
    job = manager.start("acme", force=False)
    until(lambda: stage_of(manager, job) == "ingest")
    manager.shutdown(timeout=10)
    stopped = manager.get("acme", job.job_id)
    assert stopped is not None
    assert stopped.status == "failed"
    assert stopped.exit_code is not None
    assert stopped.exit_code < 0
    assert stopped.error is not None
    assert "shut down" in stopped.error
    with pytest.raises(RuntimeError, match="shut down"):
        manager.start("acme", force=False)


def test_a_command_that_cannot_start_fails_the_job(managers: Callable[..., JobManager]) -> None:
    manager = managers(lambda org, force: [str(Path("/nonexistent/pipeline"))])
    job = manager.start("acme", force=False)
    assert job.status == "failed"
    assert job.error is not None
    assert "cannot start" in job.error
    assert manager.start("acme", force=False).status == "failed"  # no stale "running" job


@pytest.mark.parametrize(
    ("org", "trigger"), [("Bad/Org", "api"), ("--input=/etc", "api"), ("acme", "cron")]
)
def test_start_rejects_bad_org_or_trigger(
    managers: Callable[..., JobManager], org: str, trigger: str
) -> None:
    manager = managers(fake())
    with pytest.raises(ValueError, match=r"organisation|trigger"):
        manager.start(org, force=False, trigger=trigger)
    assert manager.list("acme") == []


def test_a_real_pipeline_run_is_followed_stage_by_stage(
    managers: Callable[..., JobManager], tmp_path: Path
) -> None:
    """The contract with `c360-pipeline run`: its JSON log lines drive progress and outcome."""
    data_dir = tmp_path / "data"
    raw = snapshots.org_root(data_dir, "shop") / "raw"
    raw.mkdir(parents=True)
    (raw / "transactions.csv").write_text(
        "customer_id,invoice_date,invoice_id,amount,product,category\n"
        "A1,25/03/2025,INV-1,10.50,P1,Books\n"
        "B2,03/04/2025,INV-2,20.00,P2,Toys\n"
        "C3,01/05/2025,INV-3,5.25,,\n"
    )
    env = {
        "C360_DATA_DIR": str(data_dir),
        "C360_SPARK_MASTER": "local[1]",
        "C360_SPARK_DRIVER_MEMORY": "1g",
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    manager = managers(pipeline_command, env=env)
    job = manager.start("shop", force=True)
    done = manager.wait("shop", job.job_id, timeout=300)
    assert done.status == "succeeded", done.log_tail
    assert done.progress == 1.0
    assert done.stage == STAGES[-1]
    assert done.snapshot_id is not None
    assert done.snapshot_id == snapshots.current_snapshot_id(data_dir, "shop")
