from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.choices import CaseStatus, StepState
from amends.cases.models import Case
from amends.cases.selectors import (
    CaseFilters,
    case_get_for_user,
    case_list,
    case_message_list,
    case_queue,
    case_step_refusal,
    case_steps,
    case_timeline,
    case_viewers,
    case_visible_to,
    customer_case_list,
)
from amends.cases.services.workflow import case_acknowledge
from amends.cases.tests.factories import CaseFactory, case_in_status
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.pagination import paginate
from amends.customers.tests.factories import CustomerFactory
from amends.policies.choices import StepDue
from amends.taxonomy.tests.factories import CategoryFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def teams() -> tuple[Any, Any]:
    return TeamFactory(name="Billing"), TeamFactory(name="Network")


def test_case_visible_to_agent_sees_team_assigned_and_unrouted(teams: tuple[Any, Any]) -> None:
    mine, other = teams
    agent = UserFactory(role=Role.AGENT, team=mine)
    team_case = CaseFactory(team=mine)
    unrouted = CaseFactory(team=None)
    assigned_elsewhere = CaseFactory(team=other)
    assigned_elsewhere.assignee = agent
    assigned_elsewhere.save(update_fields=["assignee"])
    hidden = CaseFactory(team=other)
    visible = set(case_visible_to(user=agent))
    assert visible == {team_case, unrouted, assigned_elsewhere}
    assert hidden not in visible


def test_case_visible_to_supervisor_is_limited_to_team(teams: tuple[Any, Any]) -> None:
    mine, other = teams
    supervisor = UserFactory(role=Role.SUPERVISOR, team=mine)
    team_case = CaseFactory(team=mine)
    CaseFactory(team=other)
    assert list(case_visible_to(user=supervisor)) == [team_case]


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_case_visible_to_manager_sees_all(role: str, teams: tuple[Any, Any]) -> None:
    manager = UserFactory(role=role, team=None)
    cases = {CaseFactory(team=teams[0]), CaseFactory(team=teams[1]), CaseFactory(team=None)}
    assert set(case_visible_to(user=manager)) == cases


def test_case_visible_to_refuses_users_without_staff_role() -> None:
    from django.contrib.auth.models import User

    plain = User.objects.create_user("plain", password="pw")
    with pytest.raises(PermissionDeniedError):
        case_visible_to(user=plain)


def test_case_viewers_is_case_visible_to_read_the_other_way(teams: tuple[Any, Any]) -> None:
    mine, other = teams
    people = [
        UserFactory(role=Role.AGENT, team=mine),
        UserFactory(role=Role.SUPERVISOR, team=mine),
        UserFactory(role=Role.AGENT, team=other),
        UserFactory(role=Role.SUPERVISOR, team=other),
        UserFactory(role=Role.MANAGER, team=None),
        UserFactory(role=Role.ADMIN, team=other),
    ]
    routed = CaseFactory(team=mine)
    routed.assignee = people[2]
    routed.save(update_fields=["assignee"])
    for case in (routed, CaseFactory(team=other), CaseFactory(team=None)):
        expected = {u for u in people if case_visible_to(user=u).filter(pk=case.pk).exists()}
        assert set(case_viewers(case=case)) == expected
    assert set(case_viewers(case=routed)) == {people[0], people[1], people[2], people[4], people[5]}
    narrowed = case_viewers(case=routed, people=User.objects.filter(staff__role=Role.AGENT))
    assert set(narrowed) == {people[0], people[2]}


def test_case_steps_flags_follow_the_step_services_rule(teams: tuple[Any, Any]) -> None:
    agent = UserFactory(role=Role.AGENT, team=teams[0])
    new = CaseFactory(team=teams[0])
    flags = {s.step: (s.can_done, s.can_skip, s.acknowledge_first) for s in case_steps(case=new)}
    assert flags["acknowledge"] == (True, False, False)  # done, never skipped
    assert flags["apologise"] == (False, False, True)  # acknowledge the customer first
    acked = case_acknowledge(case=new, version=None, actor=agent)
    flags = {s.step: (s.can_done, s.can_skip, s.acknowledge_first) for s in case_steps(case=acked)}
    assert flags["acknowledge"] == (False, False, False)  # already done
    assert flags["apologise"] == (True, True, False)
    resolved = case_in_status(CaseStatus.RESOLVED, actor=agent, team=teams[0])
    # A step due before closing stays open to do after the fix; the rest are locked.
    resolved.steps.filter(step="follow_up").update(
        state=StepState.PENDING, due=StepDue.BEFORE_CLOSE, required=True
    )
    resolved.steps.filter(step="apologise").update(state=StepState.PENDING)
    steps = {s.step: s for s in case_steps(case=resolved)}
    assert (steps["follow_up"].can_done, steps["follow_up"].can_skip) == (True, True)
    assert (steps["apologise"].can_done, steps["apologise"].can_skip) == (False, False)
    for step in steps.values():
        refusal = case_step_refusal(case=resolved, step=step)
        assert step.can_done == (refusal is None)


