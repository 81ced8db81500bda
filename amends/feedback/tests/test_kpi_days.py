"""The KPI figures count the organisation's days, not UTC days.

Every source of a figure (a resolved case, a survey answer, a compliment, an approval decision)
happens at 23:30 or 00:30 local time on either side of a midnight that is also a month's edge,
in Pacific/Auckland (UTC+13 in December) and America/Los_Angeles (UTC-8). It must land on its
local day and month in the sums, on the KPI page, in `GET /api/v1/kpis`, on *Champions*, and in
every drill-down (which lists exactly what its figure counts). Two of the four moments fall on
another UTC day, so the UTC-keyed code fails them.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.apps import apps as django_apps
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from amends.cases.tests.factories import CaseFactory
from amends.core import hooks
from amends.core.organisation import organisation, organisation_save
from amends.feedback.choices import SurveyStatus
from amends.feedback.models import KpiDay, KpiMonth, Survey
from amends.feedback.selectors import SUM_FIELDS
from amends.feedback.services.kpis import kpi_rebuild, kpi_sums_rebuild
from amends.feedback.services.surveys import survey_answer, survey_token
from amends.feedback.tests.factories import Org, resolved_case
from amends.remedies.tests.factories import remedy_make

pytestmark = pytest.mark.django_db

SUMS: tuple[str, ...] = ("key", "day", "resolved", "resolve_seconds", "answered", "csat_sum")
SUMS += ("compliments", "approvals_decided", "approval_seconds")
MONTH_SUMS = tuple(name if name != "day" else "month" for name in SUMS)
# Each figure the moment feeds, and the drill-down that lists its rows.
FIGURES = {"resolve_time": "cases", "csat": "surveys", "compliments": "compliments"}
FIGURES["approvals"] = "approvals"


@dataclass(frozen=True)
class Moment:
    zone: str
    at: datetime  # UTC
    local_day: date
    other_day: date  # across the midnight from local_day


MOMENTS = [
    # 23:30 on 30 November in Auckland is 10:30 UTC the same day.
    Moment("Pacific/Auckland", datetime(2026, 11, 30, 10, 30, tzinfo=UTC), date(2026, 11, 30),
           date(2026, 12, 1)),
    # 00:30 on 1 December in Auckland is 11:30 UTC on 30 November.
    Moment("Pacific/Auckland", datetime(2026, 11, 30, 11, 30, tzinfo=UTC), date(2026, 12, 1),
           date(2026, 11, 30)),
    # 23:30 on 31 December in Los Angeles is 07:30 UTC on 1 January.
    Moment("America/Los_Angeles", datetime(2027, 1, 1, 7, 30, tzinfo=UTC), date(2026, 12, 31),
           date(2027, 1, 1)),
    # 00:30 on 1 January in Los Angeles is 08:30 UTC the same day.
    Moment("America/Los_Angeles", datetime(2027, 1, 1, 8, 30, tzinfo=UTC), date(2027, 1, 1),
           date(2026, 12, 31)),
]  # fmt: skip
IDS = ["auckland-23:30", "auckland-00:30", "los-angeles-23:30", "los-angeles-00:30"]


@dataclass
class Fed:
    """What one moment fed: the rows each drill-down must list."""

    case_ref: str
    survey_id: int
    compliment_id: int
    remedy_id: int


def _feed(org: Org, at: datetime) -> Fed:
    """At `at`: alex resolves a case, a customer answers a survey about alex with a compliment,
    and the supervisor decides a remedy sent for approval. Nothing else is dated near it."""
    with time_machine.travel(at, tick=False):
        return _feed_now(org, at)


def _feed_now(org: Org, at: datetime) -> Fed:
    case = resolved_case(org)
    other = CaseFactory(team=org.team, assignee=org.agent)  # open: no resolve to count
    survey = Survey.objects.create(
        case=other,
        customer=other.customer,
        staff=org.agent,
        team=org.team,
        status=SurveyStatus.SENT,
        send_after=at - timedelta(days=2),
        sent_at=at - timedelta(days=2),
        expires_at=at + timedelta(days=10),
    )
    survey_answer(token=survey_token(survey), csat=5, compliment="Thank you Alex", now=at)
    survey.refresh_from_db()
    remedy = remedy_make(
        case=other,
        status="approved",
        proposed_by=org.agent,
        decided_by=org.supervisor,
        decided_at=at,
        decision_seconds=5400,
    )
    # What the remedies service announces when an approver decides
    hooks.remedy_changed.emit(
        hooks.RemedyChanged(
            remedy_id=remedy.pk,
            case_id=other.pk,
            before="pending_approval",
            after="approved",
            actor_id=org.supervisor.pk,
        )
    )
    return Fed(
        case_ref=case.ref,
        survey_id=survey.pk,
        compliment_id=survey.compliment.pk,
        remedy_id=remedy.pk,
    )


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _period(first: date, last: date) -> dict[str, str]:
    return {"from": first.isoformat(), "to": last.isoformat()}


def _month(day: date) -> tuple[date, date]:
    first = day.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    return first, after - timedelta(days=1)


def _page_counts(client: Client, period: dict[str, str]) -> dict[str, int]:
    response = client.get(reverse("web:feedback-kpis"), period)
    assert response.status_code == 200
    figures = response.context["kpis"].by_key()
    return {key: figures[key].count for key in FIGURES}


def _api_counts(user: Any, api_client_for: Any, period: dict[str, str]) -> dict[str, int]:
    response = api_client_for(user).get("/api/v1/kpis", **period)
    assert response.status_code == 200, response.content
    figures = {f["key"]: f for f in response.json()["figures"]}
    for figure in figures.values():  # each figure links to its rows for the same days
        assert f"from={period['from']}&to={period['to']}" in figure["drill_down"]
    return {key: figures[key]["count"] for key in FIGURES}


def _drilled(client: Client, period: dict[str, str]) -> dict[str, list[Any]]:
    listed: dict[str, list[Any]] = {}
    for measure in FIGURES.values():
        response = client.get(reverse("web:feedback-kpi-drill", args=[measure]), period)
        assert response.status_code == 200
        items = response.context["page"].items
        listed[measure] = [item.case.ref if measure == "cases" else item.pk for item in items]
    return listed


def _champion_compliments(client: Client, period: dict[str, str]) -> tuple[int, list[int]]:
    response = client.get(reverse("web:feedback-champions"), period)
    assert response.status_code == 200
    champions = response.context["champions"]
    figure = champions.figures.by_key()["compliments"]
    return figure.count, [c.pk for c in champions.recent_compliments]


@pytest.mark.parametrize("moment", MOMENTS, ids=IDS)
def test_every_figure_counts_on_the_organisations_day_and_month(
    org: Org, api_client_for: Any, moment: Moment
) -> None:
    organisation_save(time_zone=moment.zone, currency="USD")
    fed = _feed(org, moment.at)
    local, other = moment.local_day, moment.other_day

    # The sums: one day and one month, the local ones
    assert set(KpiDay.objects.values_list("day", flat=True)) == {local}
    assert set(KpiMonth.objects.values_list("month", flat=True)) == {local.replace(day=1)}

    client = _client(org.manager)
    one = dict.fromkeys(FIGURES, 1)
    none = dict.fromkeys(FIGURES, 0)
    expected_rows = {
        "cases": [fed.case_ref],
        "surveys": [fed.survey_id],
        "compliments": [fed.compliment_id],
        "approvals": [fed.remedy_id],
    }
    no_rows: dict[str, list[Any]] = {measure: [] for measure in FIGURES.values()}
    for period, counts, rows in [
        (_period(local, local), one, expected_rows),
        (_period(other, other), none, no_rows),
        (_period(*_month(local)), one, expected_rows),  # a whole month: the monthly sums
        (_period(*_month(other)), none, no_rows),
        # a month and the edge day across midnight: months plus days
        (_period(min(local, other), max(_month(local)[1], _month(other)[1])), one, expected_rows),
    ]:
        assert _page_counts(client, period) == counts, period
        assert _api_counts(org.manager, api_client_for, period) == counts, period
        assert _drilled(client, period) == rows, period
        shown = [fed.compliment_id] if counts["compliments"] else []
        assert _champion_compliments(client, period) == (counts["compliments"], shown), period

    # The person's own view and the team's agree
    mine = _page_counts(_client(org.agent), _period(local, local))
    assert mine == {"resolve_time": 1, "csat": 1, "compliments": 1, "approvals": 0}
    team = {**_period(local, local), "team": str(org.team.pk)}
    assert _page_counts(_client(org.supervisor), team) == one


def test_the_default_period_ends_on_the_organisations_today(org: Org) -> None:
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    # 11:30 UTC on 30 November is already 1 December in Auckland
    with time_machine.travel(datetime(2026, 11, 30, 11, 30, tzinfo=UTC), tick=False):
        scope = _client(org.manager).get(reverse("web:feedback-kpis")).context["scope"]
    assert (scope.start, scope.end) == (date(2026, 11, 2), date(2026, 12, 1))


def _sums() -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    return (
        sorted(KpiDay.objects.values_list(*SUMS)),
        sorted(KpiMonth.objects.values_list(*MONTH_SUMS)),
    )


def _feed_all(org: Org) -> None:
    for moment in MOMENTS:
        _feed(org, moment.at)


@pytest.mark.parametrize("zone", ["Pacific/Auckland", "America/Los_Angeles", "UTC"])
def test_the_set_based_rebuild_equals_the_live_sums(org: Org, zone: str) -> None:
    organisation_save(time_zone=zone, currency="USD")
    _feed_all(org)
    live = _sums()
    assert live[0]
    kpi_sums_rebuild()
    assert _sums() == live
    # from a day on: that day's month and the later ones are replaced, earlier ones kept
    KpiDay.objects.filter(day__gte=date(2026, 12, 1)).update(resolved=99)
    KpiMonth.objects.filter(month__gte=date(2026, 12, 1)).update(resolved=99)
    KpiMonth.objects.filter(month__lt=date(2026, 12, 1)).update(resolved=77)
    kpi_sums_rebuild(since=date(2026, 12, 31))
    assert set(KpiMonth.objects.filter(month__lt=date(2026, 12, 1)).values_list("resolved")) == {
        (77,)
    }
    kpi_sums_rebuild()
    assert _sums() == live
    # the facts too (a moment: its organisation day on)
    kpi_rebuild(since=datetime(2026, 12, 31, 12, 0, tzinfo=UTC))
    assert _sums() == live


def test_the_rebuild_command_rekeys_the_sums_after_a_zone_change(org: Org) -> None:
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    fed = _feed(org, MOMENTS[1].at)  # 00:30 on 1 December in Auckland, 30 November in UTC
    assert set(KpiDay.objects.values_list("day", flat=True)) == {date(2026, 12, 1)}

    organisation_save(time_zone="America/Los_Angeles", currency="USD")
    # Until the rebuild, the rows keep Auckland's days
    assert set(KpiDay.objects.values_list("day", flat=True)) == {date(2026, 12, 1)}
    call_command("kpi_rebuild", "--sums-only", stdout=_Sink())
    # 11:30 UTC on 30 November is 03:30 that day in Los Angeles
    assert set(KpiDay.objects.values_list("day", flat=True)) == {date(2026, 11, 30)}
    assert set(KpiMonth.objects.values_list("month", flat=True)) == {date(2026, 11, 1)}
    client = _client(org.manager)
    day = _period(date(2026, 11, 30), date(2026, 11, 30))
    assert _page_counts(client, day) == dict.fromkeys(FIGURES, 1)
    assert _drilled(client, day)["cases"] == [fed.case_ref]
    assert _page_counts(client, _period(*_month(date(2026, 12, 1)))) == dict.fromkeys(FIGURES, 0)

    # The whole rebuild (facts too) gives the same
    before = _sums()
    out = _Sink()
    call_command("kpi_rebuild", stdout=out)
    assert _sums() == before
    assert "by the days of America/Los_Angeles" in out.text
    call_command("kpi_rebuild", "--since", "2026-11-30", stdout=_Sink())
    assert _sums() == before


def test_the_rebuild_removes_sums_nothing_is_behind_and_handles_an_empty_database(
    org: Org,
) -> None:
    assert kpi_sums_rebuild() == {"days": 0, "months": 0}
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    _feed(org, MOMENTS[0].at)
    live = _sums()
    # a row left from another zone's days, on a day and in a month with nothing behind them
    stale = dict.fromkeys(SUM_FIELDS, 0) | {"resolved": 1}
    KpiDay.objects.create(key="2025-03-04:0:0", day=date(2025, 3, 4), **stale)
    KpiMonth.objects.create(key="2025-03-01:0:0", month=date(2025, 3, 1), **stale)
    kpi_sums_rebuild()
    assert _sums() == live


def test_the_rebuild_command_refuses_a_bad_date() -> None:
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("kpi_rebuild", "--since", "yesterday", stdout=_Sink())


def test_the_upgrade_rekeys_utc_sums_by_the_organisations_days(org: Org) -> None:
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    _feed_all(org)
    auckland = _sums()
    migration = importlib.import_module(
        "amends.feedback.migrations.0005_kpi_sums_by_organisation_day"
    )
    migration.by_utc_days(django_apps, None)  # what earlier versions kept
    utc_days = set(KpiDay.objects.values_list("day", flat=True))
    assert utc_days == {date(2026, 11, 30), date(2027, 1, 1)}
    migration.by_organisation_days(django_apps, None)
    assert _sums() == auckland


class _Sink:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        return None


def test_kpi_pages_read_a_fixed_number_of_queries(
    org: Org, api_client_for: Any, django_assert_num_queries: Any
) -> None:
    organisation_save(time_zone="Pacific/Auckland", currency="NZD")
    _feed_all(org)
    organisation()  # the settings are cached per process (ORGANISATION_CACHE_SECONDS)
    client = _client(org.manager)
    year = _period(date(2026, 1, 15), date(2027, 1, 10))  # edge days, whole months, edge days
    with django_assert_num_queries(QUERIES["kpis"]):
        assert client.get(reverse("web:feedback-kpis"), year).status_code == 200
    for measure in FIGURES.values():
        with django_assert_num_queries(QUERIES[measure]):
            url = reverse("web:feedback-kpi-drill", args=[measure])
            assert client.get(url, year).status_code == 200
    with django_assert_num_queries(QUERIES["champions"]):
        assert client.get(reverse("web:feedback-champions"), year).status_code == 200
    api = api_client_for(org.manager)
    api.get("/api/v1/kpis")  # the token's first use records it
    with django_assert_num_queries(QUERIES["api"]):
        assert api.get("/api/v1/kpis", **year).status_code == 200


# session, user, staff profile; then the page's own reads; the menu's pending approvals count.
QUERIES = {
    "kpis": 8,  # + monthly sums, edge days' sums, second-look habits, teams for the filter
    "cases": 5,  # + one page of rows with their case and person
    "surveys": 5,
    "compliments": 5,
    "approvals": 5,
    # + teams, standouts from months and from edge days, figures from months and days, the
    # standouts' users, the recent compliments
    "champions": 11,
    "api": 3,  # the token with its user and profile, monthly sums, edge days' sums
}
