from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseEventKind, CaseStatus, Fault, Outcome, StepState
from amends.cases.models import Case, CaseEvent
from amends.cases.services.workflow import (
    case_acknowledge,
    case_assign,
    case_await_customer,
    case_close,
    case_reopen,
    case_resolve,
    case_resume,
    case_step_done,
    case_step_skip,
    case_update,
)
from amends.cases.tests.factories import CaseFactory, case_in_status, steps_complete
from amends.core.exceptions import ApplicationError, PermissionDeniedError, StaleVersionError
from amends.policies.tests.factories import PlaybookFactory, PlaybookStepFactory
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday

ACTIONS: dict[str, Callable[..., Case]] = {
    "acknowledge": lambda case, actor: case_acknowledge(
        case=case, version=case.version, actor=actor
    ),
    "resume": lambda case, actor: case_resume(case=case, version=case.version, actor=actor),
    "await_customer": lambda case, actor: case_await_customer(
        case=case, version=case.version, actor=actor
    ),
    "resolve": lambda case, actor: case_resolve(
        case=case,
        outcome=Outcome.UPHELD,
        version=case.version,
        actor=actor,
        confirm_undetermined=True,
    ),
    "close": lambda case, actor: case_close(case=case, version=case.version, actor=actor),
    "reopen": lambda case, actor: case_reopen(case=case, version=case.version, actor=actor),
}

# (from status, action) -> (new status, the transition timestamp set, event kind)
LEGAL: dict[tuple[str, str], tuple[str, str, str]] = {
    ("new", "acknowledge"): ("acknowledged", "acknowledged_at", CaseEventKind.ACKNOWLEDGED),
    ("acknowledged", "resume"): ("in_recovery", "recovery_started_at", "status_changed"),
    ("acknowledged", "await_customer"): (
        "awaiting_customer",
        "awaiting_customer_since",
        "status_changed",
    ),
    ("acknowledged", "resolve"): ("resolved", "resolved_at", CaseEventKind.RESOLVED),
    ("in_recovery", "await_customer"): (
        "awaiting_customer",
        "awaiting_customer_since",
        "status_changed",
    ),
    ("in_recovery", "resolve"): ("resolved", "resolved_at", CaseEventKind.RESOLVED),
    ("awaiting_customer", "resume"): ("in_recovery", "recovery_started_at", "status_changed"),
    ("awaiting_customer", "resolve"): ("resolved", "resolved_at", CaseEventKind.RESOLVED),
    ("resolved", "close"): ("closed", "closed_at", CaseEventKind.CLOSED),
    ("resolved", "reopen"): ("in_recovery", "reopened_at", CaseEventKind.REOPENED),
    ("closed", "reopen"): ("in_recovery", "reopened_at", CaseEventKind.REOPENED),
}
ILLEGAL = [
    (status, action)
    for status in CaseStatus.values
    for action in ACTIONS
    if (status, action) not in LEGAL
]


@pytest.fixture
def agent() -> Any:
    return UserFactory(role=Role.AGENT)


@pytest.mark.parametrize(("status", "action"), list(LEGAL))
def test_case_transition_succeeds_and_stamps_time_when_legal(
    status: str, action: str, agent: Any
) -> None:
    # Given a case in `status` with its required steps done
    with time_machine.travel(NOW, tick=False):
        case = case_in_status(status, actor=agent)
        steps_complete(case)
    events_before = case.events.count()
    later = NOW + timedelta(hours=1)
    target, stamp, kind = LEGAL[(status, action)]
    # When the action runs an hour later
    with time_machine.travel(later, tick=False):
        result = ACTIONS[action](case, agent)
    # Then the case moved, stamped the time, bumped its version and wrote one event
    result.refresh_from_db()
    assert result.status == target
    assert getattr(result, stamp) == later
    assert result.version == case.version + 1
    assert result.events.count() == events_before + 1
    event = result.events.order_by("-id").first()
    assert event.kind == kind
    assert event.actor == agent
    assert event.data["status"] == {"from": status, "to": target}


@pytest.mark.parametrize(("status", "action"), ILLEGAL)
def test_case_transition_refused_and_changes_nothing_when_illegal(
    status: str, action: str, agent: Any
) -> None:
    case = case_in_status(status, actor=agent)
    steps_complete(case)
    version, events = case.version, case.events.count()
    with pytest.raises(ApplicationError) as excinfo:
        ACTIONS[action](case, agent)
    assert excinfo.value.code == "illegal_transition"
    assert excinfo.value.status == 409
    case.refresh_from_db()
    assert case.status == status
    assert case.version == version
    assert case.events.count() == events


