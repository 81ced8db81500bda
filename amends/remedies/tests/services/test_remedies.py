from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import StepState
from amends.cases.models import CaseEvent
from amends.cases.services.workflow import case_close, case_resolve, case_step_skip
from amends.cases.tests.factories import CaseFactory
from amends.core.exceptions import ApplicationError
from amends.policies.models import Calendar, default_hours
from amends.remedies.choices import RemedyEventKind, RemedyStatus
from amends.remedies.models import Remedy
from amends.remedies.services.remedies import (
    remedy_approve,
    remedy_cancel,
    remedy_issue,
    remedy_propose,
    remedy_reject,
)
from amends.remedies.tests.factories import AuthorityRuleFactory, kind, remedy_make

pytestmark = pytest.mark.django_db


def propose(org, amount="40.00", actor=None, case=None, code="refund", currency="USD"):
    return remedy_propose(
        case=case or org.case,
        kind=code,
        amount=amount,
        currency=currency,
        reason="Broadband down for three days",
        actor=actor or org.agent,
    )


def compensate_state(case):
    return case.steps.get(step="compensate").state


# ---- granting: the matrix arithmetic ------------------------------------------------------


def test_remedy_propose_grants_at_once_when_within_every_limit(org):
    remedy = propose(org, "50.00")
    assert remedy.status == RemedyStatus.GRANTED
    assert remedy.approver is None
    assert remedy.customer_id == org.case.customer_id
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.GRANTED)
    assert event.actor == org.agent
    assert event.data["amount"] == "50.00"
    assert event.data["within_authority"] is True
    assert compensate_state(org.case) == StepState.DONE


def test_remedy_propose_needs_approval_when_above_per_remedy_limit(org):
    remedy = propose(org, "50.01")
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    assert remedy.approver == org.supervisor
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.APPROVAL_REQUESTED)
    assert event.data["approver"] == "sam"
    assert event.data["breaches"][0]["limit"] == "max_per_remedy"
    assert compensate_state(org.case) == StepState.PENDING


def test_remedy_propose_needs_approval_when_case_total_would_pass_per_case_limit(org):
    assert propose(org, "50.00").status == RemedyStatus.GRANTED
    assert propose(org, "40.00").status == RemedyStatus.GRANTED
    third = propose(org, "20.00")  # 110 > 100 on this case
    assert third.status == RemedyStatus.PENDING_APPROVAL
    assert third.approver == org.supervisor


def test_remedy_propose_per_case_total_counts_pending_but_not_rejected_or_cancelled(org):
    remedy_make(
        case=org.case,
        amount="60.00",
        status=RemedyStatus.PENDING_APPROVAL,
        approver=org.supervisor,
        decision_due_at=datetime.now(UTC),
    )
    remedy_make(case=org.case, amount="90.00", status=RemedyStatus.REJECTED)
    remedy_make(case=org.case, amount="90.00", status=RemedyStatus.CANCELLED)
    assert propose(org, "40.00").status == RemedyStatus.GRANTED  # 60 + 40 = 100
    assert propose(org, "0.01").status == RemedyStatus.PENDING_APPROVAL


def test_remedy_propose_per_case_total_is_per_currency(org):
    remedy_make(case=org.case, amount="90.00", currency="EUR")
    assert propose(org, "50.00", currency="USD").status == RemedyStatus.GRANTED


def test_remedy_propose_rolling_customer_limit_counts_other_cases_within_the_period(org):
    other_case = CaseFactory(customer=org.case.customer, team=org.team)
    remedy_make(case=other_case, amount="50.00")
    remedy_make(case=other_case, amount="50.00", status=RemedyStatus.ISSUED, issue_reference="CN-1")
    assert propose(org, "50.00").status == RemedyStatus.GRANTED  # 150 of 150
    assert propose(org, "0.01").status == RemedyStatus.PENDING_APPROVAL


