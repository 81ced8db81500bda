"""Tests for business-hours arithmetic (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from amends.policies.business_hours import (
    BusinessCalendar,
    add_business_time,
    business_time_between,
)

NEW_YORK = ZoneInfo("America/New_York")
LONDON = ZoneInfo("Europe/London")
WORKDAYS = ("mon", "tue", "wed", "thu", "fri")

# 2026-01-05 is a Monday; 2026-01-09 a Friday; 2026-01-12 the following Monday.
NINE_TO_FIVE = BusinessCalendar.from_spec(
    timezone="UTC", hours={day: [["09:00", "17:00"]] for day in WORKDAYS}
)
NINE_TO_FIVE_WITH_HOLIDAY = BusinessCalendar.from_spec(
    timezone="UTC",
    hours={day: [["09:00", "17:00"]] for day in WORKDAYS},
    holidays=["2026-01-12"],
)
LUNCH_BREAK = BusinessCalendar.from_spec(
    timezone="UTC", hours={day: [["09:00", "12:00"], ["13:00", "17:00"]] for day in WORKDAYS}
)
NEW_YORK_OFFICE = BusinessCalendar.from_spec(
    timezone="America/New_York", hours={day: [["09:00", "17:00"]] for day in WORKDAYS}
)
LONDON_OFFICE = BusinessCalendar.from_spec(
    timezone="Europe/London", hours={day: [["09:00", "17:00"]] for day in WORKDAYS}
)
# US DST: spring forward 2026-03-08 02:00, fall back 2026-11-01 02:00 (both Sundays).
NEW_YORK_SUNDAYS = BusinessCalendar.from_spec(
    timezone="America/New_York", hours={"sun": [["00:00", "24:00"]]}
)
# 01:00-04:00 on Sundays: the 2026-03-08 02:00 spring-forward gap falls inside the interval.
NEW_YORK_EARLY_SUNDAYS = BusinessCalendar.from_spec(
    timezone="America/New_York", hours={"sun": [["01:00", "04:00"]]}
)
# UK DST: spring forward 2026-03-29 01:00 GMT, fall back 2026-10-25 02:00 BST (both Sundays).
LONDON_SUNDAYS = BusinessCalendar.from_spec(
    timezone="Europe/London", hours={"sun": [["00:00", "24:00"]]}
)
# A messy calendar for cross-checking: DST zone, split days, weekend hours, scattered holidays.
NEW_YORK_MIXED = BusinessCalendar.from_spec(
    timezone="America/New_York",
    hours={
        **{day: [["08:30", "12:00"], ["13:00", "17:30"]] for day in WORKDAYS},
        "sat": [["10:00", "14:00"]],
        "sun": [["00:00", "03:30"], ["22:00", "24:00"]],
    },
    holidays=[
        "2026-01-01",
        "2026-01-19",
        "2026-03-08",
        "2026-05-25",
        "2026-07-03",
        "2026-09-07",
        "2026-11-01",
        "2026-11-26",
        "2026-12-25",
        "2027-01-01",
        "2027-03-14",
        "2027-07-05",
        "2027-11-25",
        "2027-12-24",
        "2028-03-12",
        "2028-11-05",
    ],
)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def add(calendar: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    return add_business_time(calendar=calendar, start=start, delta=delta)


def between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    return business_time_between(calendar=calendar, start=start, end=end)


def reference_add(calendar: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    """Naive day-by-day walk used as an oracle (assumes delta > 0 and no DST-gap overlaps)."""
    start = start.astimezone(UTC)
    remaining = delta
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    while True:
        if day not in calendar.holidays:
            for opens_at, closes_at in calendar.hours.get(day.weekday(), ()):
                opens = datetime.combine(day, opens_at, tzinfo=calendar.tz).astimezone(UTC)
                close_day = day + timedelta(days=1) if closes_at == time(0) else day
                closes = datetime.combine(close_day, closes_at, tzinfo=calendar.tz).astimezone(UTC)
                opens = max(opens, start)
                if closes > opens:
                    if remaining <= closes - opens:
                        return opens + remaining
                    remaining -= closes - opens
        day += timedelta(days=1)


def reference_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Naive day-by-day sum of interval overlaps with [start, end)."""
    total = timedelta(0)
    day = start.astimezone(calendar.tz).date() - timedelta(days=1)
    while day <= end.astimezone(calendar.tz).date():
        if day not in calendar.holidays:
            for opens_at, closes_at in calendar.hours.get(day.weekday(), ()):
                opens = datetime.combine(day, opens_at, tzinfo=calendar.tz).astimezone(UTC)
                close_day = day + timedelta(days=1) if closes_at == time(0) else day
                closes = datetime.combine(close_day, closes_at, tzinfo=calendar.tz).astimezone(UTC)
                total += max(timedelta(0), min(closes, end) - max(opens, start))
        day += timedelta(days=1)
    return total


