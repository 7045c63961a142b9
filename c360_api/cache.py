"""The answer cache: a thread-safe `TTLCache` of rendered responses.

Entries belong to a tenant (the organisation): a lookup only ever sees its own tenant's
entries, and the counters are kept per tenant too, so an organisation's metrics tell nothing
about another's. Keys carry the snapshot id, so a new snapshot can never be answered from an
older one's entries (they simply age out). Values are the rendered bytes, so a hit costs a
dictionary lookup and no serialisation.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
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


@dataclass(frozen=True)
class CacheStats:
    """Entries, hits and misses (of one tenant, or of the whole cache)."""

    entries: int
    hits: int
    misses: int

    @property
    def hit_ratio(self) -> float | None:
        """Hits / lookups, None before the first lookup."""
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else None


class AnswerCache:
    """TTL + size bounded cache of answers, guarded by a lock, with hit/miss counters."""

    def __init__(
        self, ttl_seconds: float, max_entries: int, timer: Callable[[], float] = time.monotonic
    ) -> None:
        self._cache: TTLCache[tuple[str | None, Hashable], CachedAnswer] = TTLCache(
            maxsize=max_entries, ttl=ttl_seconds, timer=timer
        )
        self._lock = threading.Lock()
        self.enabled = ttl_seconds > 0
        self.hits = 0
        self.misses = 0
        self._tenant_hits: Counter[str | None] = Counter()
        self._tenant_misses: Counter[str | None] = Counter()

    def get(self, key: Hashable, tenant: str | None = None) -> CachedAnswer | None:
        """The tenant's cached answer for `key`, or None (counted as a miss)."""
        with self._lock:
            answer = self._cache.get((tenant, key)) if self.enabled else None
            if answer is None:
                self.misses += 1
                self._tenant_misses[tenant] += 1
            else:
                self.hits += 1
                self._tenant_hits[tenant] += 1
            return answer

    def put(self, key: Hashable, answer: CachedAnswer, tenant: str | None = None) -> None:
        """Store an answer for the tenant."""
        if not self.enabled:
            return
        with self._lock:
            self._cache[(tenant, key)] = answer

    def stats(self, tenant: str | None) -> CacheStats:
        """The tenant's entries, hits and misses."""
        with self._lock:
            self._cache.expire()
            entries = sum(1 for owner, _ in self._cache if owner == tenant)
            return CacheStats(entries, self._tenant_hits[tenant], self._tenant_misses[tenant])

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
