"""Refresh jobs: the pipeline run as a subprocess per organisation, followed through its log."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

import orjson
import structlog

from c360_pipeline.snapshots import validate_org
from c360_pipeline.stages import STAGES

log = structlog.get_logger(__name__)

JobStatus = Literal["running", "succeeded", "skipped", "failed"]
JobTrigger = Literal["api", "schedule"]

EXIT_LOCKED = 3  # c360_pipeline.cli.EXIT_LOCKED (that module is not imported: it is the child's)
LOCKED_ERROR = "another run for this organisation holds the lock"
MAX_LINE_CHARS = 2000
"""Log-tail lines are cut (after parsing) to this: one Spark plan must not hold megabytes."""


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class Job:
    """One refresh of one organisation, as the API reports it."""

    job_id: str
    org: str
    force: bool
    trigger: str
    status: JobStatus = "running"
    created_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    exit_code: int | None = None
    progress: float = 0.0
    stage: str | None = None
    """The last stage that finished."""
    log_tail: list[str] = field(default_factory=list)
    snapshot_id: str | None = None
    """The snapshot the run published (or, when skipped, the one that stays current)."""
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The job as a JSON-ready dict."""
        return dataclasses.asdict(self)


class JobConflictError(RuntimeError):
    """A refresh of the organisation is already running."""

    def __init__(self, job: Job) -> None:
        self.job = job
        super().__init__(f"a refresh of {job.org!r} is already running (job {job.job_id})")


def pipeline_command(org: str, force: bool) -> list[str]:
    """The pipeline run for `org`: `--if-changed` unless forced."""
    command = [sys.executable, "-m", "c360_pipeline.cli", "run", "--org", org]
    return command if force else [*command, "--if-changed"]


@dataclass
class _Run:
    """A job with what following its subprocess needs; guarded by the manager's lock."""

    job: Job
    seq: int
    lines: deque[str]
    started: float = field(default_factory=time.monotonic)
    finished_stages: set[str] = field(default_factory=set)
    is_skipped: bool = False
    is_terminated: bool = False
    last_error: str | None = None
    proc: subprocess.Popen[str] | None = None
    done: threading.Event = field(default_factory=threading.Event)

    def copy(self) -> Job:
        """A copy of the job that later updates do not touch."""
        return dataclasses.replace(self.job, log_tail=list(self.lines))


