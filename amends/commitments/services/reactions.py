"""How commitments reacts to the floors below it (subscribed in CommitmentsConfig.ready())."""

from __future__ import annotations

from amends.cases.selectors import case_get
from amends.commitments.choices import EscalationLevel, EscalationReason
from amends.commitments.models import EscalationRule
from amends.commitments.services import bulk_rules
from amends.commitments.services.escalations import escalation_open_automatic
from amends.commitments.services.rules import escalation_rules_apply
from amends.core import hooks
from amends.remedies.selectors import remedy_get


def on_case_opened(payload: hooks.CaseOpened) -> None:
    """Special-handling / VIP / repeat-complaint escalation rules (configured in admin)."""
    rules = list(EscalationRule.objects.filter(active=True))
    if not rules:
        return
    escalation_rules_apply(case=case_get(case_id=payload.case_id), rules=rules)


def on_remedy_approval_overdue(payload: hooks.RemedyApprovalOverdue) -> None:
    """A remedy decision left undecided past its due time is also a case escalation to
    management (once per case while it is open: the escalation's unique constraint)."""
    remedy = remedy_get(remedy_id=payload.remedy_id)
    escalation_open_automatic(
        case=remedy.case,
        reason=EscalationReason.APPROVAL_OVERDUE,
        level=EscalationLevel.MANAGER,
        note=f"Remedy #{remedy.pk} ({remedy.kind.name}) waited past its decision time.",
        now=payload.now,
    )


def subscribe() -> None:
    hooks.case_opened.subscribe(on_case_opened)
    hooks.cases_opened_bulk.subscribe(bulk_rules.on_cases_opened_bulk)
    hooks.remedy_approval_overdue.subscribe(on_remedy_approval_overdue)
