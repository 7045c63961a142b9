"""Scheduled refreshes: a daemon thread that starts a refresh of every organisation on a cron."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

import structlog
from croniter import CroniterError, croniter

from c360_api.jobs import JobConflictError

log = structlog.get_logger(__name__)

CRON_ALIASES = ("@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly")
STEP_SECONDS = 1.0
"""Longest single sleep: the clock is re-read this often, so a clock change is noticed."""


def validate_cron(expr: str) -> str:
    """`expr` stripped if it is a 5-field cron expression (or an @alias), else ValueError."""
    cleaned = " ".join(str(expr).split())
    hint = "expected 5 fields 'minute hour day-of-month month day-of-week' (e.g. '0 2 * * *')"
    if cleaned.startswith("@"):
        cleaned = cleaned.lower()
        if cleaned not in CRON_ALIASES:
            raise ValueError(
                f"invalid cron expression {expr!r}: unknown alias, use one of "
                f"{', '.join(CRON_ALIASES)}"
            )
    elif len(cleaned.split()) != 5:
        raise ValueError(f"invalid cron expression {expr!r}: {hint}")
    try:
        # get_next too: a date that never comes ('0 0 30 2 *') only fails there.
        croniter(cleaned, datetime(2000, 1, 1, tzinfo=UTC)).get_next(datetime)
    except (CroniterError, ValueError) as exc:
        raise ValueError(
            f"invalid cron expression {expr!r}: {exc} (fields: minute 0-59, hour 0-23, "
            "day-of-month 1-31, month 1-12, day-of-week 0-6)"
        ) from None
    return cleaned


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RefreshScheduler:
    """Calls `start(org)` for each of `orgs()` at every fire time of `cron` (UTC)."""

    def __init__(
        self,
        cron: str,
        orgs: Callable[[], list[str]],
        start: Callable[[str], object],
        *,
        clock: Callable[[], datetime] = _utc_now,
        sleep: Callable[[float], object] | None = None,
    ) -> None:
        self.cron = validate_cron(cron)
        self._orgs = orgs
        self._start_job = start
        self._clock = clock
        self._stopped = threading.Event()
        # The default sleep wakes up at once on stop().
        self._sleep = sleep if sleep is not None else self._stopped.wait
        self._thread: threading.Thread | None = None

    def next_fire_after(self, moment: datetime) -> datetime:
        """The first fire time strictly after `moment`."""
        fire_at = croniter(self.cron, moment).get_next(datetime)
        assert isinstance(fire_at, datetime)
        return fire_at

    def start(self) -> None:
        """Run the schedule in a daemon thread."""
        if self._thread is not None:
            raise RuntimeError("the scheduler is already started")
        self._thread = threading.Thread(target=self.run, name="refresh-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5) -> None:
        """Stop the schedule and wait up to `timeout` seconds for its thread."""
        self._stopped.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def run(self) -> None:
        """Fire at every scheduled time until `stop()` (the thread's body; blocks)."""
        fire_at = self.next_fire_after(self._clock())
        log.info("refresh_scheduler_started", cron=self.cron, next_fire_at=fire_at.isoformat())
        while not self._stopped.is_set():
            now = self._clock()
            if now < fire_at:
                self._sleep(min(STEP_SECONDS, (fire_at - now).total_seconds()))
                continue
            self._fire(fire_at)
            # Fire times missed while away (a suspended machine) make one late fire, not a burst.
            fire_at = self.next_fire_after(max(now, fire_at))
        log.info("refresh_scheduler_stopped")

    def _fire(self, fire_at: datetime) -> None:
        """Start a refresh of every organisation; no failure escapes (the thread must live)."""
        try:
            orgs = list(self._orgs())
        except Exception:
            log.exception("scheduled_refresh_failed", fire_at=fire_at.isoformat(), org=None)
            return
        for org in orgs:
            try:
                self._start_job(org)
            except JobConflictError as exc:
                log.info(
                    "scheduled_refresh_skipped",
                    org=org,
                    fire_at=fire_at.isoformat(),
                    reason="a refresh is already running",
                    job_id=exc.job.job_id,
                )
            except Exception:
                log.exception("scheduled_refresh_failed", org=org, fire_at=fire_at.isoformat())
            else:
                log.info("scheduled_refresh_started", org=org, fire_at=fire_at.isoformat())