# --- 24x7 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        (utc(2026, 1, 10, 12), timedelta(hours=2), utc(2026, 1, 10, 14)),
        (utc(2026, 1, 10, 23, 30), timedelta(minutes=45), utc(2026, 1, 11, 0, 15)),
        (utc(2026, 3, 1), timedelta(days=400, minutes=1), utc(2027, 4, 5, 0, 1)),
        (
            datetime(2026, 6, 1, 9, tzinfo=NEW_YORK),  # EDT, UTC-4
            timedelta(hours=3),
            utc(2026, 6, 1, 16),
        ),
    ],
)
def test_add_business_time_on_always_open_calendar_is_plain_addition(
    start: datetime, delta: timedelta, expected: datetime
) -> None:
    result = add(BusinessCalendar.always_open(), start, delta)

    assert result == expected
    assert result.tzinfo is UTC


def test_add_business_time_on_always_open_london_calendar_crosses_dst_in_real_time() -> None:
    # Sat 2026-03-28 12:00 GMT + 24h lands on Sunday 13:00 BST, i.e. still 12:00 UTC.
    start = datetime(2026, 3, 28, 12, tzinfo=LONDON)

    result = add(BusinessCalendar.always_open("Europe/London"), start, timedelta(hours=24))

    assert result == utc(2026, 3, 29, 12)
    assert result.astimezone(LONDON).hour == 13


# --- Weekdays 09:00-17:00 -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        pytest.param(utc(2026, 1, 5, 10), timedelta(hours=3), utc(2026, 1, 5, 13), id="inside"),
        pytest.param(
            utc(2026, 1, 5, 9), timedelta(hours=8), utc(2026, 1, 5, 17), id="ends-at-closing"
        ),
        pytest.param(
            utc(2026, 1, 5, 16), timedelta(hours=3), utc(2026, 1, 6, 11), id="spills-overnight"
        ),
        pytest.param(
            utc(2026, 1, 5, 7, 30), timedelta(hours=1), utc(2026, 1, 5, 10), id="before-opening"
        ),
        pytest.param(
            utc(2026, 1, 5, 18), timedelta(hours=1), utc(2026, 1, 6, 10), id="after-closing"
        ),
        pytest.param(
            utc(2026, 1, 5, 17), timedelta(minutes=1), utc(2026, 1, 6, 9, 1), id="at-closing"
        ),
        pytest.param(
            utc(2026, 1, 9, 16), timedelta(hours=2), utc(2026, 1, 12, 10), id="friday-to-monday"
        ),
        pytest.param(
            utc(2026, 1, 10, 12), timedelta(minutes=30), utc(2026, 1, 12, 9, 30), id="saturday"
        ),
        pytest.param(
            utc(2026, 1, 5, 9), timedelta(hours=40), utc(2026, 1, 9, 17), id="exactly-one-week"
        ),
        pytest.param(
            utc(2026, 1, 5, 9), timedelta(hours=41), utc(2026, 1, 12, 10), id="one-week-and-hour"
        ),
    ],
)
def test_add_business_time_on_weekday_calendar_returns_expected_instant(
    start: datetime, delta: timedelta, expected: datetime
) -> None:
    assert add(NINE_TO_FIVE, start, delta) == expected


def test_add_business_time_with_zero_delta_returns_start_even_when_closed() -> None:
    saturday = datetime(2026, 1, 10, 12, tzinfo=NEW_YORK)

    result = add(NINE_TO_FIVE, saturday, timedelta(0))

    assert result == saturday
    assert result.tzinfo is UTC


def test_add_business_time_skips_a_monday_holiday_to_tuesday() -> None:
    result = add(NINE_TO_FIVE_WITH_HOLIDAY, utc(2026, 1, 9, 16), timedelta(hours=2))

    assert result == utc(2026, 1, 13, 10)


