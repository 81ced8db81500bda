from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.services.commitments import commitment_create
from amends.commitments.services.escalations import escalation_raise

pytestmark = pytest.mark.django_db


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_supervisor_lands_on_the_team_overview(team: Any, agent: Any) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team, username="sky")
    other = TeamFactory(name="Network")
    now = timezone.now()
    late = CaseFactory(team=team, title="Late one")
    CaseFactory(team=other, title="Not my team")
    with time_machine.travel(late.sla_due_at, tick=False):
        CaseFactory(team=team, assignee=agent, title="Fine")  # due well after the check below
    escalation_raise(case=late, level="supervisor", note="Angry", actor=agent)
    commitment_create(
        case=late,
        kind="callback",
        description="Ring back before six",
        due_at=now + timedelta(minutes=30),
        owner=agent,
        actor=agent,
    )
    assert late.sla_due_at is not None
    with time_machine.travel(late.sla_due_at + timedelta(minutes=1), tick=False):
        response = _client(supervisor).get(reverse("web:queue"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "<h1>Overview" in body
    overview = response.context["overview"]
    assert overview.scope == "Billing"
    assert [c.title for c in overview.breached] == ["Late one"]
    assert overview.breached_total.count == 1
    assert overview.escalations_total.count == 1
    assert [p.description for p in overview.promises_today] == ["Ring back before six"]
    assert "Not my team" not in body
    # Their own queue is one click away, and an agent still lands on theirs.
    assert _client(supervisor).get(reverse("web:my-queue")).context["heading"] == "My queue"
    assert "overview" not in _client(agent).get(reverse("web:queue")).context


def test_manager_overview_covers_every_team(team: Any) -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    CaseFactory(team=team)
    CaseFactory(team=TeamFactory(name="Network"), assignee=None)
    overview = _client(manager).get(reverse("web:queue")).context["overview"]
    assert overview.scope == "All teams"
    assert overview.unassigned_total.count == 2


def test_overview_query_count_does_not_grow(team: Any, django_assert_num_queries: Any) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    client = _client(supervisor)
    CaseFactory.create_batch(2, team=team)
    client.get(reverse("web:queue"))
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        client.get(reverse("web:queue"))
    CaseFactory.create_batch(12, team=team)
    with django_assert_num_queries(len(few.captured_queries)):
        client.get(reverse("web:queue"))
