"""Opaque, time-ordered identifiers (ULID layout): listing by id lists by creation time.

Within one millisecond the random part is incremented instead of drawn again (ULID's monotonic
mode), so ids made one after the other in a process sort in the order they were made.
"""

from __future__ import annotations

import os
import threading
import time

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_BITS = 80
_lock = threading.Lock()
_last = (0, 0)  # (milliseconds, random part) of the latest id


def new_id(prefix: str) -> str:
    """`<prefix>_` followed by 26 characters: 48 bits of milliseconds, then 80 random bits."""
    global _last
    with _lock:
        millis = time.time_ns() // 1_000_000
        last_millis, last_random = _last
        if millis <= last_millis and last_random + 1 < 1 << _RANDOM_BITS:
            millis, random_part = last_millis, last_random + 1
        else:
            random_part = int.from_bytes(os.urandom(10), "big")
        _last = (millis, random_part)
    value = millis << _RANDOM_BITS | random_part
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return f"{prefix}_{''.join(reversed(chars))}"