def test_add_business_time_skips_a_holiday_inside_an_otherwise_skippable_week() -> None:
    calendar = BusinessCalendar.from_spec(
        timezone="UTC",
        hours={day: [["09:00", "17:00"]] for day in WORKDAYS},
        holidays=[date(2026, 1, 14)],  # Wednesday of the second week
    )

    # Three full weeks of work starting Monday 2026-01-05 need one extra day for the holiday.
    result = add(calendar, utc(2026, 1, 5, 9), timedelta(hours=120))

    assert result == utc(2026, 1, 26, 17)


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        pytest.param(utc(2026, 1, 5, 11), timedelta(hours=2), utc(2026, 1, 5, 14), id="over-lunch"),
        pytest.param(
            utc(2026, 1, 5, 12, 30), timedelta(hours=1), utc(2026, 1, 5, 14), id="during-lunch"
        ),
        pytest.param(
            utc(2026, 1, 5, 9), timedelta(hours=3), utc(2026, 1, 5, 12), id="morning-exactly"
        ),
        pytest.param(
            utc(2026, 1, 5, 16), timedelta(hours=2), utc(2026, 1, 6, 10), id="into-next-day"
        ),
        pytest.param(
            utc(2026, 1, 9, 11), timedelta(hours=6), utc(2026, 1, 12, 10), id="over-weekend"
        ),
    ],
)
def test_add_business_time_with_lunch_break_skips_the_break(
    start: datetime, delta: timedelta, expected: datetime
) -> None:
    assert add(LUNCH_BREAK, start, delta) == expected


# --- Time zones and DST -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        # Winter, EST (UTC-5): Fri 16:00 + 2h -> Mon 10:00 EST.
        (datetime(2026, 1, 9, 16, tzinfo=NEW_YORK), timedelta(hours=2), utc(2026, 1, 12, 15)),
        # Summer, EDT (UTC-4): Fri 16:00 + 2h -> Mon 10:00 EDT.
        (datetime(2026, 7, 10, 16, tzinfo=NEW_YORK), timedelta(hours=2), utc(2026, 7, 13, 14)),
        # Start given in UTC (Sat 03:00 UTC = Fri 22:00 EST): counting starts Mon 09:00 EST.
        (utc(2026, 1, 10, 3), timedelta(hours=1), utc(2026, 1, 12, 15)),
        # Across the spring-forward weekend: Fri 16:00 EST + 2h -> Mon 10:00 EDT.
        (datetime(2026, 3, 6, 16, tzinfo=NEW_YORK), timedelta(hours=2), utc(2026, 3, 9, 14)),
    ],
)
def test_add_business_time_in_new_york_returns_utc(
    start: datetime, delta: timedelta, expected: datetime
) -> None:
    result = add(NEW_YORK_OFFICE, start, delta)

    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("start", "delta", "expected"),
    [
        # Fri 16:00 GMT + 2h -> Mon 10:00 BST (clocks went forward on Sunday 2026-03-29).
        (datetime(2026, 3, 27, 16, tzinfo=LONDON), timedelta(hours=2), utc(2026, 3, 30, 9)),
        # Fri 16:00 BST + 2h -> Mon 10:00 GMT (clocks went back on Sunday 2026-10-25).
        (datetime(2026, 10, 23, 16, tzinfo=LONDON), timedelta(hours=2), utc(2026, 10, 26, 10)),
    ],
)
def test_add_business_time_in_london_across_dst_weekend_returns_utc(
    start: datetime, delta: timedelta, expected: datetime
) -> None:
    result = add(LONDON_OFFICE, start, delta)

    assert result == expected
    assert result.tzinfo is UTC


