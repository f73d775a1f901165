"""Business hours: when an account is open, and how much open time lies between two instants.

An account's hours are opening intervals per weekday, as local wall-clock times in an IANA time
zone, minus holidays (explicit dates, and optionally a country's public holidays per the `holidays`
package). They drive response-time metrics, auto-replies and report filters.

What "open" means, exactly (every answer below follows from it):

- An instant `t` is open when its local wall time, `t.astimezone(zone)`, falls in `[start, end)` of
  one of the intervals of its local date's weekday, and that local date is not a holiday. `24:00`
  as an end means "to the end of the local date" (midnight at the start of the next one).
- Across DST this is decided by the wall clock: in the spring-forward gap the missing wall times
  never occur, so an interval covering them is shorter that day (00:00-24:00 lasts 23 h on
  2026-03-29 in Europe/Paris); in the fall-back overlap the repeated wall times occur twice, and
  an interval covering them is open during both occurrences (00:00-24:00 lasts 25 h on 2026-10-25).
  An interval that starts inside the gap opens at the first instant after it.
- `business_seconds_between(a, b)` is the measure of the open instants in `[a, b)`, and
  `next_opening(t)` the first open instant at or after `t` (`t` itself when open at `t`).

Answers take timezone-aware datetimes (naive ones raise `ValueError`) and return aware UTC
datetimes. They walk the local dates between their bounds, so their cost grows with the days
spanned, not with minutes.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError, ValidationError

from inbox.model import Model

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# How far `next_opening` looks before saying the account never opens.
NEXT_OPENING_HORIZON = dt.timedelta(days=366 * 2)

_CLOCK = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
# IANA names are relative paths of letters, digits and `_+-`: no dots, so no `..`, no absolute path.
_ZONE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_+\-]*(/[A-Za-z0-9_+\-]+)*")
# Names the lookup accepts but that mean "whatever this machine is set to".
_MACHINE_ZONES = frozenset({"localtime", "posixrules"})
_COUNTRY = re.compile(r"[A-Z]{2}")
_DAY = dt.timedelta(days=1)
_SECOND = dt.timedelta(seconds=1)
_TICK = dt.timedelta(microseconds=1)


def _start_time(value: str) -> str:
    if not _CLOCK.fullmatch(value):
        raise PydanticCustomError("time_format", "must be a time written HH:MM, from 00:00 to 23:59")
    return value


def _end_time(value: str) -> str:
    if value != "24:00" and not _CLOCK.fullmatch(value):
        raise PydanticCustomError(
            "time_format", "must be a time written HH:MM, from 00:01 to 24:00 (24:00: the end of the day)"
        )
    return value


def _timezone(value: str) -> str:
    unknown = PydanticCustomError(
        "time_zone", "unknown time zone '{name}': use an IANA name, e.g. Europe/Paris", {"name": value}
    )
    if not value:
        raise PydanticCustomError("time_zone", "must be a time zone name, e.g. Europe/Paris")
    if not _ZONE_NAME.fullmatch(value) or value in _MACHINE_ZONES:
        raise unknown
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:  # OSError: a folder, e.g. "America"
        raise unknown from error
    return value


def _country(value: str) -> str:
    code = value.strip().upper()
    if not _COUNTRY.fullmatch(code):
        raise PydanticCustomError(
            "holiday_country", "must be a two-letter country code (ISO 3166-1 alpha-2), e.g. FR"
        )
    import holidays  # 50 ms to import: only the functions that use business hours pay for it

    try:
        holidays.country_holidays(code)
    except NotImplementedError as error:
        raise PydanticCustomError(
            "holiday_country",
            "unknown holiday country '{code}': no public holidays are known for it",
            {"code": code},
        ) from error
    return code


StartTime = Annotated[
    str,
    AfterValidator(_start_time),
    Field(examples=["09:00"], json_schema_extra={"pattern": "^([01][0-9]|2[0-3]):[0-5][0-9]$"}),
]
EndTime = Annotated[
    str,
    AfterValidator(_end_time),
    Field(
        examples=["18:00", "24:00"], json_schema_extra={"pattern": "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"}
    ),
]
TimeZoneName = Annotated[str, AfterValidator(_timezone), Field(examples=["Europe/Paris"])]
CountryCode = Annotated[str, AfterValidator(_country), Field(examples=["FR"])]
HolidayName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class _Strict(Model):
    # Frozen: the answers below are computed from the fields, which must not change under them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Interval(_Strict):
    """Open from `start` to `end` (local wall clock), `end` excluded; `24:00` ends at midnight."""

    start: StartTime
    end: EndTime

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Interval:
        if _minutes(self.end) <= _minutes(self.start):
            raise PydanticCustomError(
                "interval_order", "must end after it starts: {interval}", {"interval": str(self)}
            )
        return self

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


def _sorted_without_overlap(intervals: list[Interval]) -> list[Interval]:
    def bounds(index: int) -> tuple[int, int]:
        return _minutes(intervals[index].start), _minutes(intervals[index].end)

    order = sorted(range(len(intervals)), key=bounds)
    problems: list[InitErrorDetails] = []
    latest: Interval | None = None  # of the intervals seen so far, the one ending last
    for index in order:
        interval = intervals[index]
        if latest is not None and _minutes(interval.start) < _minutes(latest.end):
            problems.append(
                InitErrorDetails(
                    type=PydanticCustomError(
                        "interval_overlap",
                        "{interval} overlaps {other}",
                        {"interval": str(interval), "other": str(latest)},
                    ),
                    loc=(index,),
                    input=interval.model_dump(),
                )
            )
        if latest is None or _minutes(interval.end) > _minutes(latest.end):
            latest = interval
    if problems:
        # Raised as a ValidationError so that each problem names its interval: ("days", "monday", 1).
        raise ValidationError.from_exception_data("Interval", problems)
    return [intervals[i] for i in order]


DayIntervals = Annotated[list[Interval], Field(max_length=48), AfterValidator(_sorted_without_overlap)]


class Days(_Strict):
    """Opening intervals per weekday, sorted; an empty list (the default) means closed that day."""

    monday: DayIntervals = []
    tuesday: DayIntervals = []
    wednesday: DayIntervals = []
    thursday: DayIntervals = []
    friday: DayIntervals = []
    saturday: DayIntervals = []
    sunday: DayIntervals = []


class Holiday(_Strict):
    date: dt.date
    name: HolidayName | None = None


class BusinessHours(_Strict):
    """An account's business hours; see the module docstring for what "open" means across DST."""

    timezone: TimeZoneName
    days: Days
    holidays: list[Holiday] = Field(default_factory=list, max_length=1000)
    holiday_country: CountryCode | None = None
    _memo: _CalendarMemo = PrivateAttr(default_factory=lambda: _CalendarMemo())

    @classmethod
    def always_open(cls, timezone: str = "UTC") -> BusinessHours:
        """Open all day every day: the hours of an account that has none configured."""
        whole_day = [Interval(start="00:00", end="24:00")]
        return cls(timezone=timezone, days=Days(**dict.fromkeys(WEEKDAYS, whole_day)))

    def is_open(self, t: dt.datetime) -> bool:
        """Whether `t` (aware) is inside business hours."""
        return self._calendar().is_open(_utc(t, "t"))

    def next_opening(self, t: dt.datetime) -> dt.datetime | None:
        """`t` in UTC if open at `t`, else the next instant the account opens; None if it does not
        open within `NEXT_OPENING_HORIZON` (no open day at all, or every open day a holiday)."""
        start = _utc(t, "t")
        calendar = self._calendar()
        for opens, _ in calendar.open_spans(start, start + NEXT_OPENING_HORIZON):
            return opens.replace(tzinfo=dt.UTC)
        return None

    def business_seconds_between(self, a: dt.datetime, b: dt.datetime) -> float:
        """Seconds of business hours in `[a, b)` (both aware); 0 when `b` is not after `a`."""
        start, end = _utc(a, "a"), _utc(b, "b")
        if end <= start:
            return 0.0
        spans = self._calendar().open_spans(start, end)
        return sum((closes - opens for opens, closes in spans), dt.timedelta()).total_seconds()

    def _calendar(self) -> _Calendar:
        # Building the calendar costs more than an `is_open` answer: keep the last one, rebuilt when
        # a field is no longer the object it was built from (a `model_copy(update=...)`).
        source = (self.timezone, self.days, self.holidays, self.holiday_country)
        memo = self._memo
        if memo.calendar is None or any(
            now is not then for now, then in zip(source, memo.source, strict=True)
        ):
            memo.source, memo.calendar = source, _Calendar.of(self)
        return memo.calendar


