"""The container's memos: a value kept while its version is current, or for a while."""

from __future__ import annotations

from inbox.cache import TtlCache, VersionedCache


def test_a_versioned_value_is_read_again_exactly_when_its_version_moves() -> None:
    loads: list[str] = []

    def load(key: str) -> str:
        loads.append(key)
        return f"{key}@{len(loads)}"

    cache: VersionedCache[str, str] = VersionedCache()

    assert cache.get("acc", 1, load) == "acc@1"
    assert cache.get("acc", 1, load) == "acc@1"  # same version: the copy
    assert cache.get("acc", 2, load) == "acc@2"  # moved: read again
    assert cache.get("acc", 1, load) == "acc@3"  # any other version is another value, even an older one
    assert cache.get("other", 1, load) == "other@4"
    assert loads == ["acc", "acc", "acc", "other"]


def test_a_versioned_cache_stays_bounded() -> None:
    cache: VersionedCache[int, int] = VersionedCache(max_entries=2)
    for key in range(5):
        cache.get(key, None, lambda k: k)

    assert len(cache._entries) <= 2


def test_a_timed_value_is_kept_for_its_time_only() -> None:
    now = [0.0]
    cache: TtlCache[str, float] = TtlCache(60, clock=lambda: now[0])

    assert cache.get("k", lambda _: now[0]) == 0.0
    now[0] = 59.9
    assert cache.get("k", lambda _: now[0]) == 0.0
    now[0] = 60.0
    assert cache.get("k", lambda _: now[0]) == 60.0
