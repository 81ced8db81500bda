from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.utils import timezone

from amends.accounts.choices import Role
from amends.cases.choices import CaseEventKind, CaseStatus, Outcome, SlaState
from amends.cases.models import Case, CaseEvent, Message
from amends.cases.services.sla import sla_compute
from amends.customers.models import Customer
from amends.demo.services.build import DEMO_PASSWORD, demo_build
from amends.policies.choices import RecoveryStep
from amends.policies.models import Calendar, Playbook, SlaTarget

pytestmark = pytest.mark.django_db


def _seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_seed_demo_builds_every_status_outcome_and_working_logins() -> None:
    # When the demo is seeded with a handful of cases
    output = _seed("--cases", "16", "--seed", "7", "--no-cfpb")

    # Then every status, and a resolved case with every outcome, is there
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(CaseStatus.values)
    resolved_outcomes = set(
        Case.objects.filter(status=CaseStatus.RESOLVED).values_list("outcome", flat=True)
    )
    assert resolved_outcomes == set(Outcome.values)
    # and a reopened case is back in recovery with a fresh clock
    reopened = Case.objects.filter(reopened_at__isnull=False).first()
    assert reopened is not None
    assert reopened.status == CaseStatus.IN_RECOVERY
    assert reopened.resolve_clock_started_at == reopened.reopened_at
    # The staff exist with their roles and can log in with the printed password
    expected_roles = {
        "alex": Role.AGENT,
        "sam": Role.AGENT,
        "sky": Role.SUPERVISOR,
        "morgan": Role.MANAGER,
        "admin": Role.ADMIN,
    }
    for username, role in expected_roles.items():
        user = User.objects.select_related("staff__team").get(username=username)
        assert user.staff.role == role
        assert user.check_password(DEMO_PASSWORD)
        assert username in output
    assert DEMO_PASSWORD in output
    assert (
        User.objects.get(username="alex").staff.team != User.objects.get(username="sam").staff.team
    )
    assert User.objects.get(username="admin").is_superuser
    # Playbooks: a default with all seven steps, category ones, SLA targets for every severity
    default = Playbook.objects.get(is_default=True)
    assert default.steps.count() == len(RecoveryStep.values)
    assert set(default.steps.filter(required=True).values_list("step", flat=True)) == {
        RecoveryStep.ACKNOWLEDGE,
        RecoveryStep.APOLOGISE,
        RecoveryStep.RECTIFY,
        RecoveryStep.FOLLOW_UP,
    }
    assert Playbook.objects.filter(category__isnull=False).count() >= 1
    for playbook in Playbook.objects.all():
        assert set(
            SlaTarget.objects.filter(playbook=playbook).values_list("severity", flat=True)
        ) == {1, 2, 3, 4}
    calendar = Calendar.objects.get(is_default=True)
    assert calendar.timezone == "Europe/London"
    assert calendar.holidays.exists()
    # Customers include VIPs or special handling with a reason, and cases have conversations
    assert Customer.objects.exclude(special_handling_reason="").filter(special_handling=True) or (
        Customer.objects.filter(tier="vip").exists()
    )
    assert Message.objects.count() >= Case.objects.count()


BACKDATED_KINDS = {
    CaseEventKind.CREATED,
    CaseEventKind.ACKNOWLEDGED,
    CaseEventKind.STEP_SKIPPED,
    CaseEventKind.MESSAGE_ADDED,
    CaseEventKind.RESOLVED,
    CaseEventKind.CLOSED,
    CaseEventKind.REOPENED,
}


def test_seed_demo_backdates_cases_with_consistent_sla_clocks() -> None:
    # Given a seeded demo
    now = timezone.now()
    demo_build(cases=20, seed=3)
    finished = timezone.now()

    # (the passengers of the demo's flight delay open their cases while seeding, when they
    # choose their remedy: amends/demo/tests/services/test_incidents.py)
    cases = list(Case.objects.filter(incident_impacts__isnull=True).select_related("playbook"))
    # Then cases were opened in the past, at different times
    assert all(case.created_at < now for case in cases)
    assert len({case.created_at.date() for case in cases}) > 1
    # and every stored clock is what the SLA code computes from the (moved) clock starts
    for case in cases:
        stored = (case.ack_due_at, case.resolve_due_at, case.sla_due_at, case.sla_at_risk_at)
        sla_compute(case)
        assert (case.ack_due_at, case.resolve_due_at, case.sla_due_at, case.sla_at_risk_at) == (
            stored
        )
        events = list(case.events.order_by("created_at", "id"))
        assert events[0].kind == CaseEventKind.CREATED
        assert events[0].created_at >= case.created_at
        if not case.double_deviation:  # a broken promise raises severity and re-times the SLA
            assert events[0].data["ack_due_at"] == case.ack_due_at.isoformat()
        # The case's own history is in the past; remedies, promises and the sweeps' work
        # happen while seeding.
        history = [event for event in events if event.kind in BACKDATED_KINDS]
        assert all(event.created_at <= now for event in history)
        assert all(event.created_at <= finished for event in events)
        if case.resolved_at is not None:
            assert case.created_at < case.resolved_at < now
    # Open cases are in a mix of SLA states
    states = {case.sla_state for case in cases}
    assert SlaState.ON_TRACK in states
    assert states & {SlaState.AT_RISK, SlaState.BREACHED}
    assert CaseEvent.objects.filter(kind=CaseEventKind.RESOLVED, data__on_time=True).exists()


