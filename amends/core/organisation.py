"""The organisation's settings (time zone, currency), read on most pages: each process keeps
a copy for ORGANISATION_CACHE_SECONDS, cleared at once when this process saves the row."""

from __future__ import annotations

import time as clock
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from amends.core.conf import amends_setting
from amends.core.formats import format_moment
from amends.core.models import Organisation
from amends.core.money import CURRENCIES
from amends.core.validation import time_zone_names

ORGANISATION_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class OrganisationSettings:
    name: str
    time_zone: str
    currency: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


_cached: tuple[float, OrganisationSettings] | None = None


def organisation_defaults() -> OrganisationSettings:
    """What the organisation uses until someone saves its settings: the environment's."""
    zone = str(settings.TIME_ZONE or "UTC")
    currency = str(amends_setting("DEFAULT_CURRENCY", "USD")).upper()
    return OrganisationSettings(
        name="",
        time_zone=zone if zone in time_zone_names() else "UTC",
        currency=currency if currency in CURRENCIES else "USD",
    )


def organisation() -> OrganisationSettings:
    """The organisation's settings (one query at most every ORGANISATION_CACHE_SECONDS)."""
    global _cached
    now = clock.monotonic()
    if _cached is not None and now - _cached[0] < ORGANISATION_CACHE_SECONDS:
        return _cached[1]
    row = Organisation.objects.filter(pk=1).first()
    value = (
        OrganisationSettings(name=row.name, time_zone=row.time_zone, currency=row.currency)
        if row is not None
        else organisation_defaults()
    )
    _cached = (now, value)
    return value


def organisation_cache_clear(**_: object) -> None:
    global _cached
    _cached = None


def organisation_cache_prime(value: OrganisationSettings) -> None:
    """Hold `value` as if just read (tests start from the state with no saved row)."""
    global _cached
    _cached = (clock.monotonic(), value)


post_save.connect(organisation_cache_clear, sender=Organisation, dispatch_uid="organisation_cache")
post_delete.connect(
    organisation_cache_clear, sender=Organisation, dispatch_uid="organisation_cache_delete"
)


def organisation_save(*, name: str | None = None, time_zone: str, currency: str) -> Organisation:
    """Set the organisation's time zone and currency (the demo and the admin use this)."""
    row = Organisation.objects.filter(pk=1).first() or Organisation(pk=1)
    if name is not None:
        row.name = name
    row.time_zone = time_zone
    row.currency = currency
    row.full_clean()
    row.save()
    return row


def organisation_moment(value: datetime | None) -> str:
    """A moment for text that is stored and read later (notifications, mail), in the
    organisation's zone with its abbreviation: `1 Dec 2026, 09:30 GMT`."""
    if value is None:
        return "an unknown time"
    zone = organisation().zone
    local = value.astimezone(zone)
    with timezone.override(zone):
        return f"{format_moment(value)} {local.tzname()}"


def organisation_today(now: datetime | None = None) -> date:
    """Today in the organisation's time zone (a report's default last day)."""
    return (now or timezone.now()).astimezone(organisation().zone).date()


def organisation_days(first: date, last: date) -> tuple[datetime, datetime]:
    """The moments a report from `first` to `last` (both included) covers: midnight of `first`
    to midnight after `last` in the organisation's zone, so a case opened at 23:30 local on the
    31st counts on the 31st. Midnight is taken as the zone's wall clock (on a DST change the
    day is 23 or 25 hours long)."""
    zone = organisation().zone
    start = datetime.combine(first, time.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=zone)
    return start, end
