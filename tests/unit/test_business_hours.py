from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from inbox.business_hours import WEEKDAYS, BusinessHours

PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")
HOUR = 3600.0
OFFICE_DAY = [{"start": "09:00", "end": "12:30"}, {"start": "14:00", "end": "18:00"}]
OFFICE_DAY_HOURS = 7.5


def business_hours(
    days: dict[str, list[dict[str, str]]],
    *,
    timezone: str = "Europe/Paris",
    holiday_dates: tuple[date, ...] = (),
    holiday_country: str | None = None,
) -> BusinessHours:
    return BusinessHours.model_validate(
        {
            "timezone": timezone,
            "days": days,
            "holidays": [{"date": d.isoformat()} for d in holiday_dates],
            "holiday_country": holiday_country,
        }
    )


def office(**overrides: Any) -> BusinessHours:
    """A Paris office open Monday to Friday, 09:00-12:30 and 14:00-18:00."""
    return business_hours(dict.fromkeys(WEEKDAYS[:5], OFFICE_DAY), **overrides)


def paris(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, us: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, us, tzinfo=PARIS)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def locations(error: ValidationError) -> list[tuple[int | str, ...]]:
    return [e["loc"] for e in error.errors()]


# --- Validation ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timezone",
    [
        "Mars/Olympus_Mons",
        "",
        "../../etc/passwd",
        "/etc/localtime",
        "Europe/../Paris",
        "America",
        "localtime",
        "europe/paris",
        " Europe/Paris",
    ],
)
def test_an_unknown_time_zone_is_refused(timezone: str) -> None:
    # Given hours in a time zone that is not an IANA name
    # When they are validated
    with pytest.raises(ValidationError) as raised:
        business_hours({}, timezone=timezone)
    # Then the time zone is named as the problem
    assert locations(raised.value) == [("timezone",)]
    assert "time zone" in raised.value.errors()[0]["msg"]