def test_seed_demo_if_empty_adds_nothing_when_cases_exist() -> None:
    # Given a seeded demo
    _seed("--cases", "9", "--no-cfpb")
    counts = (Case.objects.count(), User.objects.count(), Customer.objects.count())

    # When it runs again with --if-empty
    output = _seed("--if-empty", "--cases", "9")

    # Then nothing was added, and it still prints the logins
    assert (Case.objects.count(), User.objects.count(), Customer.objects.count()) == counts
    assert "not seeded again" in output
    assert "alex" in output


def test_demo_build_draws_complaints_from_cfpb_csv_when_given(tmp_path: Path) -> None:
    # Given a CFPB-shaped file with narratives
    path = tmp_path / "cfpb.csv"
    columns = ["Product", "Sub-product", "Issue", "Sub-issue", "Consumer complaint narrative"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*columns, "Submitted via"])
        writer.writeheader()
        for n in range(40):
            writer.writerow(
                {
                    "Product": "Checking or savings account",
                    "Sub-product": "Checking account",
                    "Issue": f"Problem with a deposit {n}",
                    "Sub-issue": "",
                    "Consumer complaint narrative": f"The bank held my deposit {n} for weeks.",
                    "Submitted via": "Web",
                }
            )

    # When the demo draws on it
    result = demo_build(cases=40, seed=11, cfpb_csv=path)

    # Then some cases carry its issues, narratives and products
    drawn = Case.objects.filter(title__startswith="Problem with a deposit")
    assert drawn.exists()
    case = drawn.select_related("category__parent").first()
    assert case is not None
    assert case.description.startswith("The bank held my deposit")
    assert case.category is not None
    assert case.category.name == "Checking account"
    assert case.category.parent is not None
    assert case.category.parent.name == "Checking or savings account"
    assert "CFPB" in result.source


def test_seed_demo_configures_authority_remedies_and_promises() -> None:
    from amends.commitments.models import Commitment, Escalation, EscalationRule
    from amends.remedies.models import AuthorityRule, Remedy

    result = demo_build(cases=40, seed=5)
    assert AuthorityRule.objects.filter(role="agent").exists()
    statuses = set(Remedy.objects.values_list("status", flat=True))
    assert {"granted", "pending_approval"} <= statuses
    assert Commitment.objects.filter(status="open").exists()
    broken = Commitment.objects.filter(status="broken")
    assert broken.count() == result.recovery["broken"] > 0
    # the real sweep broke them: each is a second failure with its escalation
    for promise in broken.select_related("case"):
        assert promise.case.double_deviation
        assert Escalation.objects.filter(case=promise.case, reason="broken_promise").exists()
    assert EscalationRule.objects.filter(applies_to="special_handling", active=True).exists()


def test_demo_data_is_believable_and_british() -> None:
    from collections import Counter

    from django.db.models import Min

    from amends.commitments.models import Commitment
    from amends.core.organisation import organisation
    from amends.demo.services.recovery import REMEDY_REASONS
    from amends.remedies.models import Remedy

    demo_build(cases=60, seed=7)
    # A British organisation: London time, pounds.
    assert (organisation().time_zone, organisation().currency) == ("Europe/London", "GBP")
    # (the incident's passengers are owed their EU compensation in euros, by its policy)
    recovery = Remedy.objects.filter(reason__in=REMEDY_REASONS)
    assert recovery.exists()
    assert set(recovery.values_list("currency", flat=True)) == {"GBP"}
    # Varied names: no first name more than twice among the customers.
    firsts = Counter(name.split()[0] for name in Customer.objects.values_list("name", flat=True))
    assert max(firsts.values()) <= 2
    # A customer was a customer before their first complaint.
    for customer in Customer.objects.annotate(first=Min("cases__created_at")):
        if customer.first is not None:
            assert customer.created_at < customer.first
    # Promises fit the team's complaints: no engineer visit on a billing or banking case.
    unfit = Commitment.objects.filter(
        kind="visit", case__team__name__in=["Billing care", "Banking care", "Travel recovery"]
    )
    assert not unfit.exists()
    # Approvals are asked for different reasons.
    reasons = set(Remedy.objects.filter(status="pending_approval").values_list("reason", flat=True))
    assert len(reasons) > 1
