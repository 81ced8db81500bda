"""The customer's own incident link: what the notice points at.

Opening a case, a choice menu and the care remedies for each of 50,000 customers up front
would make a round slow and fill the queues with cases nobody asked about. Instead each notice
carries a signed link to the customer's own incident page; there they see what the policy gives
them (the funnel's "opened the link"), and when they go on to choose, their case opens with the
menu and the care remedies on it, and they continue in the case's portal, where they pick.
"""

from __future__ import annotations

from decimal import Decimal

from django.core import signing
from django.db import transaction
from django.utils import timezone

from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import DONE_STATUSES
from amends.cases.services.intake import case_create
from amends.channels.conf import public_base_url
from amends.channels.services.portal import portal_url_for_case
from amends.core.exceptions import ApplicationError
from amends.incidents.choices import INCIDENT_CHANNEL, IncidentEventKind, IncidentStatus
from amends.incidents.models import Impact, Incident, RecoveryPolicy
from amends.incidents.services.counters import incident_counters_add
from amends.remedies.services.menus import MAX_OPTIONS, menu_create
from amends.remedies.services.remedies import RemedyInput, remedy_propose

SALT = "amends.incidents.impact-link"
MAX_TOKEN = 200


def impact_token(*, impact_id: int) -> str:
    return signing.Signer(salt=SALT).sign(str(impact_id))


def impact_url(*, impact_id: int) -> str:
    return f"{public_base_url()}/i/{impact_token(impact_id=impact_id)}/"


def _invalid() -> ApplicationError:
    return ApplicationError(
        "This link is not valid. Reply to our email and we will help you.",
        code="incident_link_invalid",
        status=404,
    )


def impact_for_token(token: str) -> Impact:
    """The impact a link names; forged or mangled links raise a 404 ApplicationError."""
    if not token or len(token) > MAX_TOKEN or "\x00" in token:
        raise _invalid()
    try:
        raw = signing.Signer(salt=SALT).unsign(token)
    except signing.BadSignature:
        raise _invalid() from None
    if not raw.isdigit() or len(raw) > 18:
        raise _invalid()
    impact = (
        Impact.objects.select_related("incident__kind", "incident__policy", "customer", "case")
        .filter(pk=int(raw))
        .first()
    )
    if impact is None:
        raise _invalid()
    return impact


def impact_mark_opened(*, impact: Impact) -> None:
    """The customer looked at their page (idempotent: the first time counts)."""
    if impact.opened_at is None:
        now = timezone.now()
        if Impact.objects.filter(pk=impact.pk, opened_at__isnull=True).update(
            opened_at=now, updated_at=now
        ):
            incident_counters_add(incident_id=impact.incident_id, opened_count=1)
        impact.opened_at = now


def _menu_for(*, impact: Impact, incident: Incident, policy: RecoveryPolicy) -> int | None:
    assert impact.case is not None  # noqa: S101  # opened just before
    owner = policy.owner
    options = [line for line in impact.lines if line["status"] == "option"]
    owed = [line for line in impact.lines if line["status"] == "owed"]
    reason = f"{incident.ref} {incident.title}: {policy} (recovery policy)"
    if len(options) == 1:
        owed = [*owed, options[0]]
        options = []
    cost = Decimal("0")
    for line in owed:
        remedy = remedy_propose(
            case=impact.case,
            kind=line["remedy"],
            amount=line["amount"],
            currency=policy.currency if line["amount"] else "",
            reason=f"{reason}: {line['label']}",
            actor=owner,
            description=line["label"],
        )
        if line["amount"] and remedy.status == "granted":
            cost += Decimal(line["amount"])
    impact.cost = cost
    if not options:
        return None
    menu = menu_create(
        case=impact.case,
        options=[
            RemedyInput(
                kind=line["remedy"],
                amount=line["amount"],
                currency=policy.currency if line["amount"] else "",
                description=line["label"],
            )
            for line in options[:MAX_OPTIONS]
        ],
        actor=owner,
        note=reason,
    )
    return menu.pk


@transaction.atomic
def impact_open(*, impact: Impact) -> str:
    """The customer goes on to choose: their case (new, or the complaint already linked) gets
    the menu and the care remedies the policy gives them, once; returns the portal URL."""
    impact = (
        Impact.objects.select_for_update(of=("self",))
        .select_related("incident__kind", "incident__policy__owner", "customer", "case")
        .get(pk=impact.pk)
    )
    incident = impact.incident
    impact_mark_opened(impact=impact)
    if impact.prepared_at is None:
        if incident.status == IncidentStatus.CLOSED:
            raise ApplicationError(
                "This incident is closed. Reply to our email and we will help you.",
                code="incident_closed",
                status=409,
            )
        policy = impact.policy
        case = impact.case
        if case is None or case.status in DONE_STATUSES:
            owner = policy.owner if policy else incident.created_by
            team = staff_profile_of(user=owner).team if owner else None
            case = case_create(
                customer=impact.customer,
                title=f"{incident.kind.name}: {incident.title}"[:200],
                description=incident.public_description,
                actor=owner,
                channel=INCIDENT_CHANNEL,
                severity=incident.severity,
                service=incident.service,
                team=team,
            )
            impact.case = case
        gives = any(line["status"] in ("owed", "option") for line in impact.lines)
        if policy is not None and gives:
            impact.menu_id = _menu_for(impact=impact, incident=incident, policy=policy)
        impact.prepared_at = timezone.now()
        impact.save(update_fields=["case", "menu_id", "cost", "prepared_at", "updated_at"])
        incident_counters_add(incident_id=incident.pk, cost=impact.cost)
        from amends.incidents.services.events import incident_event_record

        incident_event_record(
            incident=incident,
            kind=IncidentEventKind.CASES_LINKED,
            actor=None,
            data={"opened_by_customer": impact.customer_id, "case": case.ref},
        )
    assert impact.case_id is not None  # noqa: S101
    return portal_url_for_case(case_id=impact.case_id, actor=None)