@pytest.mark.parametrize(
    ("interval", "field"),
    [
        ({"start": "9:00", "end": "12:00"}, "start"),
        ({"start": "09:60", "end": "12:00"}, "start"),
        ({"start": "24:00", "end": "24:00"}, "start"),
        ({"start": "09:00:00", "end": "12:00"}, "start"),
        ({"start": " 09:00", "end": "12:00"}, "start"),
        ({"start": "09:00", "end": "24:01"}, "end"),
        ({"start": "09:00", "end": "25:00"}, "end"),
        ({"start": "09:00", "end": "noon"}, "end"),
    ],
)
def test_a_time_not_written_hh_mm_is_refused(interval: dict[str, str], field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        business_hours({"monday": [interval]})
    assert locations(raised.value) == [("days", "monday", 0, field)]
    assert "HH:MM" in raised.value.errors()[0]["msg"]


@pytest.mark.parametrize(("start", "end"), [("10:00", "09:00"), ("09:00", "09:00"), ("09:00", "00:00")])
def test_an_interval_must_end_after_it_starts(start: str, end: str) -> None:
    with pytest.raises(ValidationError) as raised:
        business_hours({"tuesday": [{"start": start, "end": end}]})
    assert locations(raised.value) == [("days", "tuesday", 0)]
    assert raised.value.errors()[0]["msg"] == f"must end after it starts: {start}-{end}"


@pytest.mark.parametrize(
    ("intervals", "index"),
    [
        ([("09:00", "12:00"), ("11:00", "14:00")], 1),  # overlapping
        ([("09:00", "12:00"), ("09:00", "12:00")], 1),  # the same twice
        ([("09:00", "18:00"), ("10:00", "11:00")], 1),  # one inside the other
        ([("09:00", "18:00"), ("10:00", "11:00"), ("12:00", "13:00")], 1),
        ([("11:00", "14:00"), ("09:00", "12:00")], 0),  # unsorted: the one starting later is named
    ],
)
def test_overlapping_intervals_on_a_day_are_refused(intervals: list[tuple[str, str]], index: int) -> None:
    with pytest.raises(ValidationError) as raised:
        business_hours({"monday": [{"start": s, "end": e} for s, e in intervals]})
    assert locations(raised.value)[0] == ("days", "monday", index)
    assert "overlaps" in raised.value.errors()[0]["msg"]


def test_adjacent_intervals_do_not_overlap() -> None:
    hours = business_hours(
        {"monday": [{"start": "09:00", "end": "12:00"}, {"start": "12:00", "end": "14:00"}]}
    )
    assert len(hours.days.monday) == 2


def test_unsorted_intervals_are_stored_sorted() -> None:
    hours = business_hours(
        {"friday": [{"start": "14:00", "end": "18:00"}, {"start": "09:00", "end": "12:30"}]}
    )
    assert [(i.start, i.end) for i in hours.days.friday] == [("09:00", "12:30"), ("14:00", "18:00")]


def test_a_day_left_out_is_closed_and_an_unknown_day_is_refused() -> None:
    assert business_hours({"monday": OFFICE_DAY}).days.sunday == []
    with pytest.raises(ValidationError) as raised:
        business_hours({"funday": OFFICE_DAY})
    assert locations(raised.value) == [("days", "funday")]


@pytest.mark.parametrize("country", ["XX", "France", "", "F1"])
def test_an_unknown_holiday_country_is_refused(country: str) -> None:
    with pytest.raises(ValidationError) as raised:
        office(holiday_country=country)
    assert locations(raised.value) == [("holiday_country",)]
    assert "country" in raised.value.errors()[0]["msg"]


def test_a_holiday_country_is_stored_in_capitals() -> None:
    assert office(holiday_country="fr").holiday_country == "FR"


def test_a_holiday_must_be_a_date_and_no_other_field_is_accepted() -> None:
    with pytest.raises(ValidationError) as raised:
        BusinessHours.model_validate(
            {"timezone": "UTC", "days": {}, "holidays": [{"date": "2026-02-30"}], "open": True}
        )
    assert sorted(locations(raised.value), key=str) == [("holidays", 0, "date"), ("open",)]


def test_business_hours_read_and_write_the_shape_of_the_contract() -> None:
    # Given the body of a PUT /v1/accounts/{id}/business-hours
    body = {
        "timezone": "Europe/Paris",
        "days": {
            "monday": [{"start": "09:00", "end": "18:00"}],
            "tuesday": [],
            "wednesday": [],
            "thursday": [],
            "friday": [{"start": "20:00", "end": "24:00"}],
            "saturday": [],
            "sunday": [],
        },
        "holidays": [{"date": "2026-12-25", "name": "Christmas"}],
        "holiday_country": "FR",
    }
    # When it is validated and written back
    # Then it is unchanged
    assert BusinessHours.model_validate(body).model_dump(mode="json") == body


def test_an_account_without_hours_is_always_open() -> None:
    hours = BusinessHours.always_open()
    assert hours.timezone == "UTC"
    assert all(getattr(hours.days, d)[0].model_dump() == {"start": "00:00", "end": "24:00"} for d in WEEKDAYS)
    assert hours.business_seconds_between(utc(2026, 1, 1), utc(2026, 1, 8)) == 7 * 24 * HOUR


# --- Is it open? --------------------------------------------------------------------------------


def test_a_weekday_is_open_during_its_intervals_only() -> None:
    # Given a Paris office; Monday 2026-01-05
    hours = office()
    # Then it is open from 09:00, closed for lunch, open again until 18:00 (excluded)
    assert not hours.is_open(paris(2026, 1, 5, 8, 59, 59))
    assert hours.is_open(paris(2026, 1, 5, 9, 0))
    assert not hours.is_open(paris(2026, 1, 5, 12, 30))
    assert hours.is_open(paris(2026, 1, 5, 17, 59, 59, 999999))
    assert not hours.is_open(paris(2026, 1, 5, 18, 0))


def test_a_day_without_intervals_is_closed() -> None:
    assert not office().is_open(paris(2026, 1, 4, 10, 0))  # a Sunday


def test_the_question_may_be_asked_in_any_time_zone() -> None:
    # 10:00 in Paris is 04:00 in New York and 09:00 UTC (winter)
    hours = office()
    assert hours.is_open(datetime(2026, 1, 5, 4, 0, tzinfo=NEW_YORK))
    assert hours.is_open(utc(2026, 1, 5, 9, 0))
    assert not hours.is_open(utc(2026, 1, 5, 7, 59))


def test_an_explicit_holiday_is_closed_all_day() -> None:
    hours = office(holiday_dates=(date(2026, 1, 6),))
    assert hours.is_open(paris(2026, 1, 5, 10, 0))
    assert not hours.is_open(paris(2026, 1, 6, 10, 0))


@pytest.mark.parametrize("day", [date(2026, 7, 14), date(2026, 12, 25), date(2026, 5, 1)])
def test_the_public_holidays_of_the_holiday_country_are_closed(day: date) -> None:
    moment = paris(day.year, day.month, day.day, 10, 0)
    assert office().is_open(moment)
    assert not office(holiday_country="FR").is_open(moment)


def test_naive_datetimes_are_refused() -> None:
    hours = office()
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.is_open(datetime(2026, 1, 5, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.next_opening(datetime(2026, 1, 5, 10, 0))
    with pytest.raises(ValueError, match="timezone-aware"):
        hours.business_seconds_between(paris(2026, 1, 5), datetime(2026, 1, 6))


# --- Next opening -------------------------------------------------------------------------------


def test_when_open_the_next_opening_is_now_in_utc() -> None:
    opening = office().next_opening(paris(2026, 1, 5, 10, 15))
    assert opening == utc(2026, 1, 5, 9, 15)
    assert opening is not None
    assert opening.tzinfo is UTC


def test_the_next_opening_after_lunch_is_the_afternoon() -> None:
    assert office().next_opening(paris(2026, 1, 5, 12, 45)) == paris(2026, 1, 5, 14, 0)


def test_the_next_opening_on_a_friday_evening_is_monday_morning() -> None:
    assert office().next_opening(paris(2026, 1, 9, 19, 0)) == paris(2026, 1, 12, 9, 0)


def test_the_next_opening_skips_holidays() -> None:
    # Given Thursday 2026-12-24 evening, Christmas (FR) on the Friday, then the weekend
    hours = office(holiday_country="FR")
    # Then the office next opens on Monday the 28th
    assert hours.next_opening(paris(2026, 12, 24, 19, 0)) == paris(2026, 12, 28, 9, 0)


def test_hours_that_never_open_have_no_next_opening() -> None:
    assert business_hours({}).next_opening(paris(2026, 1, 5)) is None


# --- Business seconds ---------------------------------------------------------------------------


def test_a_week_of_an_office_is_five_office_days() -> None:
    assert (
        office().business_seconds_between(paris(2026, 1, 5), paris(2026, 1, 12))
        == 5 * OFFICE_DAY_HOURS * HOUR
    )


def test_part_of_a_day_counts_only_the_open_part() -> None:
    # 10:00-12:30 and 14:00-15:00
    assert office().business_seconds_between(paris(2026, 1, 5, 10), paris(2026, 1, 5, 15)) == 3.5 * HOUR


def test_a_week_with_a_public_holiday_has_one_day_less() -> None:
    hours = office(holiday_country="FR")
    assert (
        hours.business_seconds_between(paris(2026, 7, 13), paris(2026, 7, 20)) == 4 * OFFICE_DAY_HOURS * HOUR
    )


def test_no_business_time_passes_backwards() -> None:
    assert office().business_seconds_between(paris(2026, 1, 6), paris(2026, 1, 5)) == 0.0
    assert office().business_seconds_between(paris(2026, 1, 5, 10), paris(2026, 1, 5, 10)) == 0.0


def test_a_week_across_the_spring_change_is_still_five_office_days() -> None:
    # Given the week of Sunday 2026-03-29, when Paris moves from UTC+1 to UTC+2
    hours = office()
    assert (
        hours.business_seconds_between(paris(2026, 3, 23), paris(2026, 4, 6)) == 10 * OFFICE_DAY_HOURS * HOUR
    )
    # And Monday opens at 09:00 Paris time, now 07:00 UTC
    assert hours.next_opening(paris(2026, 3, 28)) == utc(2026, 3, 30, 7, 0)


@pytest.mark.parametrize(
    ("timezone", "spring", "autumn"),
    [
        ("Europe/Paris", date(2026, 3, 29), date(2026, 10, 25)),
        ("America/New_York", date(2026, 3, 8), date(2026, 11, 1)),
    ],
)
def test_a_whole_day_lasts_23_hours_in_spring_and_25_in_autumn(
    timezone: str, spring: date, autumn: date
) -> None:
    hours = BusinessHours.always_open(timezone)
    zone = ZoneInfo(timezone)

    def day_length(day: date) -> float:
        midnight = datetime(day.year, day.month, day.day, tzinfo=zone)
        return hours.business_seconds_between(midnight, midnight + timedelta(days=1)) / HOUR

    assert (day_length(spring), day_length(autumn), day_length(spring - timedelta(days=1))) == (23, 25, 24)


def test_wall_times_skipped_in_spring_are_never_open() -> None:
    # Given a Sunday shift 01:00-04:00 in Paris; on 2026-03-29 the clocks jump from 02:00 to 03:00
    hours = business_hours({"sunday": [{"start": "01:00", "end": "04:00"}]})
    # Then the shift lasts two hours that day, three the Sunday before
    assert hours.business_seconds_between(paris(2026, 3, 29), paris(2026, 3, 30)) == 2 * HOUR
    assert hours.business_seconds_between(paris(2026, 3, 22), paris(2026, 3, 23)) == 3 * HOUR


def test_an_interval_starting_in_the_spring_gap_opens_just_after_it() -> None:
    # Given a Sunday shift 02:30-04:00 in Paris; 02:30 does not exist on 2026-03-29
    hours = business_hours({"sunday": [{"start": "02:30", "end": "04:00"}]})
    # When asked at 01:00 (00:00 UTC)
    # Then it opens at 03:00 CEST, 01:00 UTC, the first instant after the gap
    assert hours.next_opening(utc(2026, 3, 29, 0, 0)) == utc(2026, 3, 29, 1, 0)
    assert hours.business_seconds_between(paris(2026, 3, 29), paris(2026, 3, 30)) == 1 * HOUR


def test_wall_times_repeated_in_autumn_are_open_both_times() -> None:
    # Given a Sunday shift 02:00-02:30 in Paris; on 2026-10-25 the clocks go from 03:00 back to 02:00
    hours = business_hours({"sunday": [{"start": "02:00", "end": "02:30"}]})
    # Then it is open 02:00-02:30 summer time (00:00-00:30 UTC), and again in winter time (01:00-01:30 UTC)
    assert [hours.is_open(utc(2026, 10, 25, 0, m)) for m in (0, 29, 30, 59)] == [True, True, False, False]
    assert [hours.is_open(utc(2026, 10, 25, 1, m)) for m in (0, 29, 30)] == [True, True, False]
    assert hours.next_opening(utc(2026, 10, 25, 0, 45)) == utc(2026, 10, 25, 1, 0)
    assert hours.business_seconds_between(paris(2026, 10, 25), paris(2026, 10, 26)) == 1 * HOUR


def test_new_york_office_hours_follow_the_local_clock_across_dst() -> None:
    # Given 09:00-17:00 on weekdays in New York; DST starts Sunday 2026-03-08
    hours = business_hours(
        {day: [{"start": "09:00", "end": "17:00"}] for day in WEEKDAYS[:5]}, timezone="America/New_York"
    )
    # Then Friday opens at 14:00 UTC (EST) and Monday at 13:00 UTC (EDT)
    assert hours.next_opening(utc(2026, 3, 6, 0, 0)) == utc(2026, 3, 6, 14, 0)
    assert hours.next_opening(utc(2026, 3, 7, 0, 0)) == utc(2026, 3, 9, 13, 0)
    assert hours.business_seconds_between(utc(2026, 3, 2), utc(2026, 3, 16)) == 10 * 8 * HOUR


def test_an_interval_ending_at_24_00_runs_to_midnight() -> None:
    # Given Monday 18:00-24:00 and Tuesday 00:00-02:00
    hours = business_hours(
        {"monday": [{"start": "18:00", "end": "24:00"}], "tuesday": [{"start": "00:00", "end": "02:00"}]}
    )
    # Then it is open through midnight, and eight hours pass from Monday 17:00 to Tuesday 03:00
    assert hours.is_open(paris(2026, 1, 5, 23, 59, 59, 999999))
    assert hours.is_open(paris(2026, 1, 6, 0, 0))
    assert not hours.is_open(paris(2026, 1, 6, 2, 0))
    assert hours.next_opening(paris(2026, 1, 5, 23, 30)) == paris(2026, 1, 5, 23, 30)
    assert hours.business_seconds_between(paris(2026, 1, 5, 17), paris(2026, 1, 6, 3)) == 8 * HOUR


def test_an_interval_ending_at_24_00_stops_at_midnight_when_the_next_day_is_closed() -> None:
    hours = business_hours({"monday": [{"start": "18:00", "end": "24:00"}]})
    assert not hours.is_open(paris(2026, 1, 6, 0, 0))
    assert hours.next_opening(paris(2026, 1, 6, 0, 0)) == paris(2026, 1, 12, 18, 0)


# --- Properties against a minute-by-minute oracle -----------------------------------------------
#
# Schedules on whole minutes, instants on whole minutes: every boundary of the open set then falls
# on a whole minute, so the open seconds are exactly 60 times the minutes open at their start.

# Time zones, each with the days it changes its clocks in 2024-2027 (none for the last three), so that
# windows often contain a change.
DST_DAYS = {
    "Europe/Paris": [
        *(date(2024, 3, 31), date(2024, 10, 27), date(2025, 3, 30), date(2025, 10, 26)),
        *(date(2026, 3, 29), date(2026, 10, 25), date(2027, 3, 28), date(2027, 10, 31)),
    ],
    "America/New_York": [
        *(date(2024, 3, 10), date(2024, 11, 3), date(2025, 3, 9), date(2025, 11, 2)),
        *(date(2026, 3, 8), date(2026, 11, 1), date(2027, 3, 14), date(2027, 11, 7)),
    ],
    "Australia/Sydney": [
        *(date(2024, 4, 7), date(2024, 10, 6), date(2025, 4, 6), date(2025, 10, 5)),
        *(date(2026, 4, 5), date(2026, 10, 4), date(2027, 4, 4), date(2027, 10, 3)),
    ],
    "Asia/Kolkata": [],
    "UTC": [],
    "America/Sao_Paulo": [],
}
# Minutes of the day around which clocks change (00:00, 02:00, 02:30, 03:00) and the day's end.
EDGE_MINUTES = [0, 1, 59, 60, 119, 120, 121, 150, 179, 180, 181, 1439, 1440]


@dataclass(frozen=True)
class Case:
    """A schedule and three instants `a <= b <= c`, on whole minutes, within about ten days."""

    body: dict[str, Any]
    zone: ZoneInfo
    a: datetime
    b: datetime
    c: datetime

    @property
    def hours(self) -> BusinessHours:
        return BusinessHours.model_validate(self.body)


class Oracle:
    """Decides openness the plain way: the local wall clock of the instant, minute by minute."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.zone = ZoneInfo(body["timezone"])
        self.days = {
            day: [(self.minute_of(i["start"]), self.minute_of(i["end"])) for i in intervals]
            for day, intervals in body["days"].items()
        }
        self.holidays = {date.fromisoformat(h["date"]) for h in body["holidays"]}
        if body["holiday_country"]:
            self.holidays |= set(holidays.country_holidays(body["holiday_country"], years=range(2023, 2030)))

    @staticmethod
    def minute_of(clock: str) -> int:
        return int(clock[:2]) * 60 + int(clock[3:])

    def is_open(self, t: datetime) -> bool:
        local = t.astimezone(self.zone)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.days.get(WEEKDAYS[local.weekday()], []))

    def open_seconds(self, a: datetime, b: datetime) -> float:
        minutes = int((b - a).total_seconds()) // 60
        return 60.0 * sum(self.is_open(a + timedelta(minutes=m)) for m in range(minutes))

    def next_opening(self, t: datetime, limit: datetime) -> datetime | None:
        while t < limit:
            if self.is_open(t):
                return t
            t += timedelta(minutes=1)
        return None


@st.composite
def day_intervals(draw: st.DrawFn) -> list[dict[str, str]]:
    """Non-overlapping intervals on whole minutes (sometimes adjacent), in any order."""
    bounds = sorted(
        draw(st.lists(st.one_of(st.sampled_from(EDGE_MINUTES), st.integers(0, 1440)), min_size=2, max_size=8))
    )
    intervals: list[tuple[int, int]] = []
    for start, end in zip(bounds[::2], bounds[1::2], strict=False):
        if start < end and (not intervals or start >= intervals[-1][1]):
            intervals.append((start, end))
    clocks = [
        {"start": f"{s // 60:02d}:{s % 60:02d}", "end": f"{e // 60:02d}:{e % 60:02d}"} for s, e in intervals
    ]
    return draw(st.permutations(clocks))


# Drawn as days and minutes of the day: spread over the window, where one integer would stay small.
minutes_in_window = st.builds(
    lambda days, minutes: days * 1440 + minutes, st.integers(0, 9), st.integers(0, 1439)
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    # Zones with clock changes twice as often, and then their change days twice as often as any day
    timezone = draw(st.sampled_from([*DST_DAYS, *(zone for zone, days in DST_DAYS.items() if days)]))
    any_day = st.dates(date(2024, 1, 1), date(2027, 12, 20))
    change_day = st.sampled_from(DST_DAYS[timezone] or [date(2026, 1, 1)])
    around = draw(st.one_of(change_day, change_day, any_day) if DST_DAYS[timezone] else any_day)
    days_before = draw(st.integers(0, 9))
    first_day = around - timedelta(days=days_before)
    open_days = [day for day in WEEKDAYS if draw(st.booleans())]
    body = {
        "timezone": timezone,
        "days": {day: draw(day_intervals()) for day in open_days},
        "holidays": [
            {"date": (first_day + timedelta(days=d)).isoformat()}
            for d in draw(st.lists(st.integers(-1, 11), max_size=3))
        ],
        "holiday_country": draw(st.sampled_from([None, "FR", "US"])),
    }
    window_start = datetime(first_day.year, first_day.month, first_day.day, tzinfo=UTC)
    # Anywhere in the window, or within a day of the (UTC) midnight starting the change day
    near_change = st.integers(-1440, 1440).map(lambda m: max(0, days_before * 1440 + m))
    minutes = sorted(draw(st.one_of(minutes_in_window, near_change)) for _ in range(3))
    a, b, c = (window_start + timedelta(minutes=m) for m in minutes)
    return Case(body, ZoneInfo(timezone), a, b, c)


PROPERTY = settings(max_examples=200, deadline=None)


@PROPERTY
@given(cases())
def test_business_seconds_are_the_minutes_the_oracle_finds_open(case: Case) -> None:
    oracle = Oracle(case.body)
    assert case.hours.business_seconds_between(case.a, case.b) == oracle.open_seconds(case.a, case.b)
    assert case.hours.business_seconds_between(case.b, case.c) == oracle.open_seconds(case.b, case.c)


@PROPERTY
@given(cases(), st.integers(0, 59_999_999))
def test_is_open_agrees_with_the_oracle(case: Case, within_minute: int) -> None:
    # Any instant within a minute is open like the minute's start; asked in the schedule's own zone
    asked = (case.a + timedelta(microseconds=within_minute)).astimezone(case.zone)
    assert case.hours.is_open(asked) == Oracle(case.body).is_open(case.a)


@PROPERTY
@given(cases())
def test_is_open_at_the_edges_of_intervals_agrees_with_the_oracle(case: Case) -> None:
    # Given each local date of the window, and each start and end of its intervals (both
    # occurrences of a repeated wall time, the instant after a skipped one), and a minute before each
    hours, oracle = case.hours, Oracle(case.body)
    first = case.a.astimezone(case.zone).date()
    for day in (first + timedelta(days=n) for n in range(10)):
        for start, end in oracle.days.get(WEEKDAYS[day.weekday()], []):
            for minute in (start, end):
                for fold in (0, 1):
                    wall = datetime(day.year, day.month, day.day, tzinfo=case.zone, fold=fold)
                    edge = (wall.replace(tzinfo=None) + timedelta(minutes=minute)).replace(
                        tzinfo=case.zone, fold=fold
                    )
                    for t in (edge.astimezone(UTC), edge.astimezone(UTC) - timedelta(minutes=1)):
                        # Then it is open exactly when the oracle says so
                        assert hours.is_open(t) == oracle.is_open(t), t


@PROPERTY
@given(cases())
def test_the_next_opening_is_the_first_minute_the_oracle_finds_open(case: Case) -> None:
    t, limit = case.a, case.a + timedelta(days=10)
    expected = Oracle(case.body).next_opening(t, limit)
    opening = case.hours.next_opening(t)
    if expected is None:
        assert opening is None or opening >= limit
    else:
        assert opening == expected
        assert opening is not None
        assert opening.tzinfo is UTC


@PROPERTY
@given(cases(), st.lists(st.integers(0, 59), min_size=3, max_size=3))
def test_business_seconds_add_up(case: Case, seconds: list[int]) -> None:
    # Moved by whole seconds, so that the sums of floats stay exact
    a, b, c = sorted(t + timedelta(seconds=s) for t, s in zip((case.a, case.b, case.c), seconds, strict=True))
    hours = case.hours
    assert hours.business_seconds_between(a, b) + hours.business_seconds_between(b, c) == (
        hours.business_seconds_between(a, c)
    )
