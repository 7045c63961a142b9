"""An in-memory sliding-window rate limiter: at most `limit` requests in any `window` seconds."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class SlidingWindowLimiter:
    """Counts accepted requests per key over the last `window` seconds (a log of their times,
    so the bound is exact); a refused request is not counted. Thread-safe; idle keys are
    dropped once per window so memory follows the active callers."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if limit < 0 or window <= 0:
            raise ValueError("limit must be >= 0 and window > 0")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._lock = threading.Lock()
        self._hits: dict[str, deque[float]] = {}
        self._swept_at = clock()

    @property
    def enabled(self) -> bool:
        """A limit of 0 means unlimited."""
        return self.limit > 0

    def hit(self, key: str) -> int | None:
        """Count a request for `key`: None when allowed, else the whole seconds to wait."""
        if not self.enabled:
            return None
        now = self._clock()
        with self._lock:
            if now - self._swept_at >= self.window:
                self._sweep(now)
            hits = self._hits.get(key)
            if hits is None:
                hits = self._hits[key] = deque(maxlen=self.limit)
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) < self.limit:
                hits.append(now)
                return None
            return max(1, math.ceil(hits[0] + self.window - now))

    def __len__(self) -> int:
        with self._lock:
            return len(self._hits)

    def _sweep(self, now: float) -> None:
        self._swept_at = now
        idle = [
            key for key, hits in self._hits.items() if not hits or hits[-1] <= now - self.window
        ]
        for key in idle:
            del self._hits[key]
