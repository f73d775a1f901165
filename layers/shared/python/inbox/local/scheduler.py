"""The scheduler: fires each scheduled rule's functions with EventBridge's "Scheduled Event".

The email poll fires every INBOX_POLL_INTERVAL_SECONDS; other rules at their own `rate(...)`.
"""

from __future__ import annotations

import logging
import re
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from inbox.local.functions import LocalFunction
from inbox.local.template import ACCOUNT_ID, REGION, Schedule

log = logging.getLogger("local.scheduler")
_UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}


def rate_seconds(expression: str) -> int:
    """Seconds between runs of a `rate(N unit)` expression (cron schedules are not run locally)."""
    found = re.fullmatch(r"rate\((\d+) (\w+)\)", expression.strip())
    if not found or found.group(2) not in _UNIT_SECONDS:
        raise ValueError(f"unsupported schedule {expression!r}")
    return int(found.group(1)) * _UNIT_SECONDS[found.group(2)]


def scheduled_event(schedule: Schedule, now: datetime | None = None) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT_ID}:rule/{schedule.logical_id}"],
        "detail": {},
    }


class Scheduler:
    def __init__(self, schedule: Schedule, functions: list[LocalFunction], interval_seconds: float) -> None:
        self.schedule = schedule
        self.functions = functions
        self.interval_seconds = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"schedule-{schedule.logical_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def signal_stop(self) -> None:
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def fire(self) -> None:
        event = scheduled_event(self.schedule)
        for function in self.functions:
            try:
                function.invoke(event)
            except Exception:
                log.exception("scheduled run of %s failed", function.name)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_seconds):
            self.fire()
