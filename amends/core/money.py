"""Currencies Amends accepts, and the short list forms offer (the organisation's first)."""

from __future__ import annotations

# ISO 4217 codes Amends accepts. A fixed list on purpose: a typo ("UDS") must be refused,
# not stored; add a code here when an organisation pays in it.
CURRENCIES: tuple[str, ...] = (
    "AED", "ARS", "AUD", "BRL", "CAD", "CHF", "CLP", "CNY", "COP", "CZK", "DKK", "EGP", "EUR",
    "GBP", "HKD", "HUF", "IDR", "ILS", "INR", "ISK", "JPY", "KES", "KRW", "MAD", "MXN", "MYR",
    "NGN", "NOK", "NZD", "PEN", "PHP", "PKR", "PLN", "QAR", "RON", "SAR", "SEK", "SGD", "THB",
    "TRY", "TWD", "UAH", "USD", "VND", "ZAR",
)  # fmt: skip

# The currencies most organisations pay in, after their own in a form's short list.
COMMON_CURRENCIES: tuple[str, ...] = ("GBP", "EUR", "USD")


def currency_choices(organisation_currency: str) -> list[tuple[str, str]]:
    """The organisation's currency first, then the common ones, then every other code."""
    first = [organisation_currency, *(c for c in COMMON_CURRENCIES if c != organisation_currency)]
    rest = [c for c in CURRENCIES if c not in first]
    return [(c, c) for c in first if c in CURRENCIES] + [(c, c) for c in rest]
