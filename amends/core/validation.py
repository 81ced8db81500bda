"""Input rules every schema, form and service shares: one place, so every app gets them.

- Text may not contain NUL characters (PostgreSQL cannot store them).
- Datetimes lie in a sane window that every database we support can store and read back
  (`DATETIME_MIN` to `DATETIME_MAX`, checked after conversion to UTC); dates likewise.
- Amounts are checked for size *before* any arithmetic, so a huge exponent ("1e26") is
  refused instead of raising `decimal.InvalidOperation` in a quantize.
- Input types are strict: `0` is not `false`, `"1_000"` is not 1000, `0` is not a date.

The helpers raise `ValueError` with a message meant for the person who sent the input;
pydantic (API) and Django forms (web) turn it into a 422 or a form error.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.core.exceptions import ValidationError

# The window every stored datetime lies in. The upper end is far enough for any promise and
# far enough from year 9999 that no time zone offset pushes it past what psycopg can read.
DATETIME_MIN = datetime(1970, 1, 1, tzinfo=UTC)
DATETIME_MAX = datetime(2199, 12, 31, 23, 59, 59, tzinfo=UTC)
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2199, 12, 31)
# Money columns are DecimalField(max_digits=12, decimal_places=2).
AMOUNT_MAX = Decimal("9999999999.99")
AMOUNT_PLACES = 2

_INT_TEXT = re.compile(r"[+-]?[0-9]{1,19}")
_DECIMAL_TEXT = re.compile(r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,4})?")
_BOOL_TEXT = {"true": True, "false": False, "1": True, "0": False}


def text_check(value: str) -> str:
    """Refuse text with a NUL character."""
    if "\x00" in value:
        raise ValueError("Text may not contain NUL characters.")
    return value


def datetime_check(value: datetime) -> datetime:
    """An aware datetime within the window (naive values are taken as UTC)."""
    if value.tzinfo is None or value.utcoffset() is None:
        value = value.replace(tzinfo=UTC)
    try:
        in_utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        in_utc = None
    if in_utc is None or not DATETIME_MIN <= in_utc <= DATETIME_MAX:
        raise ValueError(
            f"Date and time must lie between {DATETIME_MIN:%Y-%m-%d} and "
            f"{DATETIME_MAX:%Y-%m-%d} (UTC)."
        )
    return value


def date_check(value: date) -> date:
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValueError(f"Date must lie between {DATE_MIN:%Y-%m-%d} and {DATE_MAX:%Y-%m-%d}.")
    return value


def amount_parse(
    value: object, *, maximum: Decimal = AMOUNT_MAX, places: int = AMOUNT_PLACES
) -> Decimal:
    """A positive amount with at most `places` decimals, quantized, or ValueError.

    The size is checked before quantizing: quantizing 1e26 to cents overflows the decimal
    context and raises InvalidOperation.
    """
    if isinstance(value, bool):
        raise ValueError("The amount must be a number such as 80.00.")
    if isinstance(value, Decimal):
        amount = value
    elif isinstance(value, int | float):
        amount = Decimal(str(value))
    elif isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
        try:
            amount = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError("The amount must be a number such as 80.00.") from None
    else:
        raise ValueError("The amount must be a number such as 80.00.")
    if not amount.is_finite() or amount <= 0:
        raise ValueError("The amount must be more than zero.")
    if amount > maximum:
        raise ValueError("The amount is too large.")
    step = Decimal(1).scaleb(-places)
    if amount != amount.quantize(step):
        raise ValueError(f"The amount can have at most {places} decimals.")
    return amount.quantize(step)


def is_decimal_text(text: str) -> bool:
    """Plain decimal notation ("80", "80.00", "1e3"); not "1_000", "NaN" or "Infinity"."""
    return _DECIMAL_TEXT.fullmatch(text.strip()) is not None


def decimal_check(value: Decimal) -> Decimal:
    """Any decimal input: finite and no larger than the biggest amount we store."""
    if not value.is_finite() or abs(value) > AMOUNT_MAX:
        raise ValueError("The number is too large.")
    return value


def strict_raw_check(kind: type, value: Any) -> Any:
    """Refuse raw input pydantic would coerce: 0 for a bool, 0 for a date, "1_000" for an int.

    Text forms stay accepted where query strings need them ("true", "42", ISO dates).
    """
    if value is None:
        return value
    if kind is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _BOOL_TEXT:
            return _BOOL_TEXT[value.strip().lower()]
        raise ValueError("Must be true or false.")
    if kind is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INT_TEXT.fullmatch(value.strip()):
            return value
        raise ValueError("Must be a whole number.")
    if kind is Decimal:
        if isinstance(value, Decimal) or (
            isinstance(value, int | float) and not isinstance(value, bool)
        ):
            return value
        if isinstance(value, str) and _DECIMAL_TEXT.fullmatch(value.strip()):
            return value
        raise ValueError("Must be a number such as 80.00.")
    if kind in (datetime, date):
        if isinstance(value, str | date):
            return value
        raise ValueError("Must be an ISO 8601 date or date and time text.")
    return value


def _form_error(check: Any, value: Any) -> Any:
    try:
        return check(value)
    except ValueError as exc:
        raise ValidationError(str(exc), code="out_of_range") from None


class WindowDateTimeField(forms.DateTimeField):
    """A form datetime within DATETIME_MIN..DATETIME_MAX (use instead of DateTimeField)."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        return None if result is None else _form_error(datetime_check, result)


class WindowDateField(forms.DateField):
    """A form date within DATE_MIN..DATE_MAX (use instead of DateField)."""

    def to_python(self, value: Any) -> date | None:
        result = super().to_python(value)
        return None if result is None else _form_error(date_check, result)


class AmountField(forms.CharField):
    """A form amount: positive, at most two decimals, checked before any arithmetic."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        super().__init__(**kwargs)

    def to_python(self, value: Any) -> Any:
        text = super().to_python(value)
        return None if text in ("", None) else _form_error(amount_parse, text)


@lru_cache(maxsize=1)
def time_zone_names() -> frozenset[str]:
    """Every IANA time zone name this machine knows (`Europe/London`)."""
    return frozenset(available_timezones())


def time_zone_validate(value: str) -> None:
    """Refuse a name that is not an IANA time zone (`Europe/London`, `UTC`)."""
    if value not in time_zone_names():
        raise ValidationError(
            "%(value)s is not a time zone; use a name like Europe/London.",
            code="invalid_time_zone",
            params={"value": value},
        )
