"""The refresh scheduler on an injected clock: no real waiting."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from structlog.testing import capture_logs

from c360_api.jobs import Job, JobConflictError
from c360_api.scheduler import RefreshScheduler, validate_cron


class FakeTime:
    """A clock and a sleep that advances it; stops the scheduler once `until` is reached."""

    def __init__(self, now: datetime, until: datetime) -> None:
        self.now = now
        self.until = until
        self.scheduler: RefreshScheduler | None = None
        self.slept = 0.0

    def clock(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert 0 < seconds <= 1.0
        self.slept += seconds
        self.now += timedelta(seconds=seconds)
        if self.now >= self.until and self.scheduler is not None:
            self.scheduler.stop()


def at(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


def run_schedule(
    cron: str,
    start: Callable[[str], object],
    orgs: Callable[[], list[str]],
    fake: FakeTime,
) -> RefreshScheduler:
    """Run the scheduler's loop in this thread until the fake clock reaches `fake.until`."""
    scheduler = RefreshScheduler(cron, orgs, start, clock=fake.clock, sleep=fake.sleep)
    fake.scheduler = scheduler
    scheduler.run()
    return scheduler


def test_fires_for_every_org_at_each_cron_time() -> None:
    fake = FakeTime(at(10, 30), until=at(13, 10))
    calls: list[tuple[str, datetime]] = []
    run_schedule("0 * * * *", lambda org: calls.append((org, fake.now)), lambda: ["a", "b"], fake)
    assert calls == [
        ("a", at(11)), ("b", at(11)),
        ("a", at(12)), ("b", at(12)),
        ("a", at(13)), ("b", at(13)),
    ]  # fmt: skip
    assert fake.slept == pytest.approx((at(13, 10) - at(10, 30)).total_seconds(), abs=1)


def test_orgs_are_read_at_each_fire() -> None:
    fake = FakeTime(at(23, 50), until=at(1, 10, day=2))
    orgs = iter([["a"], ["a", "b"]])
    calls: list[tuple[str, datetime]] = []
    run_schedule("0 0,1 * * *", lambda org: calls.append((org, fake.now)), lambda: next(orgs), fake)
    assert calls == [("a", at(0, day=2)), ("a", at(1, day=2)), ("b", at(1, day=2))]


def test_a_fire_missed_while_away_runs_once_then_the_schedule_resumes() -> None:
    fake = FakeTime(at(10, 59), until=at(16, 30))
    calls: list[datetime] = []

    def start(org: str) -> None:
        calls.append(fake.now)
        if len(calls) == 1:
            fake.now = at(14, 30)  # the machine was suspended for hours during the first fire

    run_schedule("0 * * * *", start, lambda: ["a"], fake)
    assert calls == [at(11), at(14, 30), at(15), at(16)]


def test_survives_conflicts_and_errors() -> None:
    fake = FakeTime(at(8, 55), until=at(10, 5))
    calls: list[tuple[str, datetime]] = []
    busy = Job(job_id="f" * 32, org="b", force=False, trigger="schedule")
    org_lists = iter([["a", "b", "c"]])

    def orgs() -> list[str]:
        if fake.now == at(9, 30):
            raise OSError("data dir unreadable")
        return next(org_lists, ["a", "b", "c"])

    def start(org: str) -> None:
        calls.append((org, fake.now))
        if org == "a":
            raise RuntimeError("boom")
        if org == "b":
            raise JobConflictError(busy)

    with capture_logs() as events:
        run_schedule("0,30 * * * *", start, orgs, fake)
    # 09:00 all three tried; 09:30 orgs() failed; 10:00 all three tried again.
    assert calls == [(o, at(h)) for h in (9, 10) for o in ("a", "b", "c")]
    skipped = [e for e in events if e["event"] == "scheduled_refresh_skipped"]
    assert [(e["org"], e["job_id"]) for e in skipped] == [("b", busy.job_id)] * 2
    failed = [e for e in events if e["event"] == "scheduled_refresh_failed"]
    assert [e["org"] for e in failed] == ["a", None, "a"]
    started = [e["org"] for e in events if e["event"] == "scheduled_refresh_started"]
    assert started == ["c", "c"]


def test_thread_starts_and_stops_promptly() -> None:
    calls: list[str] = []
    scheduler = RefreshScheduler("0 0 1 1 *", lambda: ["a"], calls.append)
    scheduler.start()
    with pytest.raises(RuntimeError, match="already started"):
        scheduler.start()
    started = time.monotonic()
    scheduler.stop(timeout=5)
    assert time.monotonic() - started < 2
    assert scheduler._thread is not None
    assert not scheduler._thread.is_alive()
    assert calls == []


def test_next_fire_is_strictly_after() -> None:
    scheduler = RefreshScheduler("0 2 * * *", list, print)
    assert scheduler.next_fire_after(at(2)) == at(2, day=2)
    assert scheduler.next_fire_after(at(1, 59)) == at(2)


@pytest.mark.parametrize(
    ("expr", "expected"),
    [("0 2 * * *", "0 2 * * *"), ("  */15  *  * * 1-5 ", "*/15 * * * 1-5"), ("@Daily", "@daily")],
)
def test_validate_cron_accepts_and_normalises(expr: str, expected: str) -> None:
    assert validate_cron(expr) == expected


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("", "expected 5 fields"),
        ("0 2 * *", "expected 5 fields"),
        ("0 0 2 * * *", "expected 5 fields"),
        ("61 * * * *", "out of range"),
        ("0 2 * * mon-funday", "invalid cron expression"),
        ("@fortnightly", "unknown alias"),
        ("0 0 30 2 *", "failed to find next date"),
    ],
)
def test_validate_cron_rejects_with_a_clear_message(expr: str, message: str) -> None:
    with pytest.raises(ValueError, match=message) as error:
        validate_cron(expr)
    assert repr(expr) in str(error.value)
    with pytest.raises(ValueError, match=message):
        RefreshScheduler(expr, list, print)