def test_case_get_for_user_finds_by_ref_in_any_spelling(teams: tuple[Any, Any]) -> None:
    agent = UserFactory(role=Role.AGENT, team=teams[0])
    case = CaseFactory(team=teams[0])
    for ref in (case.ref, case.ref.lower(), str(case.pk), f" {case.ref} "):
        assert case_get_for_user(ref=ref, user=agent) == case


@pytest.mark.parametrize("ref", ["AM-999999", "garbage", "", "AM-", "AM-1.5", "1" * 13, "AM-0"])
def test_case_get_for_user_missing_raises_does_not_exist(ref: str) -> None:
    agent = UserFactory(role=Role.AGENT)
    with pytest.raises(Case.DoesNotExist):
        case_get_for_user(ref=ref, user=agent)


def test_case_get_for_user_forbidden_looks_like_missing(teams: tuple[Any, Any]) -> None:
    agent = UserFactory(role=Role.AGENT, team=teams[0])
    case = CaseFactory(team=teams[1])
    with pytest.raises(Case.DoesNotExist):
        case_get_for_user(ref=case.ref, user=agent)


@pytest.fixture
def manager() -> Any:
    return UserFactory(role=Role.MANAGER, team=None)


def test_case_list_filters_by_status_team_assignee_severity_customer(
    manager: Any, teams: tuple[Any, Any]
) -> None:
    mine, other = teams
    agent = UserFactory(role=Role.AGENT, team=mine)
    customer = CustomerFactory()
    new = CaseFactory(team=mine, severity=1)
    acknowledged = case_in_status(CaseStatus.ACKNOWLEDGED, actor=agent, team=mine, severity=2)
    resolved = case_in_status(CaseStatus.RESOLVED, actor=agent, team=other, customer=customer)

    def ids(**kwargs: Any) -> set[int]:
        return {c.pk for c in case_list(user=manager, filters=CaseFilters(**kwargs))}

    assert ids(status="new") == {new.pk}
    assert ids(status="resolved") == {resolved.pk}
    assert ids(team_id=mine.pk) == {new.pk, acknowledged.pk}
    assert ids(assignee_id=agent.pk) == {acknowledged.pk, resolved.pk}
    assert ids(unassigned=True) == {new.pk}
    assert ids(severity=1) == {new.pk}
    assert ids(customer_id=customer.pk) == {resolved.pk}
    assert ids(open_only=True) == {new.pk, acknowledged.pk}
    assert ids() == {new.pk, acknowledged.pk, resolved.pk}


def test_case_list_category_filter_includes_subcategories(manager: Any) -> None:
    billing = CategoryFactory(name="Billing")
    overcharge = CategoryFactory(name="Overcharge", parent=billing)
    network = CategoryFactory(name="Network")
    in_parent = CaseFactory(category=billing)
    in_child = CaseFactory(category=overcharge)
    CaseFactory(category=network)
    CaseFactory(category=None)
    found = case_list(user=manager, filters=CaseFilters(category_id=billing.pk))
    assert {c.pk for c in found} == {in_parent.pk, in_child.pk}
    found = case_list(user=manager, filters=CaseFilters(category_id=overcharge.pk))
    assert [c.pk for c in found] == [in_child.pk]


def test_case_list_sla_state_filters(manager: Any) -> None:
    agent = UserFactory(role=Role.AGENT)
    # Always-open fallback clocks, severity 1: acknowledge within 60 minutes (at risk at 45)
    with time_machine.travel(NOW, tick=False):
        on_track = CaseFactory(severity=1)
    with time_machine.travel(NOW - timedelta(minutes=50), tick=False):
        at_risk = CaseFactory(severity=1)
    with time_machine.travel(NOW - timedelta(minutes=70), tick=False):
        breached = CaseFactory(severity=1)
        paused = case_in_status(CaseStatus.AWAITING_CUSTOMER, actor=agent, severity=1)
        resolved = case_in_status(CaseStatus.RESOLVED, actor=agent, severity=1)
    with time_machine.travel(NOW, tick=False):

        def ids(state: str) -> list[int]:
            return [c.pk for c in case_list(user=manager, filters=CaseFilters(sla_state=state))]

        assert ids("on_track") == [on_track.pk]
        assert ids("at_risk") == [at_risk.pk]
        assert ids("breached") == [breached.pk]
        assert ids("paused") == [paused.pk]
        assert resolved.pk not in ids("on_track") + ids("breached")