def test_case_acknowledge_marks_step_and_takes_case(agent: Any) -> None:
    case = CaseFactory(team=None)
    with time_machine.travel(NOW, tick=False):
        case = case_acknowledge(case=case, version=1, actor=agent, note="Called back")
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.version == 2
    assert case.assignee == agent
    assert case.team == agent.staff.team
    step = case.steps.get(step="acknowledge")
    assert (step.state, step.actor, step.at, step.note) == (
        StepState.DONE,
        agent,
        NOW,
        "Called back",
    )
    event = case.events.get(kind=CaseEventKind.ACKNOWLEDGED)
    assert event.actor == agent
    assert event.data["note"] == "Called back"
    assert event.data["status"] == {"from": "new", "to": "acknowledged"}
    assert event.data["assignee"] == {"from": None, "to": agent.username}
    assert event.data["team"] == {"from": None, "to": agent.staff.team.name}


def test_case_acknowledge_keeps_existing_assignee(agent: Any) -> None:
    owner = UserFactory(role=Role.AGENT, team=agent.staff.team)
    case = CaseFactory(assignee=owner)
    case = case_acknowledge(case=case, version=1, actor=agent)
    assert case.assignee == owner


def test_case_acknowledge_switches_sla_clock_to_resolve(agent: Any) -> None:
    case = CaseFactory()
    assert case.sla_due_at == case.ack_due_at
    case = case_acknowledge(case=case, version=1, actor=agent)
    case.refresh_from_db()
    assert case.sla_due_at == case.resolve_due_at
    assert case.sla_at_risk_at == case.resolve_at_risk_at


def test_case_acknowledge_refused_when_version_stale(agent: Any) -> None:
    case = CaseFactory()
    with pytest.raises(StaleVersionError) as excinfo:
        case_acknowledge(case=case, version=7, actor=agent)
    assert excinfo.value.status == 409
    assert excinfo.value.code == "stale_version"
    assert excinfo.value.detail == {"your_version": 7, "current_version": 1}
    case.refresh_from_db()
    assert case.status == CaseStatus.NEW
    assert case.version == 1
    assert list(case.events.values_list("kind", flat=True)) == [CaseEventKind.CREATED]
    assert case.steps.get(step="acknowledge").state == StepState.PENDING


