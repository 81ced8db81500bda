"""The empowerment and promises part of the demo: an authority matrix, escalation rules,
remedies (granted and waiting for approval), promises (open, due soon, broken) and the
escalations and notifications the sweeps raise. Everything goes through the real services;
only the due times of the promises meant to be broken are moved into the past (a promise
cannot be made with a due time in the past), and then the real sweep breaks them."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.utils.module_loading import import_string

from amends.accounts.choices import Role
from amends.cases.choices import CaseStatus
from amends.cases.models import Case
from amends.commitments.choices import RuleAppliesTo
from amends.commitments.models import Commitment, EscalationRule
from amends.commitments.services.commitments import commitment_create
from amends.core.conf import amends_setting
from amends.core.organisation import organisation
from amends.remedies.models import CannotDoItem
from amends.remedies.services.matrix import authority_rule_set
from amends.remedies.services.remedies import remedy_issue, remedy_propose

# kind: (per remedy, per case, per customer over 30 days) for each role; None = no cap.
MATRIX: dict[str, dict[str, tuple[str | None, str | None, str | None]]] = {
    Role.AGENT: {
        "refund": ("50.00", "100.00", "150.00"),
        "service_credit": ("40.00", "80.00", "120.00"),
        "voucher": ("25.00", "50.00", "75.00"),
        "goodwill_gesture": ("20.00", "20.00", "40.00"),
        "fee_waiver": ("30.00", "30.00", "60.00"),
        "repair": (None, None, None),
        "replacement": (None, None, None),
    },
    Role.SUPERVISOR: {
        "refund": ("250.00", "500.00", None),
        "service_credit": ("250.00", "500.00", None),
        "rebate": ("200.00", "400.00", None),
        "voucher": ("100.00", "200.00", None),
        "goodwill_gesture": ("100.00", "100.00", None),
        "fee_waiver": ("150.00", "300.00", None),
        "repair": (None, None, None),
        "replacement": (None, None, None),
    },
    Role.MANAGER: dict.fromkeys(
        (
            "refund",
            "service_credit",
            "rebate",
            "voucher",
            "goodwill_gesture",
            "fee_waiver",
            "repair",
            "replacement",
            "other",
        ),
        ("2000.00", "5000.00", None),
    ),
}
CANNOT_DO = {
    Role.AGENT: [
        "Waive an early-termination fee",
        "Promise a refund before the amount is confirmed",
        "Change a customer's contract terms",
    ],
    Role.SUPERVISOR: ["Waive an early-termination fee above one month's charge"],
}
# Promises that fit the team's kind of complaint (no engineer visit on a double charge).
PROMISES: dict[str, list[tuple[str, str]]] = {
    "Billing care": [
        ("refund", "Refund the duplicate payment to your card"),
        ("rebate", "A one-month rebate on your next bill"),
        ("information", "Send you the written explanation of the charges"),
        ("callback", "Call you back once the billing team has checked your account"),
    ],
    "Network care": [
        ("callback", "Call you back tomorrow morning with the engineer's findings"),
        ("fix", "Have the line fixed by the end of the week"),
        ("visit", "An engineer visit between 8 and 12"),
        ("credit", "Credit your account for the days without service"),
    ],
    "Travel recovery": [
        ("refund", "Refund the unused part of your ticket"),
        ("information", "Send you the delay report for your journey"),
        ("callback", "Call you back about your rebooked journey"),
        ("credit", "A travel voucher for the missed connection"),
    ],
    "Banking care": [
        ("refund", "Refund the fee taken in error"),
        ("information", "Send you the letter explaining the charge"),
        ("callback", "Call you back once the payments team has traced the transfer"),
        ("fix", "Correct the standing order before its next date"),
    ],
}
# Why a remedy is proposed: what staff write when it needs an approver.
REMEDY_REASONS = [
    "Second outage this month; the customer lost a working day",
    "Charged twice and spent an hour on hold to report it",
    "Engineer missed two appointments",
    "Long-standing customer, very unhappy with how the first contact went",
    "Our mistake cost the customer a missed payment fee elsewhere",
    "Recovery for the failure described in the case",
    "The promised callback never came; the customer had to chase us",
]


def _matrix() -> None:
    for role, kinds in MATRIX.items():
        for kind, (per_remedy, per_case, per_customer) in kinds.items():
            authority_rule_set(
                kind=kind,
                role=role,
                actor=None,
                max_per_remedy=per_remedy,
                max_per_case=per_case,
                max_per_customer=per_customer,
                period_days=30 if per_customer else None,
                source="demo",
            )
    for role, items in CANNOT_DO.items():
        for position, text in enumerate(items):
            CannotDoItem.objects.get_or_create(
                role=role, text=text, defaults={"position": position}
            )


def _rules() -> None:
    EscalationRule.objects.get_or_create(
        name="Special handling goes to a manager",
        defaults={
            "applies_to": RuleAppliesTo.SPECIAL_HANDLING,
            "level": "manager",
            "decision_minutes": 120,
        },
    )
    EscalationRule.objects.get_or_create(
        name="VIP complaints go to a supervisor",
        defaults={"applies_to": RuleAppliesTo.VIP, "level": "supervisor", "decision_minutes": 240},
    )
    EscalationRule.objects.get_or_create(
        name="Third complaint in 90 days",
        defaults={
            "applies_to": RuleAppliesTo.REPEAT_COMPLAINT,
            "level": "supervisor",
            "decision_minutes": 480,
            "repeat_count": 3,
            "repeat_window_days": 90,
        },
    )


def _working_cases(limit: int) -> list[Case]:
    return list(
        Case.objects.filter(
            status__in=[CaseStatus.ACKNOWLEDGED, CaseStatus.IN_RECOVERY], assignee__isnull=False
        )
        .select_related("assignee", "customer", "team")
        .order_by("id")[:limit]
    )


def _remedies(rng: random.Random, cases: list[Case]) -> int:
    made = 0
    for index, case in enumerate(cases):
        assignee = case.assignee
        assert assignee is not None  # noqa: S101  # filtered above
        # Most within the agent's authority; every third above it, waiting for approval.
        big = index % 3 == 0
        kind = rng.choice(
            ["refund", "service_credit"] if big else ["refund", "service_credit", "voucher"]
        )
        amount = Decimal(
            rng.choice(["120.00", "180.00", "240.00"] if big else ["10.00", "15.00", "20.00"])
        )
        remedy = remedy_propose(
            case=case,
            kind=kind,
            amount=amount,
            currency=organisation().currency,
            reason=rng.choice(REMEDY_REASONS),
            description=f"{kind.replace('_', ' ').capitalize()} for the disruption",
            actor=assignee,
        )
        if remedy.status == "granted" and index % 2 == 1:
            remedy_issue(remedy=remedy, reference=f"CN-{10000 + remedy.pk}", actor=assignee)
        made += 1
    return made


def _promises(rng: random.Random, cases: list[Case], now: datetime) -> tuple[int, list[int]]:
    to_break: list[int] = []
    for index, case in enumerate(cases):
        assignee = case.assignee
        assert assignee is not None  # noqa: S101  # filtered above
        fitting = PROMISES.get(case.team.name if case.team else "", PROMISES["Billing care"])
        kind, text = fitting[index % len(fitting)]
        # Due in the next hours or days; a few within the reminder lead time.
        due = now + (
            timedelta(minutes=rng.randint(20, 50))
            if index % 5 == 1
            else timedelta(hours=rng.randint(4, 96))
        )
        promise = commitment_create(
            case=case, kind=kind, description=text, owner=assignee, due_at=due, actor=assignee
        )
        if index % 6 == 0:
            to_break.append(promise.pk)
    return len(cases), to_break


def demo_recovery_build(
    *, rng: random.Random, now: datetime, users: dict[str, User]
) -> dict[str, int]:
    """Run after the cases exist. Returns counts of what it made."""
    _matrix()
    cases = _working_cases(60)
    # Remedies on the first half, promises on the last two thirds (some cases have both).
    remedies = _remedies(rng, cases[: len(cases) // 2])
    promises, to_break = _promises(rng, cases[len(cases) // 3 :], now)
    # These promises' due times passed unnoticed (backdated, see the module docstring)…
    Commitment.objects.filter(pk__in=to_break).update(due_at=now - timedelta(hours=3))
    # …and the sweeps do what the worker would: break them, escalate, notify.
    for path in amends_setting("SWEEPS", []):
        import_string(path)(now=now)
    # Rules only act on new complaints, so they come last: the demo's history stays as it was.
    _rules()
    return {"remedies": remedies, "promises": promises, "broken": len(to_break)}
