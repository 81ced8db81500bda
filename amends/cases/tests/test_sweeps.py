"""The SLA sweep: which cases it announces, once per clock, and what it marks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import Outcome
from amends.cases.models import Case
from amends.cases.services.merge import case_merge
from amends.cases.services.workflow import (
    case_acknowledge,
    case_assign,
    case_await_customer,
    case_reopen,
    case_resolve,
    case_update,
)
from amends.cases.sweeps import _at_risk_candidates, _breach_candidates, sla_sweep
from amends.cases.tests.factories import CaseFactory, steps_complete
from amends.core import hooks
from amends.core.testing import hook_recorded

pytestmark = pytest.mark.django_db
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


@pytest.fixture
def agent() -> Any:
    return UserFactory(role=Role.AGENT)


@pytest.fixture
def breached() -> Iterator[list[hooks.CasesSlaBreached]]:
    with hook_recorded(hooks.cases_sla_breached) as seen:
        yield seen


@pytest.fixture
def at_risk() -> Iterator[list[hooks.CasesSlaAtRisk]]:
    with hook_recorded(hooks.cases_sla_at_risk) as seen:
        yield seen


def _fresh(case: Case) -> Case:
    return Case.objects.get(pk=case.pk)


def _sweep(when: datetime) -> int:
    with time_machine.travel(when, tick=False):
        return sla_sweep(now=when)


def _breached_ids(seen: list[hooks.CasesSlaBreached]) -> list[int]:
    return [b.case_id for payload in seen for b in payload.breaches]


def test_breached_case_is_announced_once_with_its_clock_and_marked(agent, breached) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=1)
    case = _fresh(case)
    assert case.sla_due_at is not None
    after = case.sla_due_at + timedelta(minutes=1)
    assert _sweep(after) == 1
    assert _sweep(after + timedelta(minutes=5)) == 0
    [payload] = breached
    assert payload.now == after
    assert payload.breaches == (
        hooks.SlaBreach(
            case_id=case.pk,
            team_id=case.team_id,
            playbook_id=case.playbook_id,
            assignee_id=agent.pk,
            sla_due_at=case.sla_due_at,
        ),
    )
    marked = _fresh(case)
    assert marked.sla_breach_noted_at == after
    # The marker is the sweep's bookkeeping, not an edit: nobody's next save is made stale.
    assert marked.version == case.version
    assert marked.updated_at == case.updated_at


def test_case_not_yet_due_is_left_alone(agent, breached, at_risk) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=1)
    case = _fresh(case)
    assert case.sla_at_risk_at is not None
    assert _sweep(case.sla_at_risk_at - timedelta(seconds=1)) == 0
    assert breached == []
    assert at_risk == []
    assert _fresh(case).sla_at_risk_noted_at is None


def test_at_risk_case_is_announced_once_to_its_assignee(agent, breached, at_risk) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=1)
    case = _fresh(case)
    assert case.sla_due_at is not None
    assert case.sla_at_risk_at is not None
    when = case.sla_at_risk_at + timedelta(seconds=30)
    assert _sweep(when) == 1
    assert _sweep(when) == 0
    [payload] = at_risk
    assert payload.cases == (
        hooks.SlaAtRisk(
            case_id=case.pk,
            assignee_id=agent.pk,
            sla_due_at=case.sla_due_at,
            sla_at_risk_at=case.sla_at_risk_at,
        ),
    )
    assert breached == []
    assert _fresh(case).sla_at_risk_noted_at == when


def test_unassigned_case_at_risk_is_announced_once_someone_has_it(agent, at_risk) -> None:
    manager = UserFactory(role=Role.MANAGER)
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(severity=1)
    case = _fresh(case)
    assert case.sla_at_risk_at is not None
    when = case.sla_at_risk_at + timedelta(seconds=30)
    assert _sweep(when) == 0
    with time_machine.travel(when, tick=False):
        case_assign(case=case, assignee=agent, version=None, actor=manager)
    assert _sweep(when + timedelta(seconds=30)) == 1
    assert [item.assignee_id for payload in at_risk for item in payload.cases] == [agent.pk]


def test_case_awaiting_the_customer_is_skipped(agent, breached) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=1)
        case = case_acknowledge(case=case, version=None, actor=agent)
        case_await_customer(case=case, version=None, actor=agent)
    assert _sweep(NOW + timedelta(days=30)) == 0
    assert breached == []


def test_a_subscriber_holding_a_case_leaves_it_unmarked_until_it_lets_go(agent, breached) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=1)
    due = _fresh(case).sla_due_at
    assert due is not None

    def hold(payload: hooks.CasesSlaBreached) -> None:
        payload.held.extend(b.case_id for b in payload.breaches)

    hooks.cases_sla_breached.subscribe(hold)
    try:
        assert _sweep(due + timedelta(minutes=1)) == 0
        assert _sweep(due + timedelta(minutes=2)) == 0
    finally:
        hooks.cases_sla_breached.unsubscribe(hold)
    assert _fresh(case).sla_breach_noted_at is None
    assert _sweep(due + timedelta(minutes=3)) == 1
    assert _breached_ids(breached) == [case.pk, case.pk, case.pk]
    assert _fresh(case).sla_breach_noted_at == due + timedelta(minutes=3)


def test_severity_change_re_arms_the_clock_and_its_breach_is_announced_again(
    agent, breached
) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=2)
        case = case_acknowledge(case=case, version=None, actor=agent)
    first_due = _fresh(case).sla_due_at
    assert first_due is not None
    noted = first_due + timedelta(minutes=1)
    assert _sweep(noted) == 1
    # Less urgent: the resolve clock gets a later due time, after the breach was noted.
    with time_machine.travel(noted + timedelta(minutes=5), tick=False):
        case = case_update(case=_fresh(case), version=None, actor=agent, severity=4)
    new_due = _fresh(case).sla_due_at
    assert new_due is not None
    assert new_due > noted
    _sweep(new_due - timedelta(minutes=1))  # at risk again, not breached yet
    assert _breached_ids(breached) == [case.pk]
    assert _sweep(new_due + timedelta(minutes=1)) == 1
    assert _breached_ids(breached) == [case.pk, case.pk]
    assert breached[1].breaches[0].sla_due_at == new_due


def test_re_timed_clock_already_past_when_the_breach_was_noted_is_not_announced_again(
    agent, breached
) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=3)
    due = _fresh(case).sla_due_at
    assert due is not None
    noted = due + timedelta(minutes=1)
    assert _sweep(noted) == 1
    # More urgent: the clock is re-timed from the case's creation, so it ran out even earlier,
    # before the breach was noted: the same breach, already handled.
    with time_machine.travel(noted + timedelta(minutes=5), tick=False):
        case_update(case=_fresh(case), version=None, actor=agent, severity=1)
    re_timed = _fresh(case).sla_due_at
    assert re_timed is not None
    assert re_timed < noted
    assert _sweep(noted + timedelta(minutes=10)) == 0
    assert _breached_ids(breached) == [case.pk]


def test_reopened_case_gets_a_fresh_clock_whose_breach_is_announced(agent, breached) -> None:
    with time_machine.travel(NOW, tick=False):
        case = CaseFactory(assignee=agent, severity=1)
        case = case_acknowledge(case=case, version=None, actor=agent)
    due = _fresh(case).sla_due_at
    assert due is not None
    noted = due + timedelta(minutes=1)
    assert _sweep(noted) == 1
    steps_complete(case)
    with time_machine.travel(noted + timedelta(hours=1), tick=False):
        case = case_resolve(
            case=_fresh(case),
            outcome=Outcome.UPHELD,
            version=None,
            actor=agent,
            confirm_undetermined=True,
        )
    reopened_at = noted + timedelta(days=2)
    with time_machine.travel(reopened_at, tick=False):
        case_reopen(case=_fresh(case), version=None, actor=agent)
    fresh_due = _fresh(case).sla_due_at
    assert fresh_due is not None
    assert fresh_due > reopened_at
    assert _sweep(fresh_due + timedelta(minutes=1)) == 1
    assert _breached_ids(breached) == [case.pk, case.pk]


def test_merge_carries_the_duplicates_noted_breach_to_the_survivor(agent, breached) -> None:
    with time_machine.travel(NOW, tick=False):
        survivor = CaseFactory(assignee=agent, severity=3)
        duplicate = CaseFactory(customer=survivor.customer, assignee=agent, severity=1)
    dup_due = _fresh(duplicate).sla_due_at
    keep_due = _fresh(survivor).sla_due_at
    assert dup_due is not None
    assert keep_due is not None
    assert dup_due < keep_due
    # The duplicate's breach is noted after the survivor's clock has run out too; only the
    # duplicate is swept (the survivor is taken by another worker at that moment).
    noted = keep_due + timedelta(minutes=1)
    Case.objects.filter(pk=duplicate.pk).update(sla_breach_noted_at=noted)
    with time_machine.travel(noted + timedelta(minutes=1), tick=False):
        case_merge(duplicate=_fresh(duplicate), survivor=_fresh(survivor), actor=agent)
    assert _fresh(survivor).sla_breach_noted_at == noted
    assert _sweep(noted + timedelta(minutes=2)) == 0
    assert breached == []


@pytest.mark.parametrize("count", [1, 4])
def test_sweep_costs_the_same_queries_for_one_case_or_a_batch(
    agent, breached, django_assert_num_queries, count
) -> None:
    with time_machine.travel(NOW, tick=False):
        cases = [CaseFactory(assignee=agent, severity=1) for _ in range(count)]
    dues = [_fresh(c).sla_due_at for c in cases]
    after = max(d for d in dues if d is not None) + timedelta(minutes=1)
    # Two candidate reads (breached, at risk); for the batch: its savepoint, the lock, the
    # re-check, the one UPDATE of the markers, the savepoint's release.
    with time_machine.travel(after, tick=False), django_assert_num_queries(7):
        assert sla_sweep(now=after) == count
    assert sorted(_breached_ids(breached)) == sorted(c.pk for c in cases)
    # Idle right after: the two candidate reads, nothing else.
    with time_machine.travel(after, tick=False), django_assert_num_queries(2):
        assert sla_sweep(now=after) == 0


def test_candidates_are_read_from_the_sweeps_partial_indexes() -> None:
    now = NOW
    plans = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
    for qs, order in (
        (_breach_candidates(now), ("sla_due_at", "id")),
        (_at_risk_candidates(now), ("sla_at_risk_at", "id")),
    ):
        plans.append(qs.order_by(*order).values_list("pk", flat=True).explain())
    assert "case_sla_breach_todo_idx" in plans[0], plans[0]
    assert "case_sla_at_risk_todo_idx" in plans[1], plans[1]
