"""The remedy report's ?since=&until= are the organisation's days, not UTC days: a remedy
granted at 23:30 local on the 31st counts on the 31st (and in that month)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from amends.core.organisation import organisation_days, organisation_save
from amends.remedies.models import Remedy
from amends.remedies.tests.factories import remedy_make

pytestmark = pytest.mark.django_db


def _granted_at(org: Any, moment: datetime) -> Remedy:
    remedy = remedy_make(case=org.case, proposed_by=org.agent, currency="GBP")
    Remedy.objects.filter(pk=remedy.pk).update(created_at=moment)
    return remedy


def _counted(org: Any, since: str, until: str) -> int:
    client = Client()
    client.force_login(org.manager)
    response = client.get(reverse("web:remedy-report"), {"since": since, "until": until})
    assert response.status_code == 200
    return sum(row["count"] for row in response.context["report"].by_team)


@pytest.mark.parametrize(
    ("zone", "moment", "local_day", "next_day"),
    [
        # 23:30 on 31 January in Los Angeles is 07:30 UTC on 1 February.
        (
            "America/Los_Angeles",
            datetime(2026, 2, 1, 7, 30, tzinfo=UTC),
            "2026-01-31",
            "2026-02-01",
        ),
        # 00:30 on 1 February in Auckland is 11:30 UTC on 31 January.
        ("Pacific/Auckland", datetime(2026, 1, 31, 11, 30, tzinfo=UTC), "2026-02-01", "2026-02-02"),
    ],
)
def test_a_remedy_counts_on_its_local_day(
    org: Any, zone: str, moment: datetime, local_day: str, next_day: str
) -> None:
    organisation_save(time_zone=zone, currency="GBP")
    _granted_at(org, moment)
    assert _counted(org, local_day, local_day) == 1
    assert _counted(org, next_day, next_day) == 0
    utc_day = moment.date().isoformat()
    if utc_day not in (local_day, next_day):
        assert _counted(org, utc_day, utc_day) == 0


def test_months_are_the_organisations_months(org: Any) -> None:
    organisation_save(time_zone="America/Los_Angeles", currency="GBP")
    _granted_at(org, datetime(2026, 2, 1, 7, 30, tzinfo=UTC))  # 31 January, local
    client = Client()
    client.force_login(org.manager)
    report = client.get(
        reverse("web:remedy-report"), {"since": "2026-01-01", "until": "2026-02-28"}
    ).context["report"]
    assert [(row["month"].year, row["month"].month) for row in report.by_month] == [(2026, 1)]


def test_organisation_days_cover_local_midnight_to_midnight() -> None:
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    start, end = organisation_days(date(2026, 2, 1), date(2026, 2, 1))
    assert start.astimezone(UTC) == datetime(2026, 1, 31, 11, 0, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2026, 2, 1, 11, 0, tzinfo=UTC)
