"""The incident page's history reads as sentences with names, never codes (like the case
timeline: amends/cases/tests/test_event_kinds.py)."""

from __future__ import annotations

import re
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amends.cases.tests.test_event_kinds import CODE
from amends.incidents.choices import IncidentEventKind
from amends.incidents.event_text import INCIDENT_EVENT_RENDERERS, incident_events_render
from amends.incidents.models import Incident
from amends.incidents.tests.conftest import Ops

SAMPLES: dict[str, dict[str, Any]] = {
    "declared": {"title": "AB9 delayed", "kind": "flight_delay", "magnitude": "200", "severity": 2},
    "updated": {"update": 3, "public": True},
    "status": {"status": {"from": "investigating", "to": "identified"}},
    "affected_added": {"added": 40, "already": 2, "rejected": 1, "created_customers": 3},
    "cases_linked": {"linked": 12, "already": 0, "rejected": 0},
    "round_started": {"round": 2, "kind": "update", "customers": 40, "subject": "News"},
    "round_finished": {"round": 2, "sent": 39, "customers": 40},
    "budget_reached": {"budget_cap": "5000.00", "reserved": "5000.00"},
    "closed": {
        "status": {"from": "resolved", "to": "closed"},
        "root_cause": "Crew rostering",
        "problem": 4,
        "prevention": "Roster a standby crew",
        "owner": "sam",
        "due_at": "2026-03-02T10:00:00+00:00",
        "case": "AM-000012",
    },
    "policy_changed": {"policy": 2},
}


def _event(kind: str, data: dict[str, Any], actor: Any) -> Any:
    label = dict(IncidentEventKind.choices)[kind]
    return SimpleNamespace(kind=kind, data=data, actor=actor, get_kind_display=lambda: label)


def test_every_incident_event_kind_has_a_sample_and_a_renderer() -> None:
    assert set(SAMPLES) == set(IncidentEventKind.values) == set(INCIDENT_EVENT_RENDERERS)


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(SAMPLES))
def test_every_incident_event_reads_without_codes_or_usernames(kind: str) -> None:
    from amends.accounts.tests.factories import UserFactory

    priya = UserFactory(username="priya", first_name="Priya", last_name="Shah")
    UserFactory(username="sam", first_name="Sam", last_name="Lee")
    for actor in (priya, None):
        (line,) = incident_events_render([_event(kind, SAMPLES[kind], actor)])
        assert line.text[:1].isupper() or line.text[:1].isdigit(), line.text
        assert not CODE.search(line.text), f"{kind}: {line.text!r} shows a code"
        assert not re.search(r"\b(priya|sam)\b", line.text), f"{kind}: {line.text!r}"
        if actor is not None and kind not in ("round_finished", "budget_reached"):
            assert "Priya Shah" in line.text or "customer chose" in line.text


@pytest.mark.django_db
def test_the_closed_sentence_names_the_owner_of_the_prevention() -> None:
    from amends.accounts.tests.factories import UserFactory

    UserFactory(username="sam", first_name="Sam", last_name="Lee")
    (line,) = incident_events_render([_event("closed", SAMPLES["closed"], None)])
    assert line.text.startswith("The incident was closed: root cause Crew rostering")
    assert "prevention tracked on AM-000012 owed by Sam Lee" in line.text


@pytest.mark.django_db
def test_incident_page_history_shows_sentences_with_names(ops: Ops) -> None:
    client = Client()
    client.force_login(ops.analyst)
    client.post(
        reverse("web:incident-create"),
        {
            "title": "AB9 Lisbon-Paris delayed",
            "kind": "flight_delay",
            "magnitude": "200",
            "started_at": (timezone.now() - timedelta(hours=5)).strftime("%Y-%m-%dT%H:%M"),
            "severity": "2",
            "public_description": "Your flight arrived late.",
        },
    )
    incident = Incident.objects.get(title="AB9 Lisbon-Paris delayed")
    page = client.get(reverse("web:incident-detail", args=[incident.pk])).content.decode()
    history = page[page.index('<ol class="timeline">') :]
    history = history[: history.index("</ol>")]
    name = ops.analyst.get_full_name()
    assert f"{name} declared the incident “AB9 Lisbon-Paris delayed”" in history
    text = re.sub(r"<[^>]+>", " ", history)
    assert not CODE.search(text), text
    assert not re.search(rf"\b{ops.analyst.username}\b", text)
