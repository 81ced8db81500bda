"""How commitments reacts to the floors below it (subscribed in CommitmentsConfig.ready())."""

from __future__ import annotations

from django.db.models import Q

from amends.cases.models import case_ref
from amends.cases.selectors import case_get
from amends.commitments.choices import (
    EscalationLevel,
    EscalationReason,
    EscalationStatus,
    NotificationKind,
)
from amends.commitments.models import Escalation
from amends.commitments.services import bulk_rules
from amends.commitments.services.escalations import (
    EscalationSpec,
    escalation_open_automatic,
    escalations_open_automatic,
)
from amends.commitments.services.notifications import NotificationSpec, notifications_create
from amends.commitments.services.rules import escalation_rules_active, escalation_rules_apply
from amends.core import hooks
from amends.core.organisation import organisation_moment
from amends.remedies.selectors import remedy_get


def on_case_opened(payload: hooks.CaseOpened) -> None:
    """Special-handling / VIP / repeat-complaint escalation rules (configured in admin)."""
    rules = escalation_rules_active()
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


def on_cases_sla_breached(payload: hooks.CasesSlaBreached) -> None:
    """Each breached case gets one SLA escalation to the team's supervisor, and its assignee
    hears (set-based: one read and one insert per batch).

    A case is already escalated for this breach when it has an SLA escalation still open, or
    one raised after its current due time (a decided one stays decided until the clock is
    re-timed and breached again). An open one holds the case: the sweep offers it again, and
    once that escalation is decided the breach is judged against its time like any other.
    """
    due_by_case = {breach.case_id: breach.sla_due_at for breach in payload.breaches}
    earliest = min(due_by_case.values())
    escalated = Escalation.objects.filter(
        case_id__in=list(due_by_case), reason=EscalationReason.SLA_BREACHED
    ).filter(Q(status=EscalationStatus.OPEN) | Q(raised_at__gte=earliest))
    covered: set[int] = set()
    for case_id, status, raised_at in escalated.values_list("case_id", "status", "raised_at"):
        if status == EscalationStatus.OPEN:
            payload.held.append(case_id)
            covered.add(case_id)
        elif raised_at >= due_by_case[case_id]:
            covered.add(case_id)
    escalations_open_automatic(
        specs=[
            EscalationSpec(
                case_id=breach.case_id,
                ref=case_ref(breach.case_id),
                team_id=breach.team_id,
                playbook_id=breach.playbook_id,
                reason=EscalationReason.SLA_BREACHED,
                level=EscalationLevel.SUPERVISOR,
                note="The SLA clock ran out.",
                also_notify_id=breach.assignee_id,
            )
            for breach in payload.breaches
            if breach.case_id not in covered
        ],
        now=payload.now,
    )


def on_cases_sla_at_risk(payload: hooks.CasesSlaAtRisk) -> None:
    """One notification to the assignee of each case newly at risk (once per at-risk moment:
    the dedupe key names it)."""
    notifications_create(
        specs=[
            NotificationSpec(
                recipient_id=item.assignee_id,
                kind=NotificationKind.SLA_AT_RISK,
                message=f"{case_ref(item.case_id)} is at risk of missing its SLA, due "
                f"{organisation_moment(item.sla_due_at)}.",
                dedupe_key=f"sla_at_risk:{item.case_id}:{item.sla_at_risk_at:%Y%m%dT%H%M%S}",
                case_id=item.case_id,
            )
            for item in payload.cases
        ]
    )


def subscribe() -> None:
    hooks.case_opened.subscribe(on_case_opened)
    hooks.cases_opened_bulk.subscribe(bulk_rules.on_cases_opened_bulk)
    hooks.remedy_approval_overdue.subscribe(on_remedy_approval_overdue)
    hooks.cases_sla_breached.subscribe(on_cases_sla_breached)
    hooks.cases_sla_at_risk.subscribe(on_cases_sla_at_risk)
