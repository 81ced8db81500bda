"""The one way Amends writes a moment and an amount for people to read.

Every page and every sentence uses these (templates through the `when`, `day` and `money`
filters): "1 Dec 2026, 09:30" in the reader's time zone (the active one: the staff member's
own, else the organisation's), and "£240.00" / "240.00 CHF".
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.dateformat import format as date_format

MOMENT_FORMAT = "j M Y, H:i"
DAY_FORMAT = "j M Y"

# Currencies people read with a symbol in front; every other code follows the amount.
_SYMBOLS = {"GBP": "£", "EUR": "€", "USD": "$", "JPY": "¥", "INR": "₹"}


def format_moment(value: datetime | None) -> str:
    """`1 Dec 2026, 09:30` in the active time zone; empty for None."""
    if value is None:
        return ""
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, MOMENT_FORMAT)


def format_day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return date_format(value, DAY_FORMAT)


def format_money(amount: Decimal | None, currency: str) -> str:
    """`£1,240.00`, `-£5.00`, `1,240.00 CHF`; empty for None."""
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    digits = f"{abs(amount):,.2f}"
    symbol = _SYMBOLS.get(currency.upper())
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {currency}".strip()
