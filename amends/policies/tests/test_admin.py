"""The policies admin: calendars (with holidays) and playbooks (with steps and SLA targets)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from amends.policies.models import Calendar, Playbook

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_() -> Client:
    client = Client()
    client.force_login(User.objects.create_superuser("root", password="pw"))
    return client


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _hours(**days: tuple[str, ...]) -> dict[str, str]:
    """The working-hours editor's inputs: per day a start and an end, then a second pair."""
    fields = {f"hours_{index}": "" for index in range(len(DAYS) * 4)}
    for day, times in days.items():
        for offset, value in enumerate(times):
            fields[f"hours_{DAYS.index(day) * 4 + offset}"] = value
    return fields


def _calendar_form(hours: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Office",
        "timezone": "Europe/London",
        **hours,
        "holidays-TOTAL_FORMS": "1",
        "holidays-INITIAL_FORMS": "0",
        "holidays-MIN_NUM_FORMS": "0",
        "holidays-MAX_NUM_FORMS": "1000",
        "holidays-0-date": "2026-12-25",
        "holidays-0-name": "Christmas Day",
        **extra,
    }


def test_admin_calendar_add_saves_hours_and_holidays(admin_client_: Client) -> None:
    page = admin_client_.get("/admin/policies/calendar/add/").content.decode()
    assert 'aria-label="Monday start"' in page  # per weekday, not raw JSON
    response = admin_client_.post(
        "/admin/policies/calendar/add/",
        _calendar_form(_hours(mon=("09:00", "17:00"), sat=("10:00", "13:00", "14:00", "16:00"))),
    )

    assert response.status_code == 302
    calendar = Calendar.objects.get(name="Office")
    assert calendar.hours == {
        "mon": [["09:00", "17:00"]],
        "sat": [["10:00", "13:00"], ["14:00", "16:00"]],
    }
    assert [str(d) for d in calendar.holidays.values_list("date", flat=True)] == ["2026-12-25"]


@pytest.mark.parametrize(
    ("hours", "message"),
    [
        (_hours(mon=("09:00", "")), "Monday: give both a start and an end time"),
        (_hours(fri=("", "17:00")), "Friday: give both a start and an end time"),
        (_hours(mon=("17:00", "09:00")), "Invalid working hours"),
        (_hours(mon=("9am", "5pm")), "Invalid working hours"),
        (_hours(mon=("25:00", "26:00")), "Invalid working hours"),
        (_hours(mon=("09:00", "13:00", "12:00", "17:00")), "Invalid working hours"),
        (_hours(), "A calendar needs working hours on at least one day"),
    ],
)
def test_admin_calendar_add_rejects_bad_hours_with_form_error(
    admin_client_: Client, hours: dict[str, str], message: str
) -> None:
    response = admin_client_.post("/admin/policies/calendar/add/", _calendar_form(hours))

    assert response.status_code == 200  # the form again, not a 500 or a redirect
    assert message in response.content.decode()
    assert not Calendar.objects.exists()


def test_admin_calendar_add_rejects_unknown_time_zone(admin_client_: Client) -> None:
    response = admin_client_.post(
        "/admin/policies/calendar/add/",
        _calendar_form(_hours(mon=("09:00", "17:00")), timezone="Mars/Olympus"),
    )

    assert response.status_code == 200
    assert "Unknown time zone" in response.content.decode()
    assert not Calendar.objects.exists()


def test_admin_playbook_add_saves_steps_and_sla_targets_inline(admin_client_: Client) -> None:
    assert admin_client_.get("/admin/policies/playbook/add/").status_code == 200
    data = {
        "name": "Billing disputes",
        "audience": "any",
        "description": "",
        "steps-TOTAL_FORMS": "2",
        "steps-INITIAL_FORMS": "0",
        "steps-MIN_NUM_FORMS": "0",
        "steps-MAX_NUM_FORMS": "1000",
        "steps-0-step": "acknowledge",
        "steps-0-required": "on",
        "steps-0-position": "0",
        "steps-0-due": "resolve",
        "steps-1-step": "follow_up",
        "steps-1-position": "1",
        "steps-1-due": "close",
        "sla_targets-TOTAL_FORMS": "1",
        "sla_targets-INITIAL_FORMS": "0",
        "sla_targets-MIN_NUM_FORMS": "0",
        "sla_targets-MAX_NUM_FORMS": "1000",
        "sla_targets-0-severity": "2",
        "sla_targets-0-acknowledge_minutes": "60",
        "sla_targets-0-resolve_minutes": "480",
    }

    response = admin_client_.post("/admin/policies/playbook/add/", data)

    assert response.status_code == 302, response.content.decode()[:2000]
    playbook = Playbook.objects.get(name="Billing disputes")
    assert [(s.step, s.required, s.due) for s in playbook.steps.order_by("position")] == [
        ("acknowledge", True, "resolve"),
        ("follow_up", False, "close"),
    ]
    target = playbook.sla_targets.get()
    assert (target.severity, target.acknowledge_minutes, target.resolve_minutes) == (2, 60, 480)


def test_calendar_clean_rejects_calendar_without_working_time() -> None:
    from django.core.exceptions import ValidationError

    calendar = Calendar(name="Closed", timezone="UTC", hours={"sat": []})

    with pytest.raises(ValidationError, match="at least one day"):
        calendar.full_clean()
