"""Reads for incidents: lists, the incident page, the funnel, problems (also for loyalty)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Count, QuerySet

from amends.accounts.selectors import staff_profile_of
from amends.incidents.models import (
    Impact,
    Incident,
    IncidentEvent,
    IncidentKind,
    IncidentUpdate,
    NotificationRound,
    NotificationTemplate,
    Problem,
    RecoveryPolicy,
)


def incident_visible_to(*, user: User) -> QuerySet[Incident]:
    """Every staff member sees incidents (they explain what customers call about)."""
    staff_profile_of(user=user)
    return Incident.objects.all()


def incident_list(*, user: User, status: str = "") -> QuerySet[Incident]:
    qs = incident_visible_to(user=user).select_related("kind", "policy")
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-started_at", "-id")


def incident_get_for_user(*, incident_id: int, user: User) -> Incident:
    return (
        incident_visible_to(user=user)
        .select_related("kind", "policy__owner", "root_cause", "problem", "service", "created_by")
        .get(pk=incident_id)
    )


def incident_get(*, incident_id: int) -> Incident:
    """For services and the worker (no visibility check)."""
    return Incident.objects.select_related("kind", "policy__owner").get(pk=incident_id)


def incident_list_for_period(
    *, since: datetime, until: datetime, problem_id: int | None = None
) -> QuerySet[Incident]:
    """Incidents started in [since, until), oldest first; for MTBF and reports."""
    qs = Incident.objects.filter(started_at__gte=since, started_at__lt=until)
    if problem_id is not None:
        qs = qs.filter(problem_id=problem_id)
    return qs.select_related("kind", "root_cause", "service").order_by("started_at", "id")


def problem_list(*, status: str = "") -> QuerySet[Problem]:
    """Problems with how many incidents they gather and when the first and last began."""
    from django.db.models import Max, Min

    qs = Problem.objects.select_related("root_cause").annotate(
        incident_count=Count("incidents"),
        first_started_at=Min("incidents__started_at"),
        last_started_at=Max("incidents__started_at"),
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def incident_kind_list() -> list[IncidentKind]:
    return list(IncidentKind.objects.filter(active=True).order_by("position", "code"))


def policy_active_for_kind(*, kind: IncidentKind) -> RecoveryPolicy | None:
    return RecoveryPolicy.objects.filter(kind=kind, active=True).first()


def policy_list(*, kind: IncidentKind | None = None) -> QuerySet[RecoveryPolicy]:
    qs = RecoveryPolicy.objects.select_related("kind", "owner")
    if kind is not None:
        qs = qs.filter(kind=kind)
    return qs.order_by("kind__position", "kind__code", "-version")


def policy_get(*, policy_id: int) -> RecoveryPolicy:
    return RecoveryPolicy.objects.select_related("kind", "owner").get(pk=policy_id)


@dataclass(frozen=True)
class Funnel:
    """How the affected customers took the recovery: one aggregate over the impact rows."""

    affected: int
    notified: int
    opened: int
    chose: int
    complained: int
    surveyed: int
    over_budget: int
    cost: Decimal
    reserved: Decimal


def incident_funnel(*, incident: Incident) -> Funnel:
    """The counters the services keep on the incident row: one primary-key read, however
    many customers the incident has."""
    row = Incident.objects.filter(pk=incident.pk).only(*FUNNEL_FIELDS).get()
    return funnel_of(incident=row)


FUNNEL_FIELDS = (
    "affected_count",
    "notified_count",
    "opened_count",
    "chose_count",
    "complained_count",
    "surveyed_count",
    "over_budget_count",
    "cost_total",
    "budget_reserved",
)


def funnel_of(*, incident: Incident) -> Funnel:
    """The funnel from an incident row just read (the page and the API read the row once)."""
    return Funnel(
        affected=incident.affected_count,
        notified=incident.notified_count,
        opened=incident.opened_count,
        chose=incident.chose_count,
        complained=incident.complained_count,
        surveyed=incident.surveyed_count,
        over_budget=incident.over_budget_count,
        cost=Decimal(incident.cost_total).quantize(Decimal("0.01")),
        reserved=Decimal(incident.budget_reserved).quantize(Decimal("0.01")),
    )


def impact_list_for_incident(*, incident: Incident) -> QuerySet[Impact]:
    return (
        Impact.objects.filter(incident_id=incident.pk)
        .select_related("customer", "case")
        .order_by("id")
    )


def impact_get_for_customer(*, incident: Incident, external_ref: str) -> Impact:
    return Impact.objects.select_related("customer", "policy").get(
        incident_id=incident.pk, customer__external_ref=external_ref
    )


def impact_list_for_customer(*, customer_id: int) -> QuerySet[Impact]:
    """A customer's incidents, newest first (customer page, loyalty)."""
    return (
        Impact.objects.filter(customer_id=customer_id)
        .select_related("incident__kind")
        .order_by("-created_at", "-id")
    )


def round_list(*, incident: Incident) -> list[NotificationRound]:
    return list(NotificationRound.objects.filter(incident_id=incident.pk).order_by("number"))


def round_current(*, incident: Incident) -> NotificationRound | None:
    return NotificationRound.objects.filter(incident_id=incident.pk).order_by("-number").first()


def incident_update_list(*, incident: Incident, public_only: bool = False) -> list[IncidentUpdate]:
    qs = IncidentUpdate.objects.filter(incident_id=incident.pk)
    if public_only:
        qs = qs.filter(public=True)
    return list(qs.select_related("author").order_by("-created_at", "-id")[:100])


def incident_event_list(*, incident: Incident, limit: int = 200) -> list[IncidentEvent]:
    return list(
        IncidentEvent.objects.filter(incident_id=incident.pk)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def template_for(*, kind: IncidentKind, round_kind: str) -> NotificationTemplate | None:
    """The kind's own template for this round, else the default one."""
    own = NotificationTemplate.objects.filter(kind=kind, round_kind=round_kind).first()
    if own is not None:
        return own
    return NotificationTemplate.objects.filter(kind__isnull=True, round_kind=round_kind).first()


def menus_chosen(*, menu_ids: list[int]) -> set[int]:
    """Which of these choice menus (remedies.ChoiceMenu) the customer has chosen from."""
    from amends.remedies.choices import MenuStatus
    from amends.remedies.models import ChoiceMenu

    chosen: set[int] = set()
    for start in range(0, len(menu_ids), 900):
        chosen.update(
            ChoiceMenu.objects.filter(
                pk__in=menu_ids[start : start + 900], status=MenuStatus.CHOSEN
            ).values_list("pk", flat=True)
        )
    return chosen