@pytest.mark.parametrize(
    "action",
    [
        lambda c, a: case_step_done(case=c, step="apologise", version=1, actor=a),
        lambda c, a: case_step_skip(case=c, step="empathise", reason="n/a", version=1, actor=a),
        lambda c, a: case_assign(case=c, version=1, actor=a, assignee=a),
        lambda c, a: case_await_customer(case=c, version=1, actor=a),
        lambda c, a: case_resume(case=c, version=1, actor=a),
        lambda c, a: case_resolve(case=c, outcome="upheld", version=1, actor=a),
        lambda c, a: case_update(case=c, version=1, actor=a, title="New title"),
    ],
    ids=["step_done", "step_skip", "assign", "await", "resume", "resolve", "update"],
)
def test_case_action_refused_when_version_stale(action: Any, agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    steps_complete(case)
    snapshot = Case.objects.values().get(pk=case.pk)
    events = case.events.count()
    assert case.version > 1
    with pytest.raises(StaleVersionError):
        action(case, agent)
    assert Case.objects.values().get(pk=case.pk) == snapshot
    assert case.events.count() == events


def test_case_step_done_records_actor_note_and_starts_recovery(agent: Any) -> None:
    case = case_in_status(CaseStatus.ACKNOWLEDGED, actor=agent)
    with time_machine.travel(NOW, tick=False):
        case = case_step_done(
            case=case, step="apologise", version=case.version, actor=agent, note=" Sorry "
        )
    row = case.steps.get(step="apologise")
    assert (row.state, row.actor, row.at, row.note) == (StepState.DONE, agent, NOW, "Sorry")
    assert case.status == CaseStatus.IN_RECOVERY
    assert case.recovery_started_at == NOW
    kinds = list(case.events.order_by("id").values_list("kind", "data"))
    assert kinds[-2] == (
        CaseEventKind.STEP_DONE,
        {"step": "apologise", "state": {"from": "pending", "to": "done"}, "note": "Sorry"},
    )
    assert kinds[-1][0] == CaseEventKind.STATUS_CHANGED
    assert kinds[-1][1]["status"] == {"from": "acknowledged", "to": "in_recovery"}


def test_case_step_done_acknowledge_on_new_case_acknowledges(agent: Any) -> None:
    case = CaseFactory()
    case = case_step_done(case=case, step="acknowledge", version=1, actor=agent)
    assert case.status == CaseStatus.ACKNOWLEDGED
    assert case.steps.get(step="acknowledge").state == StepState.DONE


def test_case_step_done_refused_before_acknowledgement(agent: Any) -> None:
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_step_done(case=case, step="apologise", version=1, actor=agent)
    assert (excinfo.value.code, excinfo.value.status) == ("not_acknowledged", 409)
    assert case.steps.get(step="apologise").state == StepState.PENDING


def test_case_step_done_refused_when_done_twice(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    case = case_step_done(case=case, step="apologise", version=case.version, actor=agent)
    version = case.version
    with pytest.raises(ApplicationError) as excinfo:
        case_step_done(case=case, step="apologise", version=version, actor=agent)
    assert excinfo.value.code == "step_not_pending"
    case.refresh_from_db()
    assert case.version == version


def test_case_step_done_refused_for_unknown_step(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_step_done(case=case, step="dance", version=case.version, actor=agent)
    assert (excinfo.value.code, excinfo.value.status) == ("unknown_step", 422)


def test_case_step_done_refused_when_step_not_in_playbook(agent: Any) -> None:
    playbook = PlaybookFactory(is_default=True)
    PlaybookStepFactory(playbook=playbook, step="acknowledge", position=0)
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_step_done(case=case, step="compensate", version=case.version, actor=agent)
    assert excinfo.value.code == "step_not_in_playbook"


def test_case_step_done_refused_on_resolved_case(agent: Any) -> None:
    case = case_in_status(CaseStatus.RESOLVED, actor=agent)
    case.steps.filter(step="prevent").update(state=StepState.PENDING)
    with pytest.raises(ApplicationError) as excinfo:
        case_step_done(case=case, step="prevent", version=case.version, actor=agent)
    assert excinfo.value.code == "case_not_open"


def test_case_step_skip_records_reason(agent: Any) -> None:
    case = case_in_status(CaseStatus.ACKNOWLEDGED, actor=agent)
    with time_machine.travel(NOW, tick=False):
        case = case_step_skip(
            case=case, step="compensate", reason=" No loss ", version=case.version, actor=agent
        )
    row = case.steps.get(step="compensate")
    assert (row.state, row.skip_reason, row.actor, row.at) == (
        StepState.SKIPPED,
        "No loss",
        agent,
        NOW,
    )
    assert case.status == CaseStatus.IN_RECOVERY
    event = case.events.get(kind=CaseEventKind.STEP_SKIPPED)
    assert event.data == {
        "step": "compensate",
        "state": {"from": "pending", "to": "skipped"},
        "reason": "No loss",
    }


@pytest.mark.parametrize("reason", ["", "   "])
def test_case_step_skip_refused_without_reason(reason: str, agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_step_skip(
            case=case, step="compensate", reason=reason, version=case.version, actor=agent
        )
    assert (excinfo.value.code, excinfo.value.status) == ("skip_reason_required", 422)
    assert case.steps.get(step="compensate").state == StepState.PENDING


def test_case_step_skip_refused_for_acknowledge(agent: Any) -> None:
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_step_skip(case=case, step="acknowledge", reason="busy", version=1, actor=agent)
    assert excinfo.value.code == "step_not_skippable"
    assert case.steps.get(step="acknowledge").state == StepState.PENDING


def test_case_step_skip_refused_before_acknowledgement(agent: Any) -> None:
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_step_skip(case=case, step="compensate", reason="n/a", version=1, actor=agent)
    assert excinfo.value.code == "not_acknowledged"


def test_case_step_skip_refused_when_already_done(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    case = case_step_done(case=case, step="apologise", version=case.version, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_step_skip(case=case, step="apologise", reason="x", version=case.version, actor=agent)
    assert excinfo.value.code == "step_not_pending"
    assert case.steps.get(step="apologise").state == StepState.DONE


def test_case_resolve_refused_while_required_steps_pending(agent: Any) -> None:
    # The fallback playbook: acknowledge, apologise, rectify and follow_up are required
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    case = case_step_done(case=case, step="apologise", version=case.version, actor=agent)
    version = case.version
    with pytest.raises(ApplicationError) as excinfo:
        case_resolve(case=case, outcome=Outcome.UPHELD, version=version, actor=agent)
    assert (excinfo.value.code, excinfo.value.status) == ("required_steps_pending", 409)
    # The follow-up is due before closing, after the fix: it does not hold up resolving.
    assert excinfo.value.detail == {"missing_steps": ["rectify"]}
    assert "rectify" in excinfo.value.message
    case.refresh_from_db()
    assert (case.status, case.version, case.outcome) == (CaseStatus.IN_RECOVERY, version, "")


def test_case_resolve_succeeds_with_optional_steps_pending_and_required_skipped(
    agent: Any,
) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    for step in ("apologise", "rectify"):
        case = case_step_done(case=case, step=step, version=case.version, actor=agent)
    case = case_step_skip(
        case=case, step="follow_up", reason="Customer asked", version=case.version, actor=agent
    )
    case = case_resolve(
        case=case,
        outcome=Outcome.PARTLY_UPHELD,
        version=case.version,
        actor=agent,
        confirm_undetermined=True,
    )
    assert case.status == CaseStatus.RESOLVED
    assert case.outcome == Outcome.PARTLY_UPHELD
    assert case.sla_due_at is None
    assert case.steps.filter(state=StepState.PENDING).count() == 3  # the optional ones


def test_case_resolve_not_upheld_needs_explanation(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    steps_complete(case)
    with pytest.raises(ApplicationError) as excinfo:
        case_resolve(
            case=case,
            outcome=Outcome.NOT_UPHELD,
            explanation="  ",
            version=case.version,
            actor=agent,
        )
    assert (excinfo.value.code, excinfo.value.status) == ("explanation_required", 422)
    assert "explanation" in excinfo.value.detail
    case = case_resolve(
        case=case,
        outcome=Outcome.NOT_UPHELD,
        explanation="The parcel was delivered as signed for.",
        version=case.version,
        actor=agent,
        confirm_undetermined=True,
    )
    assert case.outcome_explanation == "The parcel was delivered as signed for."
    event = case.events.get(kind=CaseEventKind.RESOLVED)
    assert event.data["outcome"] == "not_upheld"
    assert event.data["explanation"] == "The parcel was delivered as signed for."


def test_case_resolve_refused_for_unknown_outcome(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_resolve(case=case, outcome="delighted", version=case.version, actor=agent)
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_outcome", 422)


def test_case_close_keeps_outcome_and_clears_clock(agent: Any) -> None:
    case = case_in_status(CaseStatus.RESOLVED, actor=agent)
    case = case_close(case=case, version=case.version, actor=agent)
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED
    assert case.outcome == Outcome.UPHELD
    assert case.sla_due_at is None


def test_case_reopen_restarts_resolve_clock_and_clears_outcome(agent: Any) -> None:
    with time_machine.travel(NOW, tick=False):
        case = case_in_status(CaseStatus.CLOSED, actor=agent)
    first_due = case.resolve_due_at
    later = NOW + timedelta(days=3)
    with time_machine.travel(later, tick=False):
        case = case_reopen(case=case, version=case.version, actor=agent, reason="Still broken")
    case.refresh_from_db()
    assert case.status == CaseStatus.IN_RECOVERY
    assert (case.outcome, case.outcome_explanation) == ("", "")
    assert case.resolved_at is None
    assert case.closed_at is None
    assert case.reopened_at == later
    assert case.resolve_clock_started_at == later
    assert case.resolve_due_at == first_due + (later - NOW)  # always-open calendar
    assert case.sla_due_at == case.resolve_due_at
    event = case.events.get(kind=CaseEventKind.REOPENED)
    assert event.data["previous_outcome"] == "upheld"
    assert event.data["reason"] == "Still broken"


def test_case_resume_refused_on_resolved_case(agent: Any) -> None:
    case = case_in_status(CaseStatus.RESOLVED, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_resume(case=case, version=case.version, actor=agent)
    assert excinfo.value.code == "illegal_transition"


# ---- assignment -------------------------------------------------------------------------


@pytest.fixture
def team() -> Any:
    return TeamFactory()


@pytest.fixture
def other_team() -> Any:
    return TeamFactory()


def test_case_assign_agent_takes_team_case(team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=team)
    case = case_assign(case=case, version=1, actor=agent, assignee=agent)
    assert case.assignee == agent
    assert case.version == 2
    event = case.events.get(kind=CaseEventKind.ASSIGNED)
    assert event.actor == agent
    assert event.data == {"assignee": {"from": None, "to": agent.username}}


def test_case_assign_agent_takes_colleagues_case_themselves(team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    colleague = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(assignee=colleague)
    case = case_assign(case=case, version=1, actor=agent, assignee=agent)
    assert case.assignee == agent


def test_case_assign_agent_refused_to_assign_someone_else(team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    colleague = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=team)
    with pytest.raises(PermissionDeniedError):
        case_assign(case=case, version=1, actor=agent, assignee=colleague)
    case.refresh_from_db()
    assert case.assignee is None
    assert case.version == 1
    assert not case.events.filter(kind=CaseEventKind.ASSIGNED).exists()


def test_case_assign_agent_refused_to_move_case_to_other_team(team: Any, other_team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=team)
    with pytest.raises(PermissionDeniedError):
        case_assign(case=case, version=1, actor=agent, assignee=None, team=other_team)
    case.refresh_from_db()
    assert case.team == team


def test_case_assign_agent_refused_on_other_teams_case(team: Any, other_team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=other_team)
    with pytest.raises(PermissionDeniedError):
        case_assign(case=case, version=1, actor=agent, assignee=agent)
    case.refresh_from_db()
    assert (case.team, case.assignee) == (other_team, None)


def test_case_assign_agent_releases_own_case_to_team_queue(team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(assignee=agent)
    case = case_assign(case=case, version=1, actor=agent, assignee=None)
    assert case.assignee is None
    assert case.team == team


def test_case_assign_agent_releases_own_case_in_other_team(team: Any, other_team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=other_team)
    Case.objects.filter(pk=case.pk).update(assignee=agent)
    case = case_assign(case=case, version=1, actor=agent, assignee=None)
    assert (case.assignee, case.team) == (None, other_team)


def test_case_assign_agent_refused_to_release_colleagues_case(team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    colleague = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(assignee=colleague)
    with pytest.raises(PermissionDeniedError):
        case_assign(case=case, version=1, actor=agent, assignee=None)
    case.refresh_from_db()
    assert case.assignee == colleague


def test_case_assign_supervisor_assigns_within_team(team: Any) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(team=team)
    case = case_assign(case=case, version=1, actor=supervisor, assignee=agent)
    assert case.assignee == agent


def test_case_assign_supervisor_refused_outside_team(team: Any, other_team: Any) -> None:
    supervisor = UserFactory(role=Role.SUPERVISOR, team=team)
    outsider = UserFactory(role=Role.AGENT, team=other_team)
    case = CaseFactory(team=team)
    with pytest.raises(PermissionDeniedError):
        case_assign(case=case, version=1, actor=supervisor, assignee=outsider)
    with pytest.raises(PermissionDeniedError):
        case_assign(case=case, version=1, actor=supervisor, assignee=None, team=other_team)
    case.refresh_from_db()
    assert (case.team, case.assignee, case.version) == (team, None, 1)


def test_case_assign_manager_assigns_anywhere(team: Any, other_team: Any) -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    outsider = UserFactory(role=Role.AGENT, team=other_team)
    case = CaseFactory(team=team)
    case = case_assign(case=case, version=1, actor=manager, assignee=outsider)
    assert (case.assignee, case.team) == (outsider, other_team)
    event = case.events.get(kind=CaseEventKind.ASSIGNED)
    assert event.data == {
        "assignee": {"from": None, "to": outsider.username},
        "team": {"from": team.name, "to": other_team.name},
    }


def test_case_assign_refused_when_assignee_not_in_given_team(team: Any, other_team: Any) -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_assign(case=case, version=1, actor=manager, assignee=agent, team=other_team)
    assert excinfo.value.code == "invalid_assignee"


def test_case_assign_refused_for_inactive_user(team: Any) -> None:
    manager = UserFactory(role=Role.MANAGER, team=None)
    gone = UserFactory(role=Role.AGENT, team=team, is_active=False)
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_assign(case=case, version=1, actor=manager, assignee=gone)
    assert excinfo.value.code == "invalid_assignee"


def test_case_assign_without_change_writes_nothing(team: Any) -> None:
    agent = UserFactory(role=Role.AGENT, team=team)
    case = CaseFactory(assignee=agent)
    case = case_assign(case=case, version=1, actor=agent, assignee=agent)
    case.refresh_from_db()
    assert case.version == 1
    assert not case.events.filter(kind=CaseEventKind.ASSIGNED).exists()


# ---- update -----------------------------------------------------------------------------


def test_case_update_records_before_and_after(agent: Any) -> None:
    case = CaseFactory(title="Old", fault="undetermined")
    case = case_update(
        case=case, version=1, actor=agent, title=" New ", fault="organisation", expected="X"
    )
    case.refresh_from_db()
    assert (case.title, case.fault, case.expected, case.version) == (
        "New",
        "organisation",
        "X",
        2,
    )
    event = case.events.get(kind=CaseEventKind.UPDATED)
    assert event.actor == agent
    assert event.data == {
        "title": {"from": "Old", "to": "New"},
        "fault": {"from": "undetermined", "to": "organisation"},
        "expected": {"from": "A working connection", "to": "X"},
    }


def test_case_update_category_records_names(agent: Any) -> None:
    parent = CategoryFactory(name="Billing")
    child = CategoryFactory(name="Overcharge", parent=parent)
    case = CaseFactory()
    case = case_update(case=case, version=1, actor=agent, category=child)
    event = case.events.get(kind=CaseEventKind.UPDATED)
    assert event.data == {"category": {"from": None, "to": "Billing › Overcharge"}}


def test_case_update_category_brings_new_playbooks_steps(agent: Any) -> None:
    damage = CategoryFactory(name="Damage")
    playbook = PlaybookFactory(category=damage)
    PlaybookStepFactory(playbook=playbook, step="acknowledge", position=0)
    PlaybookStepFactory(playbook=playbook, step="compensate", position=1, required=True)
    PlaybookStepFactory(playbook=playbook, step="apologise", position=2, required=False)
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)  # fallback steps
    case = case_step_done(case=case, step="rectify", version=case.version, actor=agent)
    case = case_update(case=case, version=case.version, actor=agent, category=damage)
    steps = {s.step: (s.required, s.state) for s in case.steps.all()}
    assert steps["compensate"] == (True, StepState.PENDING)  # now required
    assert steps["apologise"] == (False, StepState.PENDING)  # optional in the new playbook
    assert steps["follow_up"] == (False, StepState.PENDING)  # not in it: no longer required
    assert steps["rectify"] == (True, StepState.DONE)  # what was done stays on record
    with pytest.raises(ApplicationError) as excinfo:
        case_resolve(case=case, outcome=Outcome.UPHELD, version=case.version, actor=agent)
    assert excinfo.value.detail == {"missing_steps": ["compensate"]}


def test_case_update_category_of_closed_case_keeps_playbook(agent: Any) -> None:
    damage = CategoryFactory(name="Damage")
    PlaybookFactory(category=damage)
    case = case_in_status(CaseStatus.CLOSED, actor=agent)
    case = case_update(case=case, version=case.version, actor=agent, category=damage)
    case.refresh_from_db()
    assert case.playbook is None
    assert case.category == damage


def test_case_update_without_change_writes_nothing(agent: Any) -> None:
    case = CaseFactory(title="Same")
    case = case_update(case=case, version=1, actor=agent, title="Same")
    case.refresh_from_db()
    assert case.version == 1
    assert not case.events.filter(kind=CaseEventKind.UPDATED).exists()


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"status": "closed"}, "invalid_field"),
        ({"assignee": None}, "invalid_field"),
        ({"severity": 5}, "invalid_case"),
        ({"severity": 0}, "invalid_case"),
        ({"fault": "gremlins"}, "invalid_case"),
        ({"title": "  "}, "invalid_case"),
        ({"title": "x" * 201}, "invalid_case"),
        ({"category": 3}, "invalid_case"),
        ({"service": "broadband"}, "invalid_case"),
    ],
)
def test_case_update_refused_for_invalid_fields(
    fields: dict[str, Any], code: str, agent: Any
) -> None:
    case = CaseFactory()
    with pytest.raises(ApplicationError) as excinfo:
        case_update(case=case, version=1, actor=agent, **fields)
    assert (excinfo.value.code, excinfo.value.status) == (code, 422)
    case.refresh_from_db()
    assert case.version == 1


def test_every_change_is_on_the_timeline_in_order(agent: Any) -> None:
    case = CaseFactory()
    case = case_acknowledge(case=case, version=1, actor=agent)
    case = case_step_done(case=case, step="apologise", version=2, actor=agent)
    case = case_await_customer(case=case, version=3, actor=agent)
    case = case_resume(case=case, version=4, actor=agent)
    kinds = list(CaseEvent.objects.filter(case=case).order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "created",
        "acknowledged",
        "step_done",
        "status_changed",
        "status_changed",
        "status_changed",
    ]
    assert case.version == 5


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_case_acknowledge_concurrent_same_version_only_one_wins() -> None:
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks")
    team = TeamFactory()
    agents = [UserFactory(role=Role.AGENT, team=team) for _ in range(2)]
    case = CaseFactory(team=team)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(actor: Any) -> None:
        try:
            barrier.wait()
            case_acknowledge(case=case, version=1, actor=actor)
            outcomes.append("ok")
        except StaleVersionError:
            outcomes.append("stale")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(a,)) for a in agents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok", "stale"]
    case.refresh_from_db()
    assert case.version == 2
    assert case.events.filter(kind=CaseEventKind.ACKNOWLEDGED).count() == 1


# ---- lifecycle: undetermined fault, steps due before resolve or before close -------------------


def test_case_resolve_refused_while_fault_undetermined_unless_confirmed(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent)
    steps_complete(case)
    version = case.version
    with pytest.raises(ApplicationError) as excinfo:
        case_resolve(case=case, outcome=Outcome.UPHELD, version=version, actor=agent)
    assert (excinfo.value.code, excinfo.value.status) == ("fault_undetermined", 422)
    assert "confirm_undetermined" in excinfo.value.detail
    case.refresh_from_db()
    assert (case.status, case.version) == (CaseStatus.IN_RECOVERY, version)
    case = case_resolve(
        case=case, outcome=Outcome.UPHELD, version=version, actor=agent, confirm_undetermined=True
    )
    assert case.status == CaseStatus.RESOLVED
    assert case.events.get(kind=CaseEventKind.RESOLVED).data["fault_undetermined"] is True


def test_case_resolve_needs_no_confirmation_once_the_fault_is_known(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, fault=Fault.ORGANISATION)
    steps_complete(case)
    case = case_resolve(case=case, outcome=Outcome.UPHELD, version=case.version, actor=agent)
    assert case.status == CaseStatus.RESOLVED
    assert "fault_undetermined" not in case.events.get(kind=CaseEventKind.RESOLVED).data


def test_case_close_refused_until_the_follow_up_is_done_after_the_fix(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, fault=Fault.ORGANISATION)
    for step in ("apologise", "rectify"):
        case = case_step_done(case=case, step=step, version=case.version, actor=agent)
    # Resolved with the follow-up still to do: it comes after the fix.
    case = case_resolve(case=case, outcome=Outcome.UPHELD, version=case.version, actor=agent)
    assert case.steps.get(step="follow_up").state == StepState.PENDING
    with pytest.raises(ApplicationError) as excinfo:
        case_close(case=case, version=case.version, actor=agent)
    assert (excinfo.value.code, excinfo.value.detail) == (
        "required_steps_pending",
        {"missing_steps": ["follow_up"]},
    )
    assert "before closing" in excinfo.value.message
    case = case_step_done(
        case=case, step="follow_up", version=case.version, actor=agent, note="Called, all fine"
    )
    assert case.status == CaseStatus.RESOLVED  # doing the follow-up does not reopen it
    case = case_close(case=case, version=case.version, actor=agent)
    assert case.status == CaseStatus.CLOSED


def test_case_step_done_refused_after_resolve_for_a_step_due_before_resolve(agent: Any) -> None:
    case = case_in_status(CaseStatus.IN_RECOVERY, actor=agent, fault=Fault.ORGANISATION)
    for step in ("apologise", "rectify"):
        case = case_step_done(case=case, step=step, version=case.version, actor=agent)
    case = case_resolve(case=case, outcome=Outcome.UPHELD, version=case.version, actor=agent)
    with pytest.raises(ApplicationError) as excinfo:
        case_step_done(case=case, step="empathise", version=case.version, actor=agent)
    assert excinfo.value.code == "case_not_open"
