"""Business-hours arithmetic: add working time to an instant, measure working time between two.

Working hours are local wall-clock intervals in a calendar's time zone. Every computation turns
them into UTC instants per date, so a DST transition inside an interval changes its real length,
and all results are real elapsed time expressed in UTC.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from types import MappingProxyType
from typing import Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["BusinessCalendar", "add_business_time", "business_time_between"]

Interval = tuple[time, time]
_K_co = TypeVar("_K_co", covariant=True)


class HoursSpec(Protocol[_K_co]):
    """Any mapping of day keys to ``[start, end]`` pairs.

    A protocol rather than ``Mapping`` because ``Mapping`` keys are invariant: callers can then
    pass a ``dict[str, ...]``, a ``dict[int, ...]`` or a literal mixing both.
    """

    def items(self) -> Iterable[tuple[_K_co, Sequence[Sequence[str]]]]: ...


_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
_ONE_WEEK = timedelta(days=7)
_FULL_DAY = timedelta(hours=24)
_MIDNIGHT = time(0)
_WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_WEEKDAYS_BY_NAME = {
    **{name: index for index, name in enumerate(_WEEKDAY_NAMES)},
    **{name: index for index, name in enumerate(_LONG_WEEKDAY_NAMES)},
}


@dataclass(frozen=True)
class BusinessCalendar:
    """Working hours per weekday in a time zone, minus holidays.

    ``hours`` maps a weekday (0=Monday..6=Sunday) to sorted, non-overlapping local
    ``(start, end)`` intervals; an end of ``time(0)`` means midnight at the end of that day.
    Weekdays that are missing have no working time. ``holidays`` are local dates.
    """

    tz: ZoneInfo
    # Excluded from the hash because mappings are unhashable; equality still compares it.
    hours: Mapping[int, Sequence[Interval]] = field(hash=False)
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        normalized: dict[int, tuple[Interval, ...]] = {}
        for weekday, intervals in self.hours.items():
            _check_weekday(weekday)
            checked = tuple(_check_interval(weekday, interval) for interval in intervals)
            for (_, previous_end), (opens, closes) in pairwise(checked):
                if _clock_offset(opens) < _end_offset(previous_end):
                    raise ValueError(
                        f"{_WEEKDAY_NAMES[weekday]}: interval {_fmt(opens, closes)} overlaps "
                        "the previous one or is out of order (intervals must be sorted)"
                    )
            if checked:
                normalized[weekday] = checked
        # Freeze what we were given so a shared dict cannot change the calendar afterwards.
        object.__setattr__(self, "hours", MappingProxyType(normalized))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @classmethod
    def always_open(cls, tz: str = "UTC") -> BusinessCalendar:
        """A 24x7 calendar without holidays."""
        return cls(tz=_parse_zone(tz), hours=dict.fromkeys(range(7), ((_MIDNIGHT, _MIDNIGHT),)))

    @classmethod
    def from_spec(
        cls,
        *,
        timezone: str,
        hours: HoursSpec[str | int],
        holidays: Iterable[date | str] = (),
    ) -> BusinessCalendar:
        """Build a calendar from plain data, e.g. ``{"mon": [["09:00", "17:00"]]}``.

        Days are ``mon``..``sun`` (or full names), ``0``..``6`` or ``"0"``..``"6"``; times are
        ``HH:MM`` or ``HH:MM:SS``, and ``24:00`` may end an interval. Holidays are dates or ISO
        strings. Raises ``ValueError`` describing the first problem found.
        """
        zone = _parse_zone(timezone)
        parsed: dict[int, list[Interval]] = {}
        for key, pairs in hours.items():
            weekday = _parse_weekday(key)
            if weekday in parsed:
                raise ValueError(f"day {key!r} is given more than once")
            if isinstance(pairs, str):
                raise ValueError(f"{key!r}: expected a list of [start, end] pairs, got {pairs!r}")
            intervals: list[Interval] = []
            for pair in pairs:
                if isinstance(pair, str) or len(pair) != 2:
                    raise ValueError(f"{key!r}: expected a [start, end] pair, got {pair!r}")
                intervals.append((_parse_clock(pair[0], is_end=False), _parse_clock(pair[1])))
            # Order is irrelevant in a spec; overlaps are still rejected by __post_init__.
            intervals.sort(key=lambda interval: _clock_offset(interval[0]))
            parsed[weekday] = intervals
        return cls(
            tz=zone,
            hours=parsed,
            holidays=frozenset(_parse_holiday(holiday) for holiday in holidays),
        )

    def is_open(self, at: datetime) -> bool:
        """Whether ``at`` (an aware datetime) falls inside working hours."""
        _require_aware(at, "at")
        at_utc = at.astimezone(UTC)
        local_day = at.astimezone(self.tz).date()
        return any(
            opens <= at_utc < closes
            for day in (local_day - _ONE_DAY, local_day)
            for opens, closes in _day_intervals(self, day, floor=None)
        )


def add_business_time(*, calendar: BusinessCalendar, start: datetime, delta: timedelta) -> datetime:
    """Return the UTC instant at which ``delta`` of working time has elapsed after ``start``.

    Counting begins at the next opening when ``start`` is outside working hours; a zero
    ``delta`` returns ``start`` itself (converted to UTC).
    """
    _require_aware(start, "start")
    if delta < _ZERO:
        raise ValueError(f"delta must not be negative, got {delta!r}")
    weekly = _nominal_week(calendar)
    if not weekly:
        raise ValueError("calendar has no working time on any weekday")
    start_utc = start.astimezone(UTC)
    if not delta:
        return start_utc

    remaining = delta
    floor = start_utc  # nothing before this instant may be counted
    # Start a day early: cheap insurance against odd offsets around local midnight.
    day = start.astimezone(calendar.tz).date() - _ONE_DAY
    try:
        while True:
            # Strictly greater: the final, partial stretch is always walked interval by interval.
            if day.weekday() == 0 and remaining > weekly:
                bounds = _plain_week_bounds(calendar, day)
                if bounds is not None and bounds[0] >= floor:
                    remaining -= weekly
                    floor = bounds[1]
                    day += _ONE_WEEK
                    continue
            for opens, closes in _day_intervals(calendar, day, floor=floor):
                available = closes - opens
                if remaining <= available:
                    return opens + remaining
                remaining -= available
                floor = closes
            day += _ONE_DAY
    except OverflowError as exc:
        raise ValueError("result is beyond the supported date range") from exc


def business_time_between(
    *, calendar: BusinessCalendar, start: datetime, end: datetime
) -> timedelta:
    """Working time elapsed in ``[start, end)``; zero when ``end <= start``."""
    _require_aware(start, "start")
    _require_aware(end, "end")
    start_utc = start.astimezone(UTC)
    end_utc = end.astimezone(UTC)
    if end_utc <= start_utc:
        return _ZERO

    weekly = _nominal_week(calendar)
    total = _ZERO
    floor = start_utc
    day = start.astimezone(calendar.tz).date() - _ONE_DAY
    # Intervals of later local dates cannot open before `end`.
    last_day = end.astimezone(calendar.tz).date()
    while day <= last_day:
        if weekly and day.weekday() == 0:
            bounds = _plain_week_bounds(calendar, day)
            if bounds is not None and bounds[0] >= floor and bounds[1] <= end_utc:
                total += weekly
                floor = bounds[1]
                day += _ONE_WEEK
                continue
        for opens, closes in _day_intervals(calendar, day, floor=floor):
            if opens >= end_utc:
                return total
            total += min(closes, end_utc) - opens
            floor = closes
        day += _ONE_DAY
    return total


def _day_intervals(
    calendar: BusinessCalendar, day: date, *, floor: datetime | None
) -> list[tuple[datetime, datetime]]:
    """UTC working intervals of a local date, clipped so none starts before ``floor``.

    Clipping also guards against DST gaps: a nonexistent local time resolves (fold=0) to an
    instant after the gap, which could otherwise make intervals overlap and count twice.
    """
    if day in calendar.holidays:
        return []
    result: list[tuple[datetime, datetime]] = []
    for opens_at, closes_at in calendar.hours.get(day.weekday(), ()):
        opens = datetime.combine(day, opens_at, tzinfo=calendar.tz).astimezone(UTC)
        close_day = day + _ONE_DAY if closes_at == _MIDNIGHT else day
        closes = datetime.combine(close_day, closes_at, tzinfo=calendar.tz).astimezone(UTC)
        if floor is not None and opens < floor:
            opens = floor
        if closes > opens:
            result.append((opens, closes))
            floor = closes
    return result


def _plain_week_bounds(
    calendar: BusinessCalendar, monday: date
) -> tuple[datetime, datetime] | None:
    """UTC bounds of the local week starting ``monday`` when it can be skipped arithmetically.

    A week qualifies when it has no holiday and the UTC offset is the same at all eight local
    midnights, so no transition can stretch or shrink an interval and its real working time
    equals the nominal weekly total. (Assumes no zone changes offset twice within one day.)
    """
    days = [monday + timedelta(days=offset) for offset in range(8)]
    if not calendar.holidays.isdisjoint(days[:7]):
        return None
    midnights = [datetime.combine(day, _MIDNIGHT, tzinfo=calendar.tz) for day in days]
    offset = midnights[0].utcoffset()
    if any(midnight.utcoffset() != offset for midnight in midnights[1:]):
        return None
    return midnights[0].astimezone(UTC), midnights[-1].astimezone(UTC)


def _nominal_week(calendar: BusinessCalendar) -> timedelta:
    """Wall-clock working time of a week without holidays or DST transitions."""
    return sum(
        (
            _end_offset(closes) - _clock_offset(opens)
            for intervals in calendar.hours.values()
            for opens, closes in intervals
        ),
        start=_ZERO,
    )


def _check_weekday(weekday: object) -> None:
    # Runtime check: the dataclass may be built from untyped data.
    if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be an int 0..6 (0=Monday), got {weekday!r}")


def _check_interval(weekday: int, interval: Interval) -> Interval:
    opens, closes = interval
    bounds: tuple[object, object] = (opens, closes)
    for value in bounds:
        if not isinstance(value, time) or value.tzinfo is not None:
            raise ValueError(
                f"{_WEEKDAY_NAMES[weekday]}: interval bounds must be naive datetime.time values, "
                f"got {value!r}"
            )
    if _end_offset(closes) <= _clock_offset(opens):
        raise ValueError(
            f"{_WEEKDAY_NAMES[weekday]}: interval {_fmt(opens, closes)} must end after it starts"
        )
    return opens, closes


def _clock_offset(value: time) -> timedelta:
    return timedelta(
        hours=value.hour, minutes=value.minute, seconds=value.second, microseconds=value.microsecond
    )


def _end_offset(value: time) -> timedelta:
    """Like ``_clock_offset`` but an end of midnight means the end of the day."""
    return _FULL_DAY if value == _MIDNIGHT else _clock_offset(value)


def _fmt(opens: time, closes: time) -> str:
    end = "24:00" if closes == _MIDNIGHT else closes.isoformat("minutes")
    return f"{opens.isoformat('minutes')}-{end}"


def _require_aware(value: object, name: str) -> None:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _parse_zone(name: object) -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"time zone must be a non-empty IANA name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _parse_weekday(key: str | int) -> int:
    if isinstance(key, str):
        text = key.strip().lower()
        if text.isascii() and text.isdigit():
            key = int(text)
        elif text in _WEEKDAYS_BY_NAME:
            return _WEEKDAYS_BY_NAME[text]
    if isinstance(key, int) and not isinstance(key, bool) and 0 <= key <= 6:
        return key
    raise ValueError(f"unknown day {key!r}; use mon..sun or 0..6 (0=Monday)")


def _parse_clock(text: str, *, is_end: bool = True) -> time:
    """Parse ``HH:MM`` or ``HH:MM:SS``; ``24:00`` is accepted as an end and means midnight."""
    problem = f"invalid time {text!r}; expected HH:MM between 00:00 and 23:59 (24:00 as an end)"
    if not isinstance(text, str):
        raise ValueError(problem)
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(
        len(part) == 2 and part.isascii() and part.isdigit() for part in parts
    ):
        raise ValueError(problem)
    hour, minute, second = (int(part) for part in [*parts, "00"][:3])
    if (hour, minute, second) == (24, 0, 0):
        if not is_end:
            raise ValueError(f"24:00 can only end an interval, not start one ({text!r})")
        return _MIDNIGHT
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(problem)
    return time(hour, minute, second)


def _parse_holiday(value: date | str) -> date:
    # datetime is a date subclass; a timestamp as a holiday is almost certainly a mistake.
    if isinstance(value, datetime):
        raise ValueError(f"holidays must be dates, not datetimes: {value!r}")
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"invalid holiday {value!r}; expected YYYY-MM-DD") from exc
    raise ValueError(f"invalid holiday {value!r}; expected a date or YYYY-MM-DD string")
