"""Local time, the organisation's currency, read/unread notifications, live nav counts, the
favicon and the working-hours editor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.services import staff_time_zone_set
from amends.accounts.tests.factories import UserFactory
from amends.cases.models import Case
from amends.commitments.models import Commitment, Notification
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.core.formats import format_money
from amends.core.money import currency_choices
from amends.core.organisation import organisation, organisation_cache_clear, organisation_save
from amends.policies.models import Calendar
from amends.web.tests.conftest import htmx

pytestmark = pytest.mark.django_db


def _client(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


# ---- time ----------------------------------------------------------------------------------


def test_a_promise_due_time_is_read_in_the_users_own_zone_and_stored_in_utc(
    agent: Any, case: Case
) -> None:
    staff_time_zone_set(user=agent, time_zone="America/New_York")
    local = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=3)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    response = _client(agent).post(
        f"/cases/{case.ref}/commitments/",
        {
            "kind": "callback",
            "description": "Call back",
            "owner": agent.pk,
            "due_at": local.strftime("%Y-%m-%dT%H:%M"),
        },
        **htmx(),
    )
    assert response.status_code == 200
    due = Commitment.objects.get().due_at
    assert due == local.astimezone(UTC)
    assert due.astimezone(ZoneInfo("America/New_York")).hour == 9
    body = response.content.decode()
    assert "Due <span" in body
    assert "America/New_York time" in body
    assert "(UTC)" not in body


def test_pages_show_times_in_the_organisation_zone_unless_the_user_has_their_own(
    agent: Any, case: Case
) -> None:
    organisation_save(name="Demo Ltd", time_zone="Europe/London", currency="GBP")
    summer = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    Case.objects.filter(pk=case.pk).update(created_at=summer)
    client = _client(agent)
    assert "1 Jul 2026, 09:00" in client.get(f"/cases/{case.ref}/").content.decode()
    staff_time_zone_set(user=agent, time_zone="Asia/Tokyo")
    assert "1 Jul 2026, 17:00" in client.get(f"/cases/{case.ref}/").content.decode()


def test_preferences_page_saves_the_users_zone_and_refuses_a_made_up_one(agent: Any) -> None:
    client = _client(agent)
    assert client.get("/me/").status_code == 200
    assert client.post("/me/", {"time_zone": "Europe/Paris"}).status_code == 302
    agent.staff.refresh_from_db()
    assert agent.staff.time_zone == "Europe/Paris"
    response = client.post("/me/", {"time_zone": "Mars/Olympus"})
    assert response.status_code == 422
    agent.staff.refresh_from_db()
    assert agent.staff.time_zone == "Europe/Paris"
    assert client.post("/me/", {"time_zone": ""}).status_code == 302
    agent.staff.refresh_from_db()
    assert agent.staff.time_zone == ""


def test_the_case_page_shows_no_version_number(
    agent: Any, agent_client: Client, case: Case
) -> None:
    body = agent_client.get(f"/cases/{case.ref}/").content.decode()
    assert "<dt>Version</dt>" not in body
    assert 'id="case-version" name="version"' in body  # still posted with every action


# ---- money ---------------------------------------------------------------------------------


def test_organisation_defaults_come_from_the_environment_until_saved(settings: Any) -> None:
    settings.TIME_ZONE = "UTC"
    settings.AMENDS = {**settings.AMENDS, "DEFAULT_CURRENCY": "EUR"}
    organisation_cache_clear()
    assert (organisation().time_zone, organisation().currency) == ("UTC", "EUR")
    organisation_save(time_zone="Europe/London", currency="GBP")
    assert (organisation().time_zone, organisation().currency) == ("Europe/London", "GBP")


def test_currency_choices_put_the_organisations_first_then_the_common_ones() -> None:
    codes = [code for code, _ in currency_choices("CHF")]
    assert codes[:4] == ["CHF", "GBP", "EUR", "USD"]
    assert len(codes) == len(set(codes))


def test_remedy_form_defaults_to_the_organisation_currency(
    agent: Any, agent_client: Client, case: Case
) -> None:
    organisation_save(time_zone="Europe/London", currency="GBP")
    body = agent_client.get(f"/cases/{case.ref}/").content.decode()
    assert '<option value="GBP" selected>GBP</option>' in body
    assert '<option value="AED"' not in body  # a short list, not every code


def test_amounts_read_with_their_currency() -> None:
    assert format_money(Decimal("1240.5"), "GBP") == "£1,240.50"
    assert format_money(Decimal("-5"), "EUR") == "-€5.00"
    assert format_money(Decimal("12"), "CHF") == "12.00 CHF"


def test_my_authority_shows_limits_with_their_currency(agent: Any, agent_client: Client) -> None:
    from amends.remedies.models import AuthorityRule, RemedyKind

    kind = RemedyKind.objects.first() or RemedyKind.objects.create(code="refund", name="Refund")
    organisation_save(time_zone="Europe/London", currency="GBP")
    AuthorityRule.objects.create(role=Role.AGENT, kind=kind, max_per_remedy=Decimal("50.00"))
    body = agent_client.get("/authority/").content.decode()
    assert "£50.00" in body
    assert "Limits are in GBP" in body


# ---- notifications and live counts -----------------------------------------------------------


def _notify(user: User, n: int) -> None:
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=user.pk, kind="escalation_assigned", message=f"N{i}", dedupe_key=f"{i}"
            )
            for i in range(n)
        ]
    )


def test_a_notification_is_marked_read_one_at_a_time_and_the_bell_recounts(agent: Any) -> None:
    _notify(agent, 2)
    first, second = Notification.objects.order_by("pk")
    client = _client(agent)
    page = client.get("/notifications/").content.decode()
    assert "(2 unread)" in page
    assert page.count('class="notification unread"') == 2
    response = client.post(f"/notifications/{first.pk}/read/", **htmx())
    assert response.status_code == 200
    assert response["HX-Trigger"] == "navCountsChanged"
    assert 'class="notification read"' in response.content.decode()
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None
    assert 'data-unread="1"' in client.get("/notifications/bell/").content.decode()
    unread_page = client.get("/notifications/?unread=1").content.decode()
    assert "N1" in unread_page
    assert ">N0<" not in unread_page


def test_nobody_marks_another_persons_notification(agent: Any) -> None:
    other = UserFactory(role=Role.AGENT)
    _notify(other, 1)
    note = Notification.objects.get()
    assert _client(agent).post(f"/notifications/{note.pk}/read/").status_code == 404
    note.refresh_from_db()
    assert note.read_at is None


def test_the_bell_listens_for_nav_count_changes(agent_client: Client) -> None:
    body = agent_client.get("/").content.decode()
    assert "navCountsChanged from:body" in body


# ---- favicon, phone nav ------------------------------------------------------------------------


def test_favicon_is_served_and_linked(agent_client: Client) -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.streaming  # a FileResponse; getvalue() joins its streaming_content
    assert response.getvalue()[:4] == b"\x00\x00\x01\x00"
    body = agent_client.get("/").content.decode()
    assert 'rel="icon"' in body
    assert 'class="nav-toggle' in body
    assert "web/nav.js" in body


# ---- working hours in the admin -------------------------------------------------------------------


def test_admin_working_hours_editor_round_trips(admin_client: Client) -> None:
    calendar = Calendar.objects.create(
        name="Shop", timezone="Europe/London", hours={"mon": [["09:00", "17:00"]]}
    )
    url = f"/admin/policies/calendar/{calendar.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert 'aria-label="Monday start"' in page
    assert 'value="09:00"' in page
    assert "{&quot;mon&quot;" not in page  # no raw JSON
    data: dict[str, str] = {
        "name": "Shop",
        "timezone": "Europe/London",
        "holidays-TOTAL_FORMS": "0",
        "holidays-INITIAL_FORMS": "0",
    }
    for index in range(28):
        data[f"hours_{index}"] = ""
    data.update({"hours_0": "08:30", "hours_1": "12:00", "hours_2": "13:00", "hours_3": "17:30"})
    data.update({"hours_20": "10:00", "hours_21": "14:00"})  # Saturday
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    calendar.refresh_from_db()
    assert calendar.hours == {
        "mon": [["08:30", "12:00"], ["13:00", "17:30"]],
        "sat": [["10:00", "14:00"]],
    }
    data["hours_4"] = "09:00"  # Tuesday start without an end
    page = admin_client.post(url, data).content.decode()
    assert "Tuesday: give both a start and an end time" in page


def test_a_timeline_moment_reads_in_the_readers_zone() -> None:
    from amends.cases.event_kinds import moment_text

    with timezone.override(ZoneInfo("Europe/London")):
        assert moment_text("2026-07-01T08:00:00+00:00") == "1 Jul 2026, 09:00"


def test_remedy_report_rows_group_currencies_under_one_row_the_organisations_first() -> None:
    from amends.web.views.remedies import currency_rows

    rows = [
        {"currency": "GBP", "team": "Billing", "total": Decimal("100.00"), "count": 2},
        {"currency": "GBP", "team": "Network", "total": Decimal("30.00"), "count": 1},
        {"currency": "USD", "team": "Billing", "total": Decimal("40.00"), "count": 1},
        {"currency": "AUD", "team": "Billing", "total": Decimal("5.00"), "count": 1},
    ]
    merged = currency_rows(rows, "team", "USD")
    assert [row["team"] for row in merged] == ["Billing", "Network"]
    assert merged[0]["count"] == 4
    assert [t["currency"] for t in merged[0]["totals"]] == ["USD", "AUD", "GBP"]


def test_stored_texts_name_the_organisation_time_and_its_zone() -> None:
    from amends.core.organisation import organisation_moment

    organisation_save(time_zone="Europe/London", currency="GBP")
    assert organisation_moment(datetime(2026, 7, 1, 8, 0, tzinfo=UTC)) == "1 Jul 2026, 09:00 BST"
    assert organisation_moment(datetime(2026, 1, 5, 8, 0, tzinfo=UTC)) == "5 Jan 2026, 08:00 GMT"