def test_remedy_propose_rolling_customer_limit_ignores_remedies_outside_the_period(org):
    other_case = CaseFactory(customer=org.case.customer, team=org.team)
    with time_machine.travel(datetime.now(UTC) - timedelta(days=31), tick=False):
        remedy_make(case=other_case, amount="50.00")
        remedy_make(case=other_case, amount="50.00")
    with time_machine.travel(datetime.now(UTC) - timedelta(days=29), tick=False):
        remedy_make(case=other_case, amount="50.00")
    assert propose(org, "50.00").status == RemedyStatus.GRANTED  # 50 within 30 days + 50
    assert propose(org, "50.00").status == RemedyStatus.GRANTED  # 150 exactly
    assert propose(org, "1.00").status == RemedyStatus.PENDING_APPROVAL


def test_remedy_propose_person_rule_beats_role_rule_when_more_generous(org):
    AuthorityRuleFactory(
        role="", user=org.agent, kind=kind("refund"), max_per_remedy=Decimal("500.00")
    )
    # The person's rule replaces the role's entirely: no per-case or per-customer limit.
    assert propose(org, "300.00").status == RemedyStatus.GRANTED
    assert propose(org, "300.00").status == RemedyStatus.GRANTED


def test_remedy_propose_person_rule_beats_role_rule_when_stricter(org):
    AuthorityRuleFactory(
        role="", user=org.agent, kind=kind("refund"), max_per_remedy=Decimal("10.00")
    )
    assert propose(org, "20.00").status == RemedyStatus.PENDING_APPROVAL


def test_remedy_propose_denied_kind_needs_approval(org):
    AuthorityRuleFactory(role="", user=org.agent, kind=kind("refund"), allowed=False)
    remedy = propose(org, "1.00")
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.APPROVAL_REQUESTED)
    assert event.data["breaches"] == [{"limit": "not_allowed", "allowed": None, "would_be": None}]


def test_remedy_propose_kind_without_any_rule_is_not_within_authority(org):
    AuthorityRuleFactory(role=Role.SUPERVISOR, kind=kind("voucher"))
    remedy = propose(org, "5.00", code="voucher")
    assert remedy.status == RemedyStatus.PENDING_APPROVAL
    assert remedy.approver == org.supervisor


def test_remedy_propose_non_monetary_kind_granted_when_allowed(org):
    AuthorityRuleFactory(role=Role.AGENT, kind=kind("repair"))
    remedy = propose(org, None, code="repair", currency="")
    assert remedy.status == RemedyStatus.GRANTED
    assert remedy.amount is None
    assert remedy.currency == ""


# ---- routing ------------------------------------------------------------------------------


def test_remedy_propose_routes_to_same_team_supervisor_before_other_supervisors(org):
    # "aaron" sorts before "sam" but is in another team.
    assert propose(org, "150.00").approver == org.supervisor


def test_remedy_propose_routes_to_manager_when_supervisor_limit_does_not_cover(org):
    remedy = propose(org, "500.00")
    assert remedy.approver == org.manager


def test_remedy_propose_routes_up_to_a_manager_not_another_teams_supervisor(org):
    # The agent's team has no supervisor now: a supervisor of another team cannot open the
    # case, so the request goes up the roles to the manager (who sees every team).
    org.supervisor.staff.team = org.other_team
    org.supervisor.staff.save()
    remedy = propose(org, "150.00")
    assert remedy.approver == org.manager


def test_remedy_propose_routes_to_any_supervisor_when_the_case_has_no_team(org):
    case = CaseFactory(team=None)
    remedy = propose(org, "150.00", case=case)
    # Same team as the proposer first (sam), though "aaron" sorts first by name.
    assert remedy.approver == org.supervisor
    org.supervisor.is_active = False
    org.supervisor.save()
    assert propose(org, "150.00", case=case).approver == org.other_supervisor


def test_remedy_propose_never_routes_to_the_proposer_or_someone_below(org):
    remedy = propose(org, "500.00", actor=org.supervisor)
    assert remedy.approver == org.manager
    with pytest.raises(ApplicationError) as exc:
        propose(org, "5000.00", actor=org.manager)
    assert exc.value.code == "no_authority"


def test_remedy_propose_skips_inactive_approvers(org):
    org.supervisor.is_active = False
    org.supervisor.save()
    assert propose(org, "150.00").approver == org.manager


