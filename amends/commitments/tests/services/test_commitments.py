from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.commitments.choices import CommitmentStatus, TrafficLight
from amends.commitments.models import Commitment, CommitmentDueChange
from amends.commitments.services.commitments import (
    commitment_cancel,
    commitment_create,
    commitment_keep,
    commitment_reschedule,
)
from amends.commitments.tests.factories import CommitmentFactory
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_commitment_create_records_promise_and_timeline() -> None:
    agent = UserFactory(role=Role.AGENT)
    case = CaseFactory()
    with time_machine.travel(NOW, tick=False):
        promise = commitment_create(
            case=case,
            kind="rebate",
            description="One month free",
            owner=agent,
            due_at=NOW + timedelta(days=3),
            actor=agent,
        )
    assert promise.status == CommitmentStatus.OPEN
    assert case.events.filter(kind="commitment_made", data__commitment=promise.pk).exists()


def test_commitment_create_refuses_due_time_in_past() -> None:
    agent = UserFactory()
    case = CaseFactory()
    with time_machine.travel(NOW, tick=False), pytest.raises(ApplicationError) as err:
        commitment_create(
            case=case,
            kind="callback",
            description="Call back",
            owner=agent,
            due_at=NOW - timedelta(minutes=1),
            actor=agent,
        )
    assert err.value.status == 422
    assert err.value.code == "due_in_past"
    assert not Commitment.objects.exists()


def test_commitment_create_refuses_owner_who_is_not_staff() -> None:
    agent = UserFactory()
    outsider = User.objects.create_user("outsider", password="pw")
    with pytest.raises(ApplicationError) as err:
        commitment_create(
            case=CaseFactory(),
            kind="callback",
            description="Call back",
            owner=outsider,
            due_at=datetime.now(UTC) + timedelta(days=1),
            actor=agent,
        )
    assert err.value.status == 422
    assert err.value.code == "invalid_owner"
    assert not Commitment.objects.exists()


def test_commitment_keep_marks_kept_with_evidence() -> None:
    promise = CommitmentFactory()
    kept = commitment_keep(commitment=promise, actor=promise.owner, reference="CR-991")
    assert kept.status == CommitmentStatus.KEPT
    assert kept.kept_reference == "CR-991"
    assert kept.kept_on_time is True
    assert promise.case.events.filter(kind="commitment_kept").exists()


def test_commitment_keep_refuses_cancelled_promise() -> None:
    promise = CommitmentFactory()
    commitment_cancel(
        commitment=promise, reason="Customer withdrew", customer_informed=True, actor=promise.owner
    )
    with pytest.raises(ApplicationError) as err:
        commitment_keep(commitment=promise, actor=promise.owner, note="done")
    assert err.value.status == 409
    promise.refresh_from_db()
    assert promise.status == CommitmentStatus.CANCELLED
    assert promise.kept_at is None


def test_commitment_cancel_needs_reason() -> None:
    promise = CommitmentFactory()
    with pytest.raises(ApplicationError):
        commitment_cancel(
            commitment=promise, reason=" ", customer_informed=False, actor=promise.owner
        )
    promise.refresh_from_db()
    assert promise.status == CommitmentStatus.OPEN


def test_commitment_reschedule_keeps_every_due_time() -> None:
    with time_machine.travel(NOW, tick=False):
        promise = CommitmentFactory(due_at=NOW + timedelta(days=1))
        first = promise.due_at
        commitment_reschedule(
            commitment=promise,
            due_at=NOW + timedelta(days=2),
            reason="Parts late",
            actor=promise.owner,
        )
        commitment_reschedule(
            commitment=promise, due_at=NOW + timedelta(days=5), reason="Again", actor=promise.owner
        )
    history = list(CommitmentDueChange.objects.filter(commitment=promise).order_by("id"))
    assert [h.previous_due_at for h in history] == [first, NOW + timedelta(days=2)]
    promise.refresh_from_db()
    assert promise.due_at == NOW + timedelta(days=5)


def test_commitment_light_is_green_amber_red() -> None:
    with time_machine.travel(NOW, tick=False):
        promise = CommitmentFactory(due_at=NOW + timedelta(hours=5))
        assert promise.light_at(NOW) == TrafficLight.GREEN
        assert promise.light_at(NOW + timedelta(hours=4, minutes=30)) == TrafficLight.AMBER
        assert promise.light_at(NOW + timedelta(hours=6)) == TrafficLight.RED


def test_commitment_create_refuses_unknown_kind() -> None:
    agent = UserFactory(team=TeamFactory())
    with pytest.raises(ApplicationError) as err:
        commitment_create(
            case=CaseFactory(),
            kind="hug",
            description="x",
            owner=agent,
            due_at=datetime.now(UTC) + timedelta(days=1),
            actor=agent,
        )
    assert err.value.status == 422


def test_commitment_create_refuses_owner_who_cannot_see_case() -> None:
    team = TeamFactory()
    agent = UserFactory(team=team)
    stranger = UserFactory(team=TeamFactory(name="Elsewhere"))
    case = CaseFactory(team=team)
    with pytest.raises(ApplicationError) as error:
        commitment_create(
            case=case,
            kind="callback",
            description="Call back",
            owner=stranger,
            due_at=datetime.now(UTC) + timedelta(days=1),
            actor=agent,
        )
    assert error.value.code == "invalid_owner"
    assert error.value.status == 422
    assert not Commitment.objects.exists()
    assert not case.events.filter(kind="commitment_made").exists()


def test_commitment_create_refuses_remedy_of_another_case() -> None:
    team = TeamFactory()
    agent = UserFactory(team=team)
    case = CaseFactory(team=team)
    with pytest.raises(ApplicationError) as error:
        commitment_create(
            case=case,
            kind="rebate",
            description="Rebate",
            owner=agent,
            due_at=datetime.now(UTC) + timedelta(days=1),
            actor=agent,
            remedy_id=987654,
        )
    assert error.value.code == "invalid_remedy"
    assert error.value.detail == {"remedy_id": [error.value.message]}
    assert not Commitment.objects.exists()


def test_commitment_keep_and_cancel_record_status_change_on_timeline() -> None:
    agent = UserFactory()
    case = CaseFactory(team=agent.staff.team)
    kept = CommitmentFactory(case=case, owner=agent)
    cancelled = CommitmentFactory(case=case, owner=agent)
    commitment_keep(commitment=kept, actor=agent, reference="CR-1")
    commitment_cancel(commitment=cancelled, reason="Declined", customer_informed=True, actor=agent)
    keep_event = case.events.get(kind="commitment_kept")
    cancel_event = case.events.get(kind="commitment_cancelled")
    assert keep_event.actor == agent
    assert keep_event.data["status"] == {"from": "open", "to": "kept"}
    assert cancel_event.actor == agent
    assert cancel_event.data["status"] == {"from": "open", "to": "cancelled"}


def test_commitment_keep_refuses_oversized_evidence_file() -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from amends.commitments.services import commitments as service

    agent = UserFactory()
    promise = CommitmentFactory(case=CaseFactory(team=agent.staff.team), owner=agent)
    big = SimpleUploadedFile("proof.pdf", b"x" * (service.EVIDENCE_MAX_BYTES + 1))
    with pytest.raises(ApplicationError) as error:
        commitment_keep(commitment=promise, actor=agent, evidence=big)
    assert "evidence" in error.value.detail
    promise.refresh_from_db()
    assert promise.status == CommitmentStatus.OPEN
    assert not promise.kept_file
