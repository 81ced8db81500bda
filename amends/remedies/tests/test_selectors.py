from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.core.exceptions import PermissionDeniedError
from amends.remedies.choices import RemedyStatus
from amends.remedies.selectors import (
    approval_queue,
    authority_overview,
    case_remedy_panel,
    remedy_get_for_user,
    remedy_report,
    remedy_report_allowed,
)
from amends.remedies.services.remedies import remedy_approve, remedy_propose
from amends.remedies.tests.factories import remedy_make
from amends.taxonomy.models import Category

pytestmark = pytest.mark.django_db

SINCE = datetime(2026, 1, 1, tzinfo=UTC)
UNTIL = datetime(2027, 1, 1, tzinfo=UTC)


def test_remedy_get_for_user_hides_other_teams_remedies(org):
    remedy = remedy_make(case=org.case, amount="10.00")
    outsider = UserFactory(role=Role.AGENT, team=org.other_team)
    with pytest.raises(remedy.DoesNotExist):
        remedy_get_for_user(remedy_id=remedy.pk, user=outsider)
    assert remedy_get_for_user(remedy_id=remedy.pk, user=org.manager) == remedy


def test_approval_queue_is_mine_pending_and_soonest_first(org):
    now = datetime.now(UTC)
    late = remedy_make(
        case=org.case,
        status=RemedyStatus.PENDING_APPROVAL,
        approver=org.supervisor,
        decision_due_at=now + timedelta(hours=3),
    )
    soon = remedy_make(
        case=org.case,
        status=RemedyStatus.PENDING_APPROVAL,
        approver=org.supervisor,
        decision_due_at=now + timedelta(hours=1),
    )
    remedy_make(
        case=org.case,
        status=RemedyStatus.PENDING_APPROVAL,
        approver=org.manager,
        decision_due_at=now,
    )
    remedy_make(
        case=org.case, status=RemedyStatus.APPROVED, approver=org.supervisor, decision_due_at=now
    )
    assert list(approval_queue(user=org.supervisor)) == [soon, late]


def test_authority_overview_counts_only_my_recent_remedies(org):
    remedy_make(case=org.case, amount="20.00", proposed_by=org.agent)
    remedy_make(case=org.case, amount="5.00", proposed_by=org.agent, status=RemedyStatus.CANCELLED)
    remedy_make(case=org.case, amount="7.00", proposed_by=org.supervisor)
    with time_machine.travel(datetime.now(UTC) - timedelta(days=40), tick=False):
        remedy_make(case=org.case, amount="9.00", proposed_by=org.agent)
    overview = authority_overview(user=org.agent)
    refund = next(k for k in overview.kinds if k.kind.code == "refund")
    assert [(u["currency"], u["total"], u["count"]) for u in refund.used] == [("USD", 20, 1)]


def test_remedy_report_groups_cost_and_measures_decisions(org):
    parent = Category.objects.create(name="Network")
    child = Category.objects.create(name="Outage", parent=parent)
    other_case = CaseFactory(team=org.other_team, category=child)
    remedy_make(case=other_case, amount="30.00")
    remedy_make(case=org.case, amount="10.00", status=RemedyStatus.ISSUED, issue_reference="CN-1")
    remedy_make(case=org.case, amount="99.00", status=RemedyStatus.REJECTED)
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    decisions = []
    for minutes in (30, 90, 600):
        with time_machine.travel(t0, tick=False):
            r = remedy_propose(
                case=org.case,
                kind="refund",
                amount="60.00",
                currency="USD",
                reason="r",
                actor=org.agent,
            )
        with time_machine.travel(t0 + timedelta(minutes=minutes), tick=False):
            decisions.append(remedy_approve(remedy=r, reason="", actor=org.supervisor))
    report = remedy_report(user=org.manager, since=SINCE, until=UNTIL)
    by_category = {row["category"]: row["total"] for row in report.by_category}
    assert by_category == {None: 190, "Network": 30}
    assert {row["team"]: row["total"] for row in report.by_team} == {"Billing": 190, "Network": 30}
    assert report.needed_approval == 3
    assert report.within_authority == 2
    assert report.share_within_authority == 0.4
    assert report.median_decision_seconds == 90 * 60
    # A supervisor sees only their team's remedies.
    team_report = remedy_report(user=org.supervisor, since=SINCE, until=UNTIL)
    assert [row["team"] for row in team_report.by_team] == ["Billing"]
    with pytest.raises(PermissionDeniedError):
        remedy_report(user=org.agent, since=SINCE, until=UNTIL)


def test_remedy_report_median_of_an_even_count_is_the_mean_of_the_middle_two(org):
    t0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    for minutes in (10, 20, 40, 1000):
        with time_machine.travel(t0, tick=False):
            r = remedy_propose(
                case=CaseFactory(team=org.team),
                kind="refund",
                amount="60.00",
                currency="USD",
                reason="r",
                actor=org.agent,
            )
        with time_machine.travel(t0 + timedelta(minutes=minutes), tick=False):
            remedy_approve(remedy=r, reason="", actor=org.supervisor)
    report = remedy_report(user=org.manager, since=SINCE, until=UNTIL)
    assert report.median_decision_seconds == 30 * 60


def test_case_remedy_panel_flags_what_may_be_issued_or_cancelled(org):
    extra = {
        RemedyStatus.PENDING_APPROVAL: {"approver": org.supervisor, "decision_due_at": UNTIL},
        RemedyStatus.ISSUED: {"issue_reference": "CN-1"},
    }
    by_status = {
        status: remedy_make(case=org.case, status=status, **extra.get(status, {}))
        for status in (
            RemedyStatus.GRANTED,
            RemedyStatus.APPROVED,
            RemedyStatus.PENDING_APPROVAL,
            RemedyStatus.ISSUED,
            RemedyStatus.CANCELLED,
        )
    }
    panel = case_remedy_panel(case=org.case, user=org.agent)
    ids = {status: r.pk for status, r in by_status.items()}
    assert panel.can_issue == {ids[RemedyStatus.GRANTED], ids[RemedyStatus.APPROVED]}
    assert panel.can_cancel == {
        ids[RemedyStatus.GRANTED],
        ids[RemedyStatus.APPROVED],
        ids[RemedyStatus.PENDING_APPROVAL],
    }


def test_remedy_report_allowed_for_supervisors_and_up_only(org):
    assert not remedy_report_allowed(user=org.agent)
    assert remedy_report_allowed(user=org.supervisor)
    assert remedy_report_allowed(user=org.manager)
    with pytest.raises(PermissionDeniedError):
        remedy_report(user=org.agent, since=SINCE, until=UNTIL)