@pytest.mark.parametrize(
    ("calendar", "start", "delta", "expected"),
    [
        # 2026-03-08 00:00 EST = 05:00Z; that Sunday only lasts 23 real hours.
        pytest.param(
            NEW_YORK_SUNDAYS,
            utc(2026, 3, 8, 5),
            timedelta(hours=23),
            utc(2026, 3, 9, 4),
            id="ny-spring-day-is-23h",
        ),
        # The 24th hour spills into the next Sunday (00:00 EDT = 04:00Z).
        pytest.param(
            NEW_YORK_SUNDAYS,
            utc(2026, 3, 8, 5),
            timedelta(hours=24),
            utc(2026, 3, 15, 5),
            id="ny-spring-24th-hour-next-week",
        ),
        # 2026-11-01 00:00 EDT = 04:00Z; that Sunday lasts 25 real hours.
        pytest.param(
            NEW_YORK_SUNDAYS,
            utc(2026, 11, 1, 4),
            timedelta(hours=25),
            utc(2026, 11, 2, 5),
            id="ny-fall-day-is-25h",
        ),
        # 01:00-04:00 local spans the gap: 01:00 EST = 06:00Z to 04:00 EDT = 08:00Z, only 2h.
        pytest.param(
            NEW_YORK_EARLY_SUNDAYS,
            utc(2026, 3, 8, 6),
            timedelta(hours=3),
            utc(2026, 3, 15, 6),
            id="ny-gap-inside-interval",
        ),
        # 2026-03-29 00:00 GMT = 00:00Z; the day ends at 00:00 BST = 23:00Z.
        pytest.param(
            LONDON_SUNDAYS,
            utc(2026, 3, 29),
            timedelta(hours=23, minutes=30),
            utc(2026, 4, 4, 23, 30),
            id="london-spring-day-is-23h",
        ),
        pytest.param(
            LONDON_SUNDAYS,
            utc(2026, 10, 24, 23),
            timedelta(hours=25),
            utc(2026, 10, 26),
            id="london-fall-day-is-25h",
        ),
    ],
)
def test_add_business_time_across_dst_transition_counts_real_elapsed_time(
    calendar: BusinessCalendar, start: datetime, delta: timedelta, expected: datetime
) -> None:
    assert add(calendar, start, delta) == expected


@pytest.mark.parametrize(
    ("calendar", "day", "expected"),
    [
        (NEW_YORK_SUNDAYS, date(2026, 3, 8), timedelta(hours=23)),
        (NEW_YORK_SUNDAYS, date(2026, 3, 15), timedelta(hours=24)),
        (NEW_YORK_SUNDAYS, date(2026, 11, 1), timedelta(hours=25)),
        (NEW_YORK_EARLY_SUNDAYS, date(2026, 3, 8), timedelta(hours=2)),
        (NEW_YORK_EARLY_SUNDAYS, date(2026, 11, 1), timedelta(hours=4)),
        (LONDON_SUNDAYS, date(2026, 3, 29), timedelta(hours=23)),
        (LONDON_SUNDAYS, date(2026, 10, 25), timedelta(hours=25)),
    ],
)
def test_business_time_between_local_midnights_on_dst_day_is_real_length(
    calendar: BusinessCalendar, day: date, expected: timedelta
) -> None:
    start = datetime.combine(day, time(0), tzinfo=calendar.tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=calendar.tz)

    assert between(calendar, start, end) == expected


# --- business_time_between ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "start", "end", "expected"),
    [
        pytest.param(
            NINE_TO_FIVE,
            utc(2026, 1, 9, 15),
            utc(2026, 1, 13, 11),
            timedelta(hours=12),
            id="weekend",
        ),
        pytest.param(
            NINE_TO_FIVE_WITH_HOLIDAY,
            utc(2026, 1, 9, 15),
            utc(2026, 1, 13, 11),
            timedelta(hours=4),
            id="weekend-and-holiday",
        ),
        pytest.param(
            NINE_TO_FIVE,
            utc(2026, 1, 10, 8),
            utc(2026, 1, 11, 20),
            timedelta(0),
            id="weekend-only",
        ),
        pytest.param(
            LUNCH_BREAK,
            utc(2026, 1, 5, 8),
            utc(2026, 1, 5, 18),
            timedelta(hours=7),
            id="lunch-break",
        ),
        pytest.param(
            LUNCH_BREAK,
            utc(2026, 1, 5, 11, 30),
            utc(2026, 1, 5, 13, 15),
            timedelta(minutes=45),
            id="partial-intervals",
        ),
        pytest.param(
            NINE_TO_FIVE,
            utc(2026, 1, 5, 9),
            utc(2026, 2, 2, 9),
            timedelta(hours=160),
            id="four-weeks",
        ),
        pytest.param(
            NEW_YORK_OFFICE,
            datetime(2026, 1, 9, 16, 30, tzinfo=NEW_YORK),
            utc(2026, 1, 12, 15),  # Mon 10:00 EST
            timedelta(hours=1, minutes=30),
            id="new-york",
        ),
    ],
)
def test_business_time_between_returns_working_time(
    calendar: BusinessCalendar, start: datetime, end: datetime, expected: timedelta
) -> None:
    assert between(calendar, start, end) == expected


