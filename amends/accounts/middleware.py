"""Pages speak the reader's time: the signed-in staff member's own zone, else the
organisation's. The zone is looked up only when a page first shows or reads a time, so
requests that show none (the bell, redirects, JSON) pay nothing for it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from amends.accounts.models import StaffProfile
from amends.core.organisation import organisation


class LazyZone(tzinfo):
    """A time zone resolved on first use; then it behaves exactly as that ZoneInfo."""

    def __init__(self, resolve: Callable[[], ZoneInfo]) -> None:
        self._resolve = resolve
        self._zone: ZoneInfo | None = None

    @property
    def zone(self) -> ZoneInfo:
        if self._zone is None:
            self._zone = self._resolve()
        return self._zone

    def utcoffset(self, dt: datetime | None) -> timedelta | None:
        return self.zone.utcoffset(dt)

    def dst(self, dt: datetime | None) -> timedelta | None:
        return self.zone.dst(dt)

    def tzname(self, dt: datetime | None) -> str | None:
        return self.zone.tzname(dt)

    def fromutc(self, dt: datetime) -> datetime:
        # Hand back the real zone's datetime: its fold and offsets are ZoneInfo's own.
        return self.zone.fromutc(dt.replace(tzinfo=self.zone))

    def __str__(self) -> str:
        return str(self.zone.key)

    def __reduce__(self) -> tuple[type[ZoneInfo], tuple[str]]:
        # Pickled (a cache, a session), it is simply the zone it stands for.
        return (ZoneInfo, (self.zone.key,))

    def __repr__(self) -> str:
        return f"LazyZone({self._zone!r})"


def zone_for(user: object) -> ZoneInfo:
    """The staff member's own zone, else the organisation's."""
    if getattr(user, "is_authenticated", False):
        try:
            own = user.staff.time_zone  # type: ignore[attr-defined]
        except StaffProfile.DoesNotExist:
            own = ""
        if own:
            return ZoneInfo(own)
    return organisation().zone


class TimeZoneMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        timezone.activate(LazyZone(lambda: zone_for(getattr(request, "user", None))))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
