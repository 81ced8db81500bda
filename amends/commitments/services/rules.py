"""Automatic escalation rules the admin configures: VIP, special handling, repeat complaints."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from amends.cases.models import Case
from amends.commitments.choices import (
    LEVEL_ORDER,
    EscalationReason,
    RuleAppliesTo,
)
from amends.commitments.models import Escalation, EscalationRule
from amends.commitments.services.escalations import EscalationSpec, escalations_open_automatic

# The active rules, read on every case opened: each process keeps them for this many seconds.
# Saving or deleting a rule clears this process's copy at once (connected in
# CommitmentsConfig.ready()); other processes (web workers, the worker) follow within the time.
RULES_CACHE_SECONDS = 30.0
_rules_cache: tuple[float, list[EscalationRule]] | None = None


def escalation_rules_cache_clear(*args: Any, **kwargs: Any) -> None:
    global _rules_cache
    _rules_cache = None


def escalation_rules_active() -> list[EscalationRule]:
    """The active escalation rules (one query at most every RULES_CACHE_SECONDS)."""
    global _rules_cache
    cached = _rules_cache
    if cached is not None and time.monotonic() - cached[0] < RULES_CACHE_SECONDS:
        return cached[1]
    rules = list(EscalationRule.objects.filter(active=True))
    _rules_cache = (time.monotonic(), rules)
    return rules


def cache_invalidation_connect() -> None:
    post_save.connect(
        escalation_rules_cache_clear, sender=EscalationRule, dispatch_uid="escalation_rules_cache"
    )
    post_delete.connect(
        escalation_rules_cache_clear, sender=EscalationRule, dispatch_uid="escalation_rules_cache_d"
    )


def _matches(rule: EscalationRule, case: Case) -> bool:
    customer = case.customer
    if rule.applies_to == RuleAppliesTo.VIP:
        return customer.is_vip
    if rule.applies_to == RuleAppliesTo.SPECIAL_HANDLING:
        return customer.special_handling
    since = case.created_at - timedelta(days=rule.repeat_window_days)
    recent = Case.objects.filter(customer_id=customer.pk, created_at__gte=since).count()
    return recent >= rule.repeat_count


def _note(rule: EscalationRule, case: Case) -> str:
    customer = case.customer
    if rule.applies_to == RuleAppliesTo.SPECIAL_HANDLING:
        return f"{rule.name}: special-handling customer ({customer.special_handling_reason})."
    if rule.applies_to == RuleAppliesTo.VIP:
        return f"{rule.name}: VIP customer."
    return (
        f"{rule.name}: complaint number {rule.repeat_count} or more from this customer "
        f"within {rule.repeat_window_days} days."
    )


@transaction.atomic
def escalation_rules_apply(
    *, case: Case, rules: list[EscalationRule] | None = None
) -> list[Escalation]:
    """Run the active rules on a new case. VIP and special-handling rules share one reason
    (the highest level wins); the repeat-complaint rule has its own."""
    if rules is None:
        rules = escalation_rules_active()
    if not rules:
        return []
    best: dict[str, EscalationRule] = {}
    for rule in rules:
        if not _matches(rule, case):
            continue
        reason = (
            EscalationReason.REPEAT_COMPLAINT
            if rule.applies_to == RuleAppliesTo.REPEAT_COMPLAINT
            else EscalationReason.SPECIAL_HANDLING
        )
        current = best.get(reason)
        if current is None or LEVEL_ORDER.index(rule.level) > LEVEL_ORDER.index(current.level):
            best[reason] = rule
    ids = escalations_open_automatic(
        specs=[
            EscalationSpec(
                case_id=case.pk,
                ref=case.ref,
                team_id=case.team_id,
                playbook_id=case.playbook_id,
                reason=reason,
                level=rule.level,
                note=_note(rule, case),
                decision_minutes=rule.decision_minutes,
                also_notify_id=case.assignee_id,
            )
            for reason, rule in best.items()
        ],
        now=timezone.now(),
    )
    return list(Escalation.objects.filter(pk__in=ids).order_by("id"))