def test_remedy_propose_refuses_with_409_when_no_one_has_authority(org):
    with pytest.raises(ApplicationError) as exc:
        propose(org, "5000.00")
    assert exc.value.status == 409
    assert exc.value.code == "no_authority"
    assert not Remedy.objects.exists()
    assert not CaseEvent.objects.filter(kind__startswith="remedy_").exists()


@time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False)
def test_remedy_propose_decision_due_after_four_hours_around_the_clock_without_calendar(org):
    remedy = propose(org, "150.00")
    assert remedy.decision_due_at == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    assert remedy.approval_requested_at == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def test_remedy_propose_decision_due_counts_business_hours_only(org):
    Calendar.objects.create(name="Office", timezone="UTC", hours=default_hours(), is_default=True)
    # Friday 15:00: two hours left on Friday, two more from Monday 09:00.
    with time_machine.travel(datetime(2026, 3, 6, 15, 0, tzinfo=UTC), tick=False):
        remedy = propose(org, "150.00")
    assert remedy.decision_due_at == datetime(2026, 3, 9, 11, 0, tzinfo=UTC)


@pytest.mark.parametrize("step", ["resolve", "close"])
def test_remedy_propose_refused_on_resolved_or_closed_case(org, step):
    case_step_skip(case=org.case, step="rectify", reason="n/a", version=None, actor=org.agent)
    case_step_skip(case=org.case, step="apologise", reason="n/a", version=None, actor=org.agent)
    case_step_skip(case=org.case, step="follow_up", reason="n/a", version=None, actor=org.agent)
    case = case_resolve(
        case=org.case, outcome="upheld", version=None, actor=org.agent, confirm_undetermined=True
    )
    if step == "close":
        case = case_close(case=case, version=None, actor=org.agent)
    with pytest.raises(ApplicationError) as exc:
        propose(org, "10.00", case=case)
    assert (exc.value.status, exc.value.code) == (409, "case_not_open")
    assert not Remedy.objects.exists()


@pytest.mark.parametrize(
    ("amount", "currency", "code", "error"),
    [
        ("0", "USD", "refund", "invalid_amount"),
        ("-5.00", "USD", "refund", "invalid_amount"),
        ("1.001", "USD", "refund", "invalid_amount"),
        ("abc", "USD", "refund", "invalid_remedy"),
        ("10.00", "XYZ", "refund", "unknown_currency"),
        ("10.00", "", "refund", "invalid_currency"),
        (None, "", "refund", "invalid_amount"),
        ("10.00", "USD", "teleport", "unknown_kind"),
    ],
)
def test_remedy_propose_rejects_bad_input_with_422(org, amount, currency, code, error):
    with pytest.raises(ApplicationError) as exc:
        propose(org, amount, currency=currency, code=code)
    assert (exc.value.status, exc.value.code) == (422, error)
    assert not Remedy.objects.exists()


def test_remedy_propose_compensate_step_left_alone_on_new_case(org):
    case = CaseFactory(team=org.team)
    remedy = propose(org, "10.00", case=case)
    assert remedy.status == RemedyStatus.GRANTED
    assert compensate_state(case) == StepState.PENDING


def test_remedy_propose_succeeds_when_compensate_step_already_skipped(org):
    case_step_skip(
        case=org.case, step="compensate", reason="Customer declined", version=None, actor=org.agent
    )
    assert propose(org, "10.00").status == RemedyStatus.GRANTED
    assert compensate_state(org.case) == StepState.SKIPPED


# ---- approvals ----------------------------------------------------------------------------


def test_remedy_approve_marks_approved_and_records_the_decision(org):
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=UTC), tick=False):
        remedy = propose(org, "150.00")
    with time_machine.travel(datetime(2026, 3, 2, 11, 30, tzinfo=UTC), tick=False):
        remedy = remedy_approve(remedy=remedy, reason="Fair", actor=org.supervisor)
    assert remedy.status == RemedyStatus.APPROVED
    assert remedy.decided_by == org.supervisor
    assert remedy.decision_seconds == 5400
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.APPROVED)
    assert event.actor == org.supervisor
    assert event.data["decision_reason"] == "Fair"
    assert compensate_state(org.case) == StepState.DONE


