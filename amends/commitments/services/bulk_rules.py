"""Escalation rules for cases opened set-based (`cases_opened_bulk`: an import chunk).

What `rules.escalation_rules_apply` does for one new case, for a whole batch in a few queries:
one read of the active rules, one of the batch's open cases with their customers' flags, one of
the recent cases of those customers (repeat-complaint rules only), then one set-based
`escalations_open_automatic`. Cases imported already resolved or closed are history: nothing is
escalated on them.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from datetime import datetime, timedelta

from django.utils import timezone

from amends.cases.choices import DONE_STATUSES
from amends.cases.models import Case, case_ref
from amends.commitments.choices import LEVEL_ORDER, EscalationReason, RuleAppliesTo
from amends.commitments.models import EscalationRule
from amends.commitments.services.escalations import EscalationSpec, escalations_open_automatic
from amends.core import hooks
from amends.customers.choices import CustomerTier


def _note(rule: EscalationRule, special_reason: str) -> str:
    if rule.applies_to == RuleAppliesTo.SPECIAL_HANDLING:
        return f"{rule.name}: special-handling customer ({special_reason})."
    if rule.applies_to == RuleAppliesTo.VIP:
        return f"{rule.name}: VIP customer."
    return (
        f"{rule.name}: complaint number {rule.repeat_count} or more from this customer "
        f"within {rule.repeat_window_days} days."
    )


def escalation_rules_apply_many(*, case_ids: tuple[int, ...], now: datetime) -> list[int]:
    """Run the active rules on a batch of new cases; returns the escalations opened."""
    rules = list(EscalationRule.objects.filter(active=True))
    if not rules or not case_ids:
        return []
    cases = list(
        Case.objects.filter(pk__in=case_ids)
        .exclude(status__in=DONE_STATUSES)
        .values_list(
            "pk",
            "customer_id",
            "created_at",
            "team_id",
            "playbook_id",
            "assignee_id",
            "customer__tier",
            "customer__special_handling",
            "customer__special_handling_reason",
        )
    )
    if not cases:
        return []
    repeat_rules = [r for r in rules if r.applies_to == RuleAppliesTo.REPEAT_COMPLAINT]
    starts: dict[int, list[datetime]] = defaultdict(list)
    if repeat_rules:
        window = max(r.repeat_window_days for r in repeat_rules)
        since = min(c[2] for c in cases) - timedelta(days=window)
        for customer_id, created in (
            Case.objects.filter(customer_id__in={c[1] for c in cases}, created_at__gte=since)
            .order_by("customer_id", "created_at")
            .values_list("customer_id", "created_at")
        ):
            starts[customer_id].append(created)
    specs: list[EscalationSpec] = []
    for pk, customer_id, created, team_id, playbook_id, assignee_id, tier, special, why in cases:
        best: dict[str, EscalationRule] = {}
        for rule in rules:
            if rule.applies_to == RuleAppliesTo.VIP:
                matched = tier == CustomerTier.VIP
            elif rule.applies_to == RuleAppliesTo.SPECIAL_HANDLING:
                matched = special
            else:
                # As for one case: the customer's cases opened since the window's start.
                since = created - timedelta(days=rule.repeat_window_days)
                history = starts[customer_id]
                matched = len(history) - bisect_left(history, since) >= rule.repeat_count
            if not matched:
                continue
            reason = (
                EscalationReason.REPEAT_COMPLAINT
                if rule.applies_to == RuleAppliesTo.REPEAT_COMPLAINT
                else EscalationReason.SPECIAL_HANDLING
            )
            current = best.get(reason)
            if current is None or LEVEL_ORDER.index(rule.level) > LEVEL_ORDER.index(current.level):
                best[reason] = rule
        specs.extend(
            EscalationSpec(
                case_id=pk,
                ref=case_ref(pk),
                team_id=team_id,
                playbook_id=playbook_id,
                reason=reason,
                level=rule.level,
                note=_note(rule, why),
                decision_minutes=rule.decision_minutes,
                also_notify_id=assignee_id,
            )
            for reason, rule in best.items()
        )
    return escalations_open_automatic(specs=specs, now=now)


def on_cases_opened_bulk(payload: hooks.CasesOpenedBulk) -> None:
    escalation_rules_apply_many(case_ids=payload.case_ids, now=timezone.now())