class JobManager:
    """Starts refresh subprocesses (one at a time per organisation) and keeps their outcome.

    `command(org, force)` is the argv to run; `env` holds variables set for the child on top
    of the environment it inherits from this process (PATH, JAVA_HOME, C360_SPARK_*...).
    """

    def __init__(
        self,
        command: Callable[[str, bool], list[str]],
        *,
        env: Mapping[str, str] | None = None,
        log_lines: int = 50,
        history: int = 100,
    ) -> None:
        if log_lines < 1 or history < 1:
            raise ValueError("log_lines and history must be at least 1")
        self._command = command
        self._env = {**os.environ, **env} if env else None
        self._log_lines = log_lines
        self._history = history
        self._lock = threading.Lock()
        self._runs: dict[str, _Run] = {}
        self._seq = itertools.count()
        self._threads: list[threading.Thread] = []
        self._is_closed = False

    def start(self, org: str, *, force: bool, trigger: str = "api") -> Job:
        """Start a refresh of `org`; raises JobConflictError while one is running."""
        if trigger not in get_args(JobTrigger):
            raise ValueError(f"trigger must be one of {get_args(JobTrigger)}, not {trigger!r}")
        validate_org(org)  # a name, not an option: it goes on the pipeline's command line
        command = self._command(org, force)
        with self._lock:
            if self._is_closed:
                raise RuntimeError("the job manager is shut down")
            running = self._running(org)
            if running is not None:
                raise JobConflictError(running.copy())
            job = Job(uuid.uuid4().hex, org, force, trigger, created_at=_utc_now())
            run = _Run(job, next(self._seq), deque(maxlen=self._log_lines))
            self._runs[job.job_id] = run
        try:
            # Own session: shutdown signals the whole tree (the JVM too), and a Ctrl-C meant
            # for the API does not reach the run.
            proc = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
                bufsize=1,
                env=self._env,
                start_new_session=True,
            )
        except OSError as exc:
            with self._lock:
                run.last_error = f"cannot start the pipeline: {exc}"
            self._finish(run, None)
            return self._copy(run)
        with self._lock:
            run.proc = proc
            job.started_at = _utc_now()
            if self._is_closed:
                run.is_terminated = True
                _signal(proc, signal.SIGTERM)
        log.info("refresh_job_started", job_id=job.job_id, org=org, force=force, trigger=trigger)
        thread = threading.Thread(
            target=self._follow,
            args=(run, proc),
            name=f"refresh-{org}-{job.job_id[:8]}",
            daemon=True,
        )
        with self._lock:
            self._threads.append(thread)
        thread.start()
        return self._copy(run)

    def get(self, org: str, job_id: str) -> Job | None:
        """The job `job_id` of `org` (None for an unknown id or another organisation's job)."""
        with self._lock:
            run = self._runs.get(job_id)
            return run.copy() if run is not None and run.job.org == org else None

    def list(self, org: str) -> list[Job]:
        """The organisation's jobs, newest first."""
        with self._lock:
            runs = [run for run in self._runs.values() if run.job.org == org]
            return [run.copy() for run in sorted(runs, key=lambda r: r.seq, reverse=True)]

    def wait(self, org: str, job_id: str, timeout: float) -> Job:
        """The job once it has finished, or as it stands after `timeout` seconds."""
        with self._lock:
            run = self._runs.get(job_id)
        if run is None or run.job.org != org:
            raise KeyError(f"no job {job_id!r} for organisation {org!r}")
        run.done.wait(timeout)
        return self._copy(run)

    def shutdown(self, timeout: float = 10) -> None:
        """Refuse new jobs and terminate running ones (killed if still alive after `timeout`)."""
        deadline = time.monotonic() + timeout
        with self._lock:
            self._is_closed = True
            running = [run for run in self._runs.values() if not run.done.is_set()]
            for run in running:
                run.is_terminated = True
                if run.proc is not None:
                    _signal(run.proc, signal.SIGTERM)
            threads = list(self._threads)
        for run in running:
            if not run.done.wait(max(0.0, deadline - time.monotonic())) and run.proc is not None:
                _signal(run.proc, signal.SIGKILL)
        for thread in threads:
            thread.join(max(0.1, deadline - time.monotonic()))

    def _running(self, org: str) -> _Run | None:
        for run in self._runs.values():
            if run.job.org == org and run.job.status == "running":
                return run
        return None

    def _copy(self, run: _Run) -> Job:
        with self._lock:
            return run.copy()

    def _follow(self, run: _Run, proc: subprocess.Popen[str]) -> None:
        """Read the subprocess's output line by line until it exits (the job's thread)."""
        assert proc.stdout is not None  # Popen(stdout=PIPE)
        exit_code: int | None = None
        try:
            with proc.stdout:
                for line in proc.stdout:
                    self._on_line(run, line.rstrip("\r\n"))
            exit_code = proc.wait()
        except Exception as exc:  # never leave a job "running" because its reader broke
            log.exception("refresh_job_follow_failed", job_id=run.job.job_id, org=run.job.org)
            with self._lock:
                run.last_error = f"lost the pipeline's output: {exc}"
            _signal(proc, signal.SIGKILL)
            proc.wait()
        self._finish(run, exit_code)

    def _on_line(self, run: _Run, line: str) -> None:
        event = _parse_event(line)
        with self._lock:
            run.lines.append(line[:MAX_LINE_CHARS])
            if line.startswith("error:"):
                run.last_error = line.removeprefix("error:").strip()
            if event is None:
                return
            name = event.get("event")
            if name == "stage_finished" and event.get("stage") in STAGES:
                run.finished_stages.add(str(event["stage"]))
                run.job.stage = str(event["stage"])
                run.job.progress = round(len(run.finished_stages) / len(STAGES), 3)
            elif name in ("run_published", "run_skipped"):
                run.is_skipped = name == "run_skipped"
                run.job.snapshot_id = _str_or_none(event.get("snapshot_id"))
                run.job.progress = 1.0
            elif event.get("level") in ("error", "critical"):
                run.last_error = _error_summary(event)

    def _finish(self, run: _Run, exit_code: int | None) -> None:
        with self._lock:
            job = run.job
            job.exit_code = exit_code
            job.finished_at = _utc_now()
            job.status, job.error = _outcome(run, exit_code)
            if job.status in ("succeeded", "skipped"):
                job.progress = 1.0
            self._prune(job.org)
            if threading.current_thread() in self._threads:
                self._threads.remove(threading.current_thread())
        log.info(
            "refresh_job_finished",
            job_id=job.job_id,
            org=job.org,
            status=job.status,
            exit_code=exit_code,
            seconds=round(time.monotonic() - run.started, 1),
            snapshot_id=job.snapshot_id,
            error=job.error,
        )
        run.done.set()

    def _prune(self, org: str) -> None:
        """Drop the oldest finished jobs of `org` beyond `history` (running ones stay)."""
        finished = sorted(
            (r for r in self._runs.values() if r.job.org == org and r.job.status != "running"),
            key=lambda r: r.seq,
        )
        for run in finished[: max(0, len(finished) - self._history)]:
            del self._runs[run.job.job_id]


def _outcome(run: _Run, exit_code: int | None) -> tuple[JobStatus, str | None]:
    """Status and error of a finished run, from its exit code and what it logged."""
    if exit_code == 0:
        return ("skipped" if run.is_skipped else "succeeded"), None
    if exit_code == EXIT_LOCKED:
        return "failed", LOCKED_ERROR
    if run.is_terminated:
        return "failed", "terminated: the API shut down"
    if exit_code is not None and exit_code < 0:
        return "failed", run.last_error or f"the pipeline was killed by signal {-exit_code}"
    fallback = f"the pipeline exited with code {exit_code}" if exit_code is not None else None
    return "failed", run.last_error or _last_line(run) or fallback


def _error_summary(event: dict[str, Any]) -> str:
    """`event: last line of its traceback` for an error-level log line."""
    traceback = str(event.get("exception") or "").strip().splitlines()
    return f"{event.get('event')}: {traceback[-1]}" if traceback else str(event.get("event"))


def _last_line(run: _Run) -> str | None:
    return next((line for line in reversed(run.lines) if line.strip()), None)


def _parse_event(line: str) -> dict[str, Any] | None:
    """A structlog JSON line as a dict (None for any other output, e.g. Spark's)."""
    if not line.startswith("{"):
        return None
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return event if isinstance(event, dict) else None


def _str_or_none(value: object) -> str | None:
    return str(value) if value is not None else None


def _signal(proc: subprocess.Popen[str], signum: int) -> None:
    """Signal the subprocess's whole process group (it leads its own session)."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signum)
