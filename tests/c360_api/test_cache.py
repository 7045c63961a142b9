"""The answer cache: TTL with an injected timer, size bound, counters."""

from __future__ import annotations

from c360_api.cache import AnswerCache, CachedAnswer

ANSWER = CachedAnswer(head=b"{", tail=b"}", media_type="application/json", etag='"x"')


class FakeTimer:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_the_ttl() -> None:
    timer = FakeTimer()
    cache = AnswerCache(ttl_seconds=60, max_entries=10, timer=timer)
    cache.put(("acme", "s1", "q"), ANSWER)
    timer.now += 59
    assert cache.get(("acme", "s1", "q")) is ANSWER
    timer.now += 2
    assert cache.get(("acme", "s1", "q")) is None
    assert (cache.hits, cache.misses) == (1, 1)
    assert cache.hit_ratio == 0.5


def test_size_is_bounded() -> None:
    cache = AnswerCache(ttl_seconds=60, max_entries=2, timer=FakeTimer())
    for key in ("a", "b", "c"):
        cache.put(key, ANSWER)
    assert len(cache) == 2
    assert cache.get("c") is ANSWER


def test_a_zero_ttl_disables_caching() -> None:
    cache = AnswerCache(ttl_seconds=0, max_entries=2, timer=FakeTimer())
    cache.put("a", ANSWER)
    assert cache.get("a") is None
    assert cache.hit_ratio == 0.0
