"""How long `business_seconds_between` takes over 1, 30 and 365 days of a Paris office's hours.

The answer walks local dates, not minutes: its time must grow with the days spanned (a few
microseconds a day), so a year costs some hundreds of times a day, never seconds. The office is
open Monday to Friday 09:00-12:30 and 14:00-18:00, closes on French public holidays and a few
dates of its own, and the year spans both DST changes. The median of repeated runs is printed.

    python benchmarks/business_hours.py
"""

from __future__ import annotations

import statistics
import timeit
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from inbox.business_hours import BusinessHours

OFFICE = BusinessHours.model_validate(
    {
        "timezone": "Europe/Paris",
        "days": {
            day: [{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}]
            for day in ("monday", "tuesday", "wednesday", "thursday", "friday")
        },
        "holidays": [
            {"date": d, "name": "Closed"} for d in ("2026-01-02", "2026-05-15", "2026-08-14", "2026-12-24")
        ],
        "holiday_country": "FR",
    }
)
START = datetime(2026, 1, 5, 10, 17, tzinfo=ZoneInfo("Europe/Paris"))
# (days spanned, runs)
SPANS = ((1, 200), (30, 50), (365, 10))


def median_microseconds(days: int, runs: int) -> float:
    end = START + timedelta(days=days)
    OFFICE.business_seconds_between(START, end)  # warm up: holiday years cached, calendar built
    times = timeit.repeat(lambda: OFFICE.business_seconds_between(START, end), number=1, repeat=runs)
    return statistics.median(times) * 1e6


def main() -> None:
    results = {days: median_microseconds(days, runs) for days, runs in SPANS}
    print(f"{'span':>9} {'median µs':>10} {'µs/day':>8}")
    for days, microseconds in results.items():
        print(f"{days:>5} day{'s' if days > 1 else ' '} {microseconds:>10.1f} {microseconds / days:>8.2f}")
    # Linear in days, the ratio stays under 365: a day's answer also pays a fixed cost per call.
    print(f"365 days / 1 day: {results[365] / results[1]:.1f}x")


if __name__ == "__main__":
    main()
