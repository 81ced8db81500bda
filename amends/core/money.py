"""Currencies Amends accepts, and the short list forms offer (the organisation's first)."""

from __future__ import annotations

from collections.abc import Iterable

from amends.core.conf import amends_setting

# ISO 4217 codes Amends accepts. A fixed list on purpose: a typo ("UDS") must be refused,
# not stored; add a code here when an organisation pays in it.
CURRENCIES: tuple[str, ...] = (
    "AED", "ARS", "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP", "EUR",
    "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KES", "KRW", "MAD", "MXN", "MYR",
    "NGN", "NOK", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "SAR", "SEK", "SGD", "THB",
    "TRY", "TWD", "UAH", "USD", "VND", "ZAR",
)  # fmt: skip

# The currencies most organisations pay in: offered after their own in a form's short list
# unless settings.AMENDS["OFFERED_CURRENCIES"] names others.
COMMON_CURRENCIES: tuple[str, ...] = ("GBP", "EUR", "USD")


def offered_currencies() -> tuple[str, ...]:
    """The configured short list (valid codes only), or the common ones."""
    configured = amends_setting("OFFERED_CURRENCIES") or COMMON_CURRENCIES
    return tuple(c for c in (str(code).upper() for code in configured) if c in CURRENCIES)


def currency_choices(organisation_currency: str, used: Iterable[str] = ()) -> list[tuple[str, str]]:
    """A form's short list: the organisation's currency first, then the offered ones, then the
    other currencies already in use (sorted). Not every code: the API accepts any in CURRENCIES."""
    codes = dict.fromkeys([organisation_currency, *offered_currencies(), *sorted(used)])
    return [(c, c) for c in codes if c in CURRENCIES]