def test_remedy_approve_refuses_self_approval(org):
    remedy = propose(org, "500.00", actor=org.supervisor)
    remedy.approver = org.supervisor  # even if it were somehow routed to them
    Remedy.objects.filter(pk=remedy.pk).update(approver=org.supervisor)
    with pytest.raises(ApplicationError) as exc:
        remedy_approve(remedy=remedy, reason="", actor=org.supervisor)
    assert exc.value.status == 403
    assert Remedy.objects.get(pk=remedy.pk).status == RemedyStatus.PENDING_APPROVAL


def test_remedy_approve_refuses_above_the_approvers_own_authority(org):
    remedy = propose(org, "150.00")
    AuthorityRuleFactory(
        role="", user=org.supervisor, kind=kind("refund"), max_per_remedy=Decimal("100.00")
    )
    with pytest.raises(ApplicationError) as exc:
        remedy_approve(remedy=remedy, reason="", actor=org.supervisor)
    assert (exc.value.status, exc.value.code) == (403, "above_authority")
    assert Remedy.objects.get(pk=remedy.pk).status == RemedyStatus.PENDING_APPROVAL
    assert not CaseEvent.objects.filter(kind=RemedyEventKind.APPROVED).exists()


def test_remedy_approve_refuses_deciding_twice(org):
    remedy = propose(org, "150.00")
    remedy_approve(remedy=remedy, reason="", actor=org.supervisor)
    with pytest.raises(ApplicationError) as exc:
        remedy_reject(remedy=remedy, reason="Changed my mind", actor=org.supervisor)
    assert (exc.value.status, exc.value.code) == (409, "already_decided")
    assert Remedy.objects.get(pk=remedy.pk).status == RemedyStatus.APPROVED


def test_remedy_approve_refuses_a_peer_who_is_not_the_approver(org):
    remedy = propose(org, "150.00")
    with pytest.raises(ApplicationError) as exc:
        remedy_approve(remedy=remedy, reason="", actor=org.other_supervisor)
    assert exc.value.status == 403


def test_remedy_approve_allows_someone_above_the_approver(org):
    remedy = propose(org, "150.00")
    remedy = remedy_approve(remedy=remedy, reason="Stepping in", actor=org.manager)
    assert remedy.status == RemedyStatus.APPROVED
    assert remedy.decided_by == org.manager


def test_remedy_reject_needs_a_reason_and_records_it(org):
    remedy = propose(org, "150.00")
    with pytest.raises(ApplicationError) as exc:
        remedy_reject(remedy=remedy, reason="  ", actor=org.supervisor)
    assert exc.value.status == 422
    remedy = remedy_reject(remedy=remedy, reason="Outside policy", actor=org.supervisor)
    assert remedy.status == RemedyStatus.REJECTED
    event = CaseEvent.objects.get(case=org.case, kind=RemedyEventKind.REJECTED)
    assert event.data["decision_reason"] == "Outside policy"
    assert compensate_state(org.case) == StepState.PENDING


# ---- issue / cancel -----------------------------------------------------------------------


def test_remedy_issue_records_the_reference(org):
    remedy = propose(org, "10.00")
    remedy = remedy_issue(remedy=remedy, reference="CN-2026-001", actor=org.agent)
    assert remedy.status == RemedyStatus.ISSUED
    assert remedy.issue_reference == "CN-2026-001"
    assert CaseEvent.objects.filter(case=org.case, kind=RemedyEventKind.ISSUED).exists()


def test_remedy_issue_refused_while_pending_or_without_reference(org):
    granted = propose(org, "10.00")
    pending = propose(org, "150.00")
    with pytest.raises(ApplicationError) as exc:
        remedy_issue(remedy=pending, reference="CN-1", actor=org.agent)
    assert (exc.value.status, exc.value.code) == (409, "not_issuable")
    with pytest.raises(ApplicationError) as exc:
        remedy_issue(remedy=granted, reference=" ", actor=org.agent)
    assert exc.value.status == 422
    assert Remedy.objects.get(pk=granted.pk).status == RemedyStatus.GRANTED