class _CalendarMemo:
    """The calendar last built for a `BusinessHours`: a cache, so never part of its equality."""

    def __init__(self) -> None:
        self.source: tuple[object, ...] = ()
        self.calendar: _Calendar | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CalendarMemo)

    __hash__ = object.__hash__


def _utc(t: dt.datetime, name: str) -> dt.datetime:
    """`t` as a naive UTC datetime, the form the calendar computes in."""
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {t.isoformat()}")
    return t.astimezone(dt.UTC).replace(tzinfo=None)


@functools.lru_cache(maxsize=512)
def _public_holidays(country: str, year: int) -> frozenset[dt.date]:
    import holidays  # see `_country`

    return frozenset(holidays.country_holidays(country, years=year))


@dataclass(frozen=True)
class _Calendar:
    """The schedule in computing form: intervals as offsets from local midnight, holidays as a set."""

    zone: ZoneInfo
    hours: tuple[tuple[tuple[dt.timedelta, dt.timedelta], ...], ...]  # per weekday: (opens, closes)
    holidays: frozenset[dt.date]
    country: str | None

    @classmethod
    def of(cls, business_hours: BusinessHours) -> _Calendar:
        days = business_hours.days
        return cls(
            zone=ZoneInfo(business_hours.timezone),
            hours=tuple(
                tuple(
                    (dt.timedelta(minutes=_minutes(i.start)), dt.timedelta(minutes=_minutes(i.end)))
                    for i in getattr(days, weekday)
                )
                for weekday in WEEKDAYS
            ),
            holidays=frozenset(h.date for h in business_hours.holidays),
            country=business_hours.holiday_country,
        )

    def is_holiday(self, day: dt.date) -> bool:
        return day in self.holidays or (
            self.country is not None and day in _public_holidays(self.country, day.year)
        )

    def is_open(self, utc: dt.datetime) -> bool:
        wall = utc + self.offset_at(utc)
        day = wall.date()
        since_midnight = wall - dt.datetime.combine(day, dt.time())
        hours = self.hours[day.weekday()]
        return any(opens <= since_midnight < closes for opens, closes in hours) and not self.is_holiday(day)

    def open_spans(self, start: dt.datetime, end: dt.datetime) -> Iterator[tuple[dt.datetime, dt.datetime]]:
        """The open parts of `[start, end)` (naive UTC), in order, as naive UTC `(opens, closes)`."""
        if not any(self.hours):
            return
        # Within a stretch of constant UTC offset, wall time is UTC shifted: map each day's intervals
        # back by that offset and clip them to the stretch. This is where gaps and overlaps resolve.
        for stretch_start, stretch_end, offset in self.offset_stretches(start, end):
            wall_start, wall_end = stretch_start + offset, stretch_end + offset
            day, last_day = wall_start.date(), (wall_end - _TICK).date()
            while day <= last_day:
                hours = self.hours[day.weekday()]
                if hours and not self.is_holiday(day):
                    midnight = dt.datetime.combine(day, dt.time())
                    for opens, closes in hours:
                        lo, hi = max(midnight + opens, wall_start), min(midnight + closes, wall_end)
                        if lo < hi:
                            yield lo - offset, hi - offset
                day += _DAY

    def offset_stretches(
        self, start: dt.datetime, end: dt.datetime
    ) -> Iterator[tuple[dt.datetime, dt.datetime, dt.timedelta]]:
        """`[start, end)` (naive UTC) cut where the zone's UTC offset changes: `(from, to, offset)`."""
        cursor, offset = start, self.offset_at(start)
        while cursor < end:
            # Probe a day at a time (no zone changes offset twice in a day), then bisect the change.
            probe_from = cursor
            while True:
                probe = min(probe_from + _DAY, end)
                if self.offset_at(probe) != offset:
                    change = self.first_change(probe_from, probe, offset)
                    break
                if probe == end:
                    change = end
                    break
                probe_from = probe
            yield cursor, change, offset
            cursor = change
            offset = self.offset_at(cursor)

    def first_change(self, lo: dt.datetime, hi: dt.datetime, offset: dt.timedelta) -> dt.datetime:
        """The instant in `(lo, hi]` where the offset stops being `offset` (it is at `lo`, not at `hi`)."""
        while hi - lo > _SECOND:
            middle = lo + (hi - lo) / 2
            if self.offset_at(middle) == offset:
                lo = middle
            else:
                hi = middle
        # Zone changes happen on whole seconds: the first whole second after `lo`.
        return min(lo.replace(microsecond=0) + _SECOND, hi)

    def offset_at(self, utc: dt.datetime) -> dt.timedelta:
        offset = self.zone.fromutc(utc.replace(tzinfo=self.zone)).utcoffset()
        assert offset is not None  # a ZoneInfo always knows its offset
        return offset
