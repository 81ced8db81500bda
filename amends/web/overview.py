"""What a supervisor, manager or admin sees first: their team's state, not an empty queue.

Composed from the apps' own selectors (each applies its visibility rule): breached and at-risk
open cases, unassigned ones, approvals and escalations waiting for this person, and promises
due by the end of today in the organisation's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.contrib.auth.models import User
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import SlaState
from amends.cases.listing import Total, case_count, case_queue_search
from amends.cases.models import Case
from amends.cases.selectors import CaseFilters
from amends.commitments.choices import CommitmentState
from amends.commitments.models import Commitment, Escalation
from amends.commitments.selectors import commitment_list, escalation_list
from amends.remedies.models import Remedy
from amends.remedies.selectors import approval_queue

LANDING_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
SHOWN = 8


def lands_on_overview(*, user: User) -> bool:
    return staff_profile_of(user=user).role in LANDING_ROLES


@dataclass
class Overview:
    scope: str
    breached: list[Case] = field(default_factory=list)
    breached_total: Total = field(default_factory=lambda: Total(0, False))
    at_risk_total: Total = field(default_factory=lambda: Total(0, False))
    unassigned_total: Total = field(default_factory=lambda: Total(0, False))
    approvals: list[Remedy] = field(default_factory=list)
    approvals_total: Total = field(default_factory=lambda: Total(0, False))
    escalations: list[Escalation] = field(default_factory=list)
    escalations_total: Total = field(default_factory=lambda: Total(0, False))
    promises_today: list[Commitment] = field(default_factory=list)
    promises_today_total: Total = field(default_factory=lambda: Total(0, False))


def _end_of_today(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return timezone.make_aware(datetime.combine(local.date() + timedelta(days=1), time.min))


def overview_for(*, user: User, now: datetime | None = None) -> Overview:
    now = now or timezone.now()
    profile = staff_profile_of(user=user)
    # Supervisors look at their own team; managers and admins at every team they can see.
    team_id = profile.team_id if not profile.sees_all_teams else None
    scope = profile.team.name if team_id is not None and profile.team else "All teams"

    breached = case_queue_search(
        user=user, team_id=team_id, filters=CaseFilters(sla_state=SlaState.BREACHED)
    )
    at_risk = case_queue_search(
        user=user, team_id=team_id, filters=CaseFilters(sla_state=SlaState.AT_RISK)
    )
    unassigned = case_queue_search(user=user, team_id=team_id, filters=CaseFilters(unassigned=True))
    approvals = approval_queue(user=user)
    escalations = escalation_list(user=user, mine=True)
    promises = commitment_list(
        user=user, state=CommitmentState.OPEN, team_id=team_id, now=now
    ).filter(due_at__lt=_end_of_today(now))
    return Overview(
        scope=scope,
        breached=list(breached[:SHOWN]),
        breached_total=case_count(breached),
        at_risk_total=case_count(at_risk),
        unassigned_total=case_count(unassigned),
        approvals=list(approvals[:SHOWN]),
        approvals_total=_total(approvals.count()),
        escalations=list(escalations[:SHOWN]),
        escalations_total=_total(escalations.count()),
        promises_today=list(promises[:SHOWN]),
        promises_today_total=_total(promises.count()),
    )


def _total(count: int) -> Total:
    return Total(count=count, capped=False)
