"""The answer cache: a thread-safe `TTLCache` of rendered responses.

Keys carry the organisation and the snapshot id, so a new snapshot can never be answered
from an older one's entries (they simply age out). Values are the rendered bytes, so a hit
costs a dictionary lookup and no serialisation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from cachetools import TTLCache


@dataclass(frozen=True)
class CachedAnswer:
    """A rendered answer: body bytes (the envelope without its timestamp) and headers."""

    head: bytes
    tail: bytes
    media_type: str
    etag: str
    headers: tuple[tuple[str, str], ...] = ()


class AnswerCache:
    """TTL + size bounded cache of answers, guarded by a lock, with hit/miss counters."""

    def __init__(
        self, ttl_seconds: float, max_entries: int, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._cache: TTLCache[Hashable, CachedAnswer] = TTLCache(
            maxsize=max_entries, ttl=ttl_seconds, timer=timer
        )
        self._lock = threading.Lock()
        self.enabled = ttl_seconds > 0
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> CachedAnswer | None:
        """The cached answer for `key`, or None (counted as a miss)."""
        with self._lock:
            answer = self._cache.get(key) if self.enabled else None
            if answer is None:
                self.misses += 1
            else:
                self.hits += 1
            return answer

    def put(self, key: Hashable, answer: CachedAnswer) -> None:
        """Store an answer."""
        if not self.enabled:
            return
        with self._lock:
            self._cache[key] = answer

    def __len__(self) -> int:
        with self._lock:
            self._cache.expire()
            return len(self._cache)

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._cache.clear()

    @property
    def hit_ratio(self) -> float | None:
        """Hits / lookups, None before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None