@pytest.mark.parametrize("end", [utc(2026, 1, 5, 12), utc(2026, 1, 5, 10)], ids=["equal", "before"])
def test_business_time_between_is_zero_when_end_not_after_start(end: datetime) -> None:
    assert between(NINE_TO_FIVE, utc(2026, 1, 5, 12), end) == timedelta(0)


def test_business_time_between_matches_reference_over_three_years() -> None:
    start = datetime(2026, 1, 2, 11, 17, tzinfo=NEW_YORK)
    end = datetime(2028, 12, 30, 9, 41, tzinfo=NEW_YORK)

    expected = reference_between(NEW_YORK_MIXED, start.astimezone(UTC), end.astimezone(UTC))

    assert between(NEW_YORK_MIXED, start, end) == expected


# --- Properties and large deltas --------------------------------------------------------------


@pytest.mark.parametrize("calendar", [NINE_TO_FIVE_WITH_HOLIDAY, LUNCH_BREAK, NEW_YORK_MIXED])
def test_add_business_time_round_trips_through_business_time_between(
    calendar: BusinessCalendar,
) -> None:
    # Starts every 5h13m over three weeks around the US spring-forward, open or closed.
    starts = [utc(2026, 2, 27, 3, 7) + timedelta(minutes=313 * i) for i in range(100)]
    deltas = [timedelta(minutes=1), timedelta(hours=3, minutes=20), timedelta(hours=61)]

    for start in starts:
        for delta in deltas:
            end = add(calendar, start, delta)
            assert end >= start
            assert between(calendar, start, end) == delta, (start, delta)


@pytest.mark.parametrize(
    ("start", "delta"),
    [
        pytest.param(
            datetime(2026, 1, 5, 9, tzinfo=NEW_YORK), timedelta(hours=2_000), id="2000h-open"
        ),
        pytest.param(
            datetime(2026, 2, 28, 23, 45, tzinfo=NEW_YORK), timedelta(hours=2_000), id="2000h-sat"
        ),
        pytest.param(
            datetime(2026, 3, 4, 12, 30, tzinfo=NEW_YORK),
            timedelta(hours=10_000, minutes=7),
            id="10000h-lunch",
        ),
    ],
)
def test_add_business_time_with_large_delta_matches_day_by_day_reference(
    start: datetime, delta: timedelta
) -> None:
    result = add(NEW_YORK_MIXED, start, delta)

    assert result == reference_add(NEW_YORK_MIXED, start, delta)
    assert between(NEW_YORK_MIXED, start, result) == delta


def test_add_business_time_with_large_delta_on_sunday_calendar_matches_reference() -> None:
    # Every week is 24h nominal, but DST Sundays are 23h/25h: week skipping must notice.
    start = utc(2026, 1, 4, 5)
    delta = timedelta(hours=24 * 150 + 5)

    assert add(NEW_YORK_SUNDAYS, start, delta) == reference_add(NEW_YORK_SUNDAYS, start, delta)


# --- is_open ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("calendar", "at", "expected"),
    [
        (NINE_TO_FIVE, utc(2026, 1, 5, 9), True),
        (NINE_TO_FIVE, utc(2026, 1, 5, 16, 59), True),
        (NINE_TO_FIVE, utc(2026, 1, 5, 17), False),
        (NINE_TO_FIVE, utc(2026, 1, 5, 8, 59), False),
        (NINE_TO_FIVE, utc(2026, 1, 10, 12), False),
        (NINE_TO_FIVE_WITH_HOLIDAY, utc(2026, 1, 12, 12), False),
        (LUNCH_BREAK, utc(2026, 1, 5, 12, 30), False),
        (NEW_YORK_OFFICE, utc(2026, 1, 5, 14), True),  # 09:00 EST
        (NEW_YORK_OFFICE, utc(2026, 1, 5, 13, 59), False),
        (NEW_YORK_SUNDAYS, utc(2026, 3, 9, 3, 59), True),  # Sun 23:59 EDT
        (NEW_YORK_SUNDAYS, utc(2026, 3, 9, 4), False),  # Mon 00:00 EDT
        (BusinessCalendar.always_open("Asia/Tokyo"), utc(2026, 1, 1), True),
    ],
)
def test_is_open_reports_working_hours(
    calendar: BusinessCalendar, at: datetime, expected: bool
) -> None:
    assert calendar.is_open(at) is expected


