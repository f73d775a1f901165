"""Small memos for warm Lambda containers.

- `TtlCache`: a value kept for a while (lookups that may lag by that much: a webhook's account
  by phone number id, credentials that are read again when refused).
- `VersionedCache`: a value kept while the version it was read at is current. The caller reads the
  version (cheaply, strongly consistent) each time, so a change applies at once: what settings
  need, since "pause" must mean nothing is sent from the next message on.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    def __init__(
        self, ttl_seconds: float, *, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[K, tuple[float, V]] = {}

    def get(self, key: K, load: Callable[[K], V]) -> V:
        """The cached value of `key`, loaded (and kept `ttl_seconds`) when absent or stale."""
        now = self.clock()
        found = self._entries.get(key)
        if found is not None and now - found[0] < self.ttl_seconds:
            return found[1]
        value = load(key)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (now, value)
        return value

    def forget(self, key: K) -> None:
        self._entries.pop(key, None)

    def clear(self) -> None:
        self._entries.clear()


class VersionedCache(Generic[K, V]):
    def __init__(self, *, max_entries: int = 1024) -> None:
        self.max_entries = max_entries
        self._entries: dict[K, tuple[Hashable, V]] = {}

    def get(self, key: K, version: Hashable, load: Callable[[K], V]) -> V:
        """The value of `key` at `version`: the cached one if it was read at that version, else
        loaded now. `load` must read at least as recent as `version` (read the version first,
        then load strongly consistent): a value newer than its version is only re-read once more."""
        found = self._entries.get(key)
        if found is not None and found[0] == version:
            return found[1]
        value = load(key)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[key] = (version, value)
        return value

    def clear(self) -> None:
        self._entries.clear()
