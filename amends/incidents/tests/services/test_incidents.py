from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from amends.commitments.models import Commitment
from amends.core import hooks
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.testing import hook_recorded
from amends.incidents.choices import IncidentEventKind, IncidentStatus, ProblemStatus
from amends.incidents.models import Incident, Problem
from amends.incidents.services.incidents import (
    incident_close,
    incident_create,
    incident_status_set,
)
from amends.incidents.tests.conftest import Ops
from amends.incidents.tests.factories import IncidentFactory
from amends.taxonomy.models import RootCause

pytestmark = pytest.mark.django_db


def test_incident_create_pins_the_kinds_active_policy_and_audits(ops: Ops) -> None:
    incident = incident_create(
        title="AB123 Lisbon-Paris delayed",
        kind="flight_delay",
        magnitude="200",
        started_at=timezone.now() - timedelta(hours=4),
        severity=2,
        actor=ops.analyst,
    )
    assert incident.policy == ops.policy
    assert incident.magnitude == Decimal("200.00")
    assert incident.status == IncidentStatus.INVESTIGATING
    assert incident.events.filter(kind=IncidentEventKind.DECLARED).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"kind": "volcano"}, "kind"),
        ({"severity": 9}, "severity"),
        ({"magnitude": "-1"}, "magnitude"),
        ({"magnitude": "1e30"}, "magnitude"),
        ({"magnitude": "NaN"}, "magnitude"),
        ({"title": "  "}, "title"),
        ({"title": "a\x00b"}, "title"),
        ({"started_at": timezone.now() + timedelta(days=4000)}, "started_at"),
    ],
)
def test_incident_create_refuses_bad_input(
    ops: Ops, changes: dict[str, object], field: str
) -> None:
    data: dict[str, object] = {
        "title": "Outage",
        "kind": "flight_delay",
        "magnitude": "5",
        "started_at": timezone.now(),
        "severity": 2,
        **changes,
    }
    with pytest.raises(ApplicationError) as err:
        incident_create(actor=ops.analyst, **data)  # type: ignore[arg-type]
    assert field in err.value.detail
    assert Incident.objects.count() == 1  # only the fixture's


def test_incident_create_refused_to_agents(ops: Ops) -> None:
    with pytest.raises(PermissionDeniedError):
        incident_create(
            title="x",
            kind="flight_delay",
            magnitude=1,
            started_at=timezone.now(),
            severity=3,
            actor=ops.agent,
        )


def test_incident_status_moves_and_refuses_closing_without_root_cause(ops: Ops) -> None:
    incident_status_set(incident=ops.incident, status=IncidentStatus.IDENTIFIED, actor=ops.analyst)
    incident_status_set(incident=ops.incident, status=IncidentStatus.RESOLVED, actor=ops.analyst)
    ops.incident.refresh_from_db()
    assert ops.incident.ended_at is not None
    with pytest.raises(ApplicationError) as err:
        incident_status_set(incident=ops.incident, status=IncidentStatus.CLOSED, actor=ops.analyst)
    assert err.value.code == "close_needs_root_cause"
    with pytest.raises(ApplicationError) as err:
        incident_status_set(
            incident=ops.incident, status=IncidentStatus.INVESTIGATING, actor=ops.analyst
        )
    assert err.value.code == "illegal_transition"


def test_incident_close_promises_prevention_and_groups_by_root_cause(ops: Ops) -> None:
    cause = RootCause.objects.create(name="Crew scheduling")
    due = timezone.now() + timedelta(days=30)
    with hook_recorded(hooks.incident_closed) as seen:
        closed = incident_close(
            incident=ops.incident,
            root_cause=cause,
            prevention="Keep a standby crew at the hub",
            prevention_owner=ops.owner,
            prevention_due_at=due,
            actor=ops.analyst,
        )
        second = IncidentFactory(policy=ops.policy)
        incident_close(
            incident=second,
            root_cause=cause,
            prevention="Review rosters weekly",
            prevention_owner=ops.owner,
            prevention_due_at=due,
            actor=ops.analyst,
        )
    assert closed.status == IncidentStatus.CLOSED
    assert closed.prevention_commitment_id is not None
    commitment = Commitment.objects.get(pk=closed.prevention_commitment_id)
    assert commitment.owner == ops.owner
    assert commitment.due_at == due
    assert commitment.description == "Keep a standby crew at the hub"
    assert commitment.customer_visible is False
    problem = Problem.objects.get()
    assert problem.status == ProblemStatus.OPEN
    assert set(problem.incidents.values_list("pk", flat=True)) == {closed.pk, second.pk}
    assert [p.root_cause_id for p in seen] == [cause.pk, cause.pk]


def test_incident_close_refuses_a_due_date_in_the_past(ops: Ops) -> None:
    cause = RootCause.objects.create(name="Weather")
    with pytest.raises(ApplicationError):
        incident_close(
            incident=ops.incident,
            root_cause=cause,
            prevention="x",
            prevention_owner=ops.owner,
            prevention_due_at=timezone.now() - timedelta(days=1),
            actor=ops.analyst,
        )
    ops.incident.refresh_from_db()
    assert ops.incident.status != IncidentStatus.CLOSED
    assert not Problem.objects.exists()
