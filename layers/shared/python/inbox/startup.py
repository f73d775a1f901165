"""A function's start: its modules load with Python's cyclic garbage collector held off.

Loading a handler allocates some 10^5 objects (classes, functions, models) that live as long as the
function's container. The collector, counting those allocations, ran a hundred times during a
handler's import and walked them all again each time: 12 ms of the webhook's, 25 ms of poll_email's
(`benchmarks/cold_start.py`). Held off while they load, then frozen (`gc.freeze`), they are left out
of every later collection too, so an invocation's collections walk only what it allocates.

    with startup.modules_loading():
        from inbox.api import webhooks
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def modules_loading() -> Iterator[None]:
    """Hold the collector off while the block's imports run; afterwards freeze what they made.

    A failed import re-enables the collector and freezes nothing, so a process that survives the
    failure (a test, a retried init) collects as before.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
        gc.freeze()
    finally:
        if was_enabled:
            gc.enable()
