"""The provider sandbox's webhooks: signed requests posted later, one at a time, in time order.

Both providers report on a message after accepting it (Meta's `statuses`, Twilio's status
callbacks); the sandbox schedules those reports when it answers the send, and this one thread posts
them when they fall due. A report the receiver could not take (no answer, a 5xx) is posted again a
few times, as the providers retry; any other answer is final.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

log = logging.getLogger("local.sandbox")

ATTEMPTS = 3
RETRY_SECONDS = 1.0
TIMEOUT_SECONDS = 10.0
STOP_SECONDS = 1.0


@dataclass(frozen=True)
class Timing:
    """Seconds between a provider accepting something and each report on it (None: never)."""

    sent: float | None = 1.0
    delivered: float | None = 2.0
    read: float | None = 4.0
    template_review: float = 3.0  # a submitted template is approved this long after

    def statuses(self) -> list[tuple[str, float]]:
        """The delivery statuses to report, in order, with their delays."""
        found = [("sent", self.sent), ("delivered", self.delivered), ("read", self.read)]
        return [(status, delay) for status, delay in found if delay is not None]


@dataclass(frozen=True)
class Callback:
    """One webhook request, signed: posted to `url` with exactly these bytes and headers."""

    url: str
    body: bytes
    headers: dict[str, str]
    what: str  # for the log: "meta delivered wamid.…"


@dataclass(order=True)
class _Due:
    at: float
    sequence: int
    callback: Callback | None = field(compare=False)
    attempt: int = field(default=1, compare=False)
    effect: Callable[[], None] | None = field(default=None, compare=False)


class Callbacks:
    """A queue of callbacks by due time, posted by one daemon thread (`start`, `stop`)."""

    def __init__(self, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self._timeout = timeout
        self._due: list[_Due] = []
        self._sequence = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None
        self.answers: list[tuple[Callback, int | None]] = []  # what each post got (None: no answer)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="sandbox-callbacks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop posting; callbacks not yet due are dropped."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
        if self._thread is not None:
            # A post under way may take its timeout: not waited for (the thread is a daemon).
            self._thread.join(timeout=STOP_SECONDS)

    def schedule(
        self, delay_seconds: float, callback: Callback | None, *, effect: Callable[[], None] | None = None
    ) -> None:
        """Post `callback` (if any) in `delay_seconds`, applying `effect` just before: the
        provider's state changes when it reports the change."""
        due = _Due(time.monotonic() + delay_seconds, next(self._sequence), callback, effect=effect)
        with self._changed:
            heapq.heappush(self._due, due)
            self._changed.notify_all()

    def pending(self) -> int:
        with self._changed:
            return len(self._due)

    def _run(self) -> None:
        with httpx.Client(timeout=self._timeout) as client:
            while (due := self._next()) is not None:
                if due.effect is not None:
                    due.effect()
                if due.callback is not None:
                    self._post(client, due, due.callback)

    def _next(self) -> _Due | None:
        with self._changed:
            while not self._stopped:
                wait = self._due[0].at - time.monotonic() if self._due else None
                if wait is not None and wait <= 0:
                    return heapq.heappop(self._due)
                self._changed.wait(wait)
            return None

    def _post(self, client: httpx.Client, due: _Due, callback: Callback) -> None:
        try:
            status: int | None = client.post(
                callback.url, content=callback.body, headers=callback.headers
            ).status_code
        except httpx.HTTPError as error:
            status = None
            log.warning(
                "sandbox: %s to %s: no answer (%s)", callback.what, callback.url, type(error).__name__
            )
        else:
            log.info("sandbox: %s -> %s", callback.what, status)
        self.answers.append((callback, status))
        if (status is None or status >= 500) and due.attempt < ATTEMPTS:
            with self._changed:
                retry = _Due(
                    time.monotonic() + RETRY_SECONDS * due.attempt,
                    next(self._sequence),
                    callback,
                    due.attempt + 1,
                )
                heapq.heappush(self._due, retry)
