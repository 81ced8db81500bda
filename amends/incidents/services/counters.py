"""The incident's funnel counters: moved by the services that change impacts, in their
transaction, and re-derivable from the impact rows (`incident_funnel_recount`)."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Count, F, Q, Sum
from django.utils import timezone

from amends.incidents.models import Impact, Incident

COUNTERS = (
    "affected_count",
    "notified_count",
    "opened_count",
    "chose_count",
    "complained_count",
    "surveyed_count",
    "over_budget_count",
)


def incident_counters_add(*, incident_id: int, cost: Decimal | None = None, **deltas: int) -> None:
    """Add to the counters in one UPDATE (`F()` expressions: concurrent moves add up)."""
    changes: dict[str, object] = {
        name: F(name) + delta for name, delta in deltas.items() if name in COUNTERS and delta
    }
    if cost:
        changes["cost_total"] = F("cost_total") + cost
    if not changes:
        return
    changes["updated_at"] = timezone.now()
    Incident.objects.filter(pk=incident_id).update(**changes)


def incident_funnel_recount(*, incident: Incident) -> Incident:
    """Set every counter from the impact rows (repair after a restore; tests check they agree)."""
    row = Impact.objects.filter(incident_id=incident.pk).aggregate(
        affected_count=Count("id"),
        notified_count=Count("id", filter=Q(notified_at__isnull=False)),
        opened_count=Count("id", filter=Q(opened_at__isnull=False)),
        chose_count=Count("id", filter=Q(chose_at__isnull=False)),
        complained_count=Count("id", filter=Q(complained_at__isnull=False)),
        surveyed_count=Count("id", filter=Q(surveyed_at__isnull=False)),
        over_budget_count=Count("id", filter=Q(over_budget=True)),
        cost_total=Sum("cost"),
    )
    row["cost_total"] = Decimal(row["cost_total"] or 0)
    Incident.objects.filter(pk=incident.pk).update(**row, updated_at=timezone.now())
    incident.refresh_from_db()
    return incident