@pytest.mark.parametrize(
    "filters", [CaseFilters(sla_state="late"), CaseFilters(status="lost")], ids=["sla", "status"]
)
def test_case_list_refuses_unknown_filter_values(manager: Any, filters: CaseFilters) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        case_list(user=manager, filters=filters)
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_filter", 422)


def test_case_list_respects_visibility(teams: tuple[Any, Any]) -> None:
    agent = UserFactory(role=Role.AGENT, team=teams[0])
    mine = CaseFactory(team=teams[0])
    CaseFactory(team=teams[1])
    assert list(case_list(user=agent)) == [mine]
    assert list(case_list(user=agent, filters=CaseFilters(team_id=teams[1].pk))) == []


def test_case_queue_orders_by_nearest_due_time(manager: Any) -> None:
    agent = UserFactory(role=Role.AGENT)
    with time_machine.travel(NOW, tick=False):
        low = CaseFactory(severity=4)  # acknowledge within 8h
        critical = CaseFactory(severity=1)  # within 1h
        medium = CaseFactory(severity=3)  # within 4h
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):
        older_critical = CaseFactory(severity=1)
        done = case_in_status(CaseStatus.CLOSED, actor=agent)
    queue = list(case_queue(user=manager))
    assert queue == [older_critical, critical, medium, low]
    assert done not in queue


def test_case_queue_mine_and_team(teams: tuple[Any, Any]) -> None:
    mine_team, other = teams
    agent = UserFactory(role=Role.AGENT, team=mine_team)
    own = CaseFactory(team=mine_team)
    own = case_acknowledge(case=own, version=1, actor=agent)
    teammate_case = CaseFactory(team=mine_team)
    CaseFactory(team=None)
    assert list(case_queue(user=agent, mine=True)) == [own]
    assert set(case_queue(user=agent, team_id=mine_team.pk)) == {own, teammate_case}
    assert list(case_queue(user=agent, team_id=other.pk)) == []


def test_customer_case_list_newest_first(manager: Any) -> None:
    customer = CustomerFactory()
    with time_machine.travel(NOW, tick=False):
        first = CaseFactory(customer=customer)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        second = CaseFactory(customer=customer)
    CaseFactory()
    assert list(customer_case_list(user=manager, customer_id=customer.pk)) == [second, first]


def test_case_timeline_in_order_with_actors() -> None:
    agent = UserFactory(role=Role.AGENT)
    case = CaseFactory()
    case_acknowledge(case=case, version=1, actor=agent)
    events = case_timeline(case=case)
    assert [(e.kind, e.actor) for e in events] == [("created", None), ("acknowledged", agent)]


def test_case_timeline_keeps_the_newest_events_when_limited() -> None:
    agent = UserFactory(role=Role.AGENT)
    case = CaseFactory()
    case_acknowledge(case=case, version=1, actor=agent)
    events = case_timeline(case=case, limit=1)
    assert [e.kind for e in events] == ["acknowledged"]


def test_case_message_list_keeps_the_newest_messages_in_order_when_limited() -> None:
    from amends.cases.choices import MessageDirection
    from amends.cases.services.messages import case_message_add

    agent = UserFactory(role=Role.AGENT)
    case = CaseFactory(description="")
    for n in range(4):
        with time_machine.travel(NOW + timedelta(minutes=n), tick=False):
            case_message_add(
                case=case, direction=MessageDirection.INTERNAL, body=f"note {n}", actor=agent
            )
    bodies = [m.body for m in case_message_list(case=case, limit=2)]
    assert bodies == ["note 2", "note 3"]


@pytest.mark.parametrize("rows", [3, 20])
def test_case_queue_page_query_count_is_constant(
    rows: int, django_assert_num_queries: Any, manager: Any
) -> None:
    parent = CategoryFactory(name="Billing")
    child = CategoryFactory(name="Overcharge", parent=parent)
    team = TeamFactory()
    agent = UserFactory(role=Role.AGENT, team=team)
    for _ in range(rows):
        case = CaseFactory(team=team, category=child)
        case_acknowledge(case=case, version=1, actor=agent)
    with django_assert_num_queries(1):
        page = paginate(case_queue(user=manager), page=1, size=25)
        summary = [
            (c.ref, c.customer.name, c.team.name, c.assignee.username, str(c.category), c.sla_state)
            for c in page.items
        ]
    assert len(summary) == rows
    assert summary[0][4] == "Billing › Overcharge"