def test_remedy_cancel_needs_reason_and_frees_the_limit(org):
    first = propose(org, "50.00")
    second = propose(org, "50.00")
    remedy_cancel(remedy=second, reason="Customer preferred a repair", actor=org.agent)
    assert Remedy.objects.get(pk=second.pk).status == RemedyStatus.CANCELLED
    assert propose(org, "50.00").status == RemedyStatus.GRANTED
    remedy_issue(remedy=first, reference="CN-9", actor=org.agent)
    with pytest.raises(ApplicationError) as exc:
        remedy_cancel(remedy=first, reason="Too late", actor=org.agent)
    assert (exc.value.status, exc.value.code) == (409, "not_cancellable")


def test_remedy_propose_by_supervisor_within_own_limit_is_granted(org):
    other = UserFactory(role=Role.SUPERVISOR, team=org.team)
    remedy = propose(org, "180.00", actor=other)
    assert remedy.status == RemedyStatus.GRANTED


# ---- the timeline: actor and before → after for every state change ------------------------


def test_remedy_events_record_the_status_before_and_after(org):
    granted = propose(org, "40.00")
    pending = propose(org, "150.00")
    remedy_approve(remedy=pending, reason="Fair", actor=org.supervisor)
    remedy_issue(remedy=granted, reference="CN-1", actor=org.agent)
    remedy_cancel(remedy=pending, reason="Customer declined", actor=org.agent)
    events = [
        (e.kind, e.actor.username, e.data["status"])
        for e in CaseEvent.objects.filter(kind__startswith="remedy_").order_by("id")
    ]
    assert events == [
        ("remedy_granted", "alice", {"from": "proposed", "to": "granted"}),
        ("remedy_approval_requested", "alice", {"from": "proposed", "to": "pending_approval"}),
        ("remedy_approved", "sam", {"from": "pending_approval", "to": "approved"}),
        ("remedy_issued", "alice", {"from": "granted", "to": "issued"}),
        ("remedy_cancelled", "alice", {"from": "approved", "to": "cancelled"}),
    ]


def test_remedy_reject_event_records_the_status_before_and_after(org):
    pending = propose(org, "150.00")
    remedy_reject(remedy=pending, reason="Outside policy", actor=org.supervisor)
    event = CaseEvent.objects.get(kind=RemedyEventKind.REJECTED)
    assert event.data["status"] == {"from": "pending_approval", "to": "rejected"}


def test_remedy_propose_stores_the_amount_with_two_decimals(org):
    remedy = propose(org, "7.5")
    assert str(remedy.amount) == "7.50"
    assert CaseEvent.objects.get(kind=RemedyEventKind.GRANTED).data["amount"] == "7.50"


def test_remedy_approve_not_blocked_by_other_requests_still_pending(org):
    from amends.remedies.models import AuthorityRule

    AuthorityRule.objects.filter(role=Role.SUPERVISOR).update(max_per_case=Decimal("300.00"))
    small = propose(org, "150.00")
    assert small.approver == org.supervisor
    big = propose(org, "250.00")  # above the supervisor's 200 per remedy
    assert big.approver == org.manager
    # 150 + 250 waiting would pass 300, but only the 150 would actually be promised.
    assert remedy_approve(remedy=small, reason="", actor=org.supervisor).status == "approved"


def test_remedy_approve_counts_what_is_already_promised_on_the_case(org):
    from amends.remedies.models import AuthorityRule

    AuthorityRule.objects.filter(role=Role.SUPERVISOR).update(max_per_case=Decimal("300.00"))
    first = propose(org, "150.00")
    second = propose(org, "120.00")
    assert second.approver == org.supervisor  # 150 + 120 = 270 <= 300
    remedy_approve(remedy=first, reason="", actor=org.supervisor)
    Remedy.objects.filter(pk=second.pk).update(amount=Decimal("160.00"))
    with pytest.raises(ApplicationError) as exc:
        remedy_approve(remedy=second, reason="", actor=org.supervisor)
    assert exc.value.code == "above_authority"
    assert exc.value.detail["breaches"][0]["would_be"] == "310.00"