# --- from_spec ------------------------------------------------------------------------------


def test_from_spec_accepts_names_numbers_and_24_00() -> None:
    calendar = BusinessCalendar.from_spec(
        timezone="Europe/London",
        hours={
            "Monday": [["13:00", "17:30"], ["08:00", "12:00"]],
            1: [],
            "6": [["22:00", "24:00"]],
        },
        holidays=["2026-12-25", date(2026, 12, 26)],
    )

    assert calendar == BusinessCalendar(
        tz=LONDON,
        hours={0: [(time(8), time(12)), (time(13), time(17, 30))], 6: [(time(22), time(0))]},
        holidays=frozenset({date(2026, 12, 25), date(2026, 12, 26)}),
    )
    assert hash(calendar) == hash(calendar)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        pytest.param({"timezone": "Mars/Olympus", "hours": {}}, "unknown time zone", id="tz"),
        pytest.param({"timezone": "", "hours": {}}, "time zone", id="empty-tz"),
        pytest.param(
            {"timezone": "UTC", "hours": {"funday": [["09:00", "17:00"]]}}, "unknown day", id="day"
        ),
        pytest.param({"timezone": "UTC", "hours": {7: []}}, "unknown day", id="day-7"),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [], 0: []}}, "more than once", id="duplicate-day"
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["17:00", "09:00"]]}},
            "must end after it starts",
            id="end-before-start",
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["09:00", "09:00"]]}},
            "must end after it starts",
            id="empty-interval",
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["09:00", "13:00"], ["12:00", "17:00"]]}},
            "overlaps",
            id="overlap",
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["9am", "17:00"]]}}, "invalid time", id="9am"
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["09:00", "25:00"]]}}, "invalid time", id="25h"
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["09:60", "17:00"]]}}, "invalid time", id="60m"
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": [["24:00", "24:00"]]}},
            "only end an interval",
            id="24-as-start",
        ),
        pytest.param({"timezone": "UTC", "hours": {"mon": [["09:00"]]}}, "pair", id="missing-end"),
        pytest.param(
            {"timezone": "UTC", "hours": {"mon": ["09:00-17:00"]}}, "pair", id="string-pair"
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {}, "holidays": ["2026-13-01"]},
            "invalid holiday",
            id="holiday",
        ),
        pytest.param(
            {"timezone": "UTC", "hours": {}, "holidays": [utc(2026, 12, 25)]},
            "not datetimes",
            id="holiday-datetime",
        ),
    ],
)
def test_from_spec_rejects_bad_input(spec: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar.from_spec(**spec)  # type: ignore[arg-type]


def test_business_calendar_rejects_unsorted_intervals_when_built_directly() -> None:
    with pytest.raises(ValueError, match="overlaps"):
        BusinessCalendar(tz=ZoneInfo("UTC"), hours={0: [(time(13), time(17)), (time(9), time(12))]})


# --- Argument validation --------------------------------------------------------------------


def test_add_business_time_rejects_naive_start() -> None:
    naive = utc(2026, 1, 5, 10).replace(tzinfo=None)

    with pytest.raises(ValueError, match="timezone-aware"):
        add(NINE_TO_FIVE, naive, timedelta(hours=1))


def test_add_business_time_rejects_negative_delta() -> None:
    with pytest.raises(ValueError, match="negative"):
        add(NINE_TO_FIVE, utc(2026, 1, 5, 10), timedelta(seconds=-1))


@pytest.mark.parametrize(
    "hours",
    [{}, {day: [] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}],
    ids=["no-days", "all-days-empty"],
)
def test_add_business_time_rejects_calendar_without_working_time(
    hours: dict[str, list[list[str]]],
) -> None:
    calendar = BusinessCalendar.from_spec(timezone="UTC", hours=hours)

    with pytest.raises(ValueError, match="no working time"):
        add(calendar, utc(2026, 1, 5, 10), timedelta(hours=1))


def test_business_time_between_rejects_naive_end() -> None:
    naive = utc(2026, 1, 6).replace(tzinfo=None)

    with pytest.raises(ValueError, match="timezone-aware"):
        between(NINE_TO_FIVE, utc(2026, 1, 5), naive)


def test_is_open_rejects_naive_datetime() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        NINE_TO_FIVE.is_open(utc(2026, 1, 5, 10).replace(tzinfo=None))
