"""The sliding-window limiter, on an injected clock."""

from __future__ import annotations

import pytest

from c360_api.auth.rate_limit import SlidingWindowLimiter


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_at_most_limit_requests_in_any_window_and_the_wait_is_exact() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(3, 60, clock=clock)
    for _ in range(3):  # at 100, 101 and 102
        assert limiter.hit("a") is None
        clock.now += 1
    clock.now += 7.2
    assert limiter.hit("a") == 50, "the oldest request leaves the window in 49.8 s"
    assert limiter.hit("b") is None, "keys are counted apart"
    clock.now += 49.8
    assert limiter.hit("a") is None, "the first request left the window"
    assert limiter.hit("a") == 1, "the next two are still in it"


def test_a_refused_request_is_not_counted() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(1, 60, clock=clock)
    assert limiter.hit("a") is None
    for _ in range(100):
        assert limiter.hit("a") == 60
    clock.now += 60
    assert limiter.hit("a") is None


def test_idle_keys_are_dropped_once_per_window() -> None:
    clock = Clock()
    limiter = SlidingWindowLimiter(5, 60, clock=clock)
    for key in ("a", "b", "c"):
        limiter.hit(key)
    assert len(limiter) == 3
    clock.now += 61
    limiter.hit("d")
    assert len(limiter) == 1


def test_zero_is_unlimited_and_bad_limits_are_refused() -> None:
    limiter = SlidingWindowLimiter(0)
    assert not limiter.enabled
    assert all(limiter.hit("a") is None for _ in range(10_000))
    with pytest.raises(ValueError, match="limit"):
        SlidingWindowLimiter(-1)
