"""Win-back campaigns: lost customers picked by filters, one offer within authority and budget,
one message through the outbound mail path, and what each customer did with it.

A win-back offer is a retention cost of the campaign, not a recovery remedy: accepting it
creates no Remedy row and opens no case (a case would count as a failure in every report).
The offer still goes through the authority matrix of the remedies app: the creator's limit
for the remedy kind and amount when the campaign is created, the launcher's when it is
launched, and the budget must cover every customer accepting it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.accounts.selectors import staff_profile_of
from amends.core.exceptions import ApplicationError
from amends.customers.choices import LoyaltyStatus
from amends.customers.selectors import customer_get
from amends.loyalty.choices import CampaignStatus, LoyaltyEventKind
from amends.loyalty.models import ZERO, Campaign, CampaignTarget
from amends.loyalty.selectors import lost_customer_list
from amends.loyalty.services.risk import loyalty_event_record
from amends.loyalty.services.status import loyalty_status_change
from amends.remedies.authority import limits_for
from amends.remedies.models import RemedyKind
from amends.remedies.services.remedies import amount_clean, currency_clean, remedy_kind_clean

MAX_TARGETS = 50_000


def _invalid(message: str, field: str, code: str = "invalid_campaign") -> ApplicationError:
    return ApplicationError(message, code=code, status=422, detail={field: [message]})


def _text(value: str, field: str, limit: int) -> str:
    value = value.strip()
    if not value:
        raise _invalid("Required.", field)
    if len(value) > limit or "\x00" in value:
        raise _invalid(f"At most {limit} characters of text.", field)
    return value


def _authority_check(*, actor: User, kind: RemedyKind, amount: Decimal | None) -> None:
    """The offer must be within this person's authority for the remedy kind: allowed at all,
    and the amount within their per-remedy and per-case limits."""
    limits = limits_for(user=actor, kind=kind)
    ceiling = [v for v in (limits.max_per_remedy, limits.max_per_case) if v is not None]
    if not limits.allowed or (amount is not None and ceiling and amount > min(ceiling)):
        raise ApplicationError(
            "This offer is above your authority; ask someone whose limit covers it.",
            code="above_authority",
            status=403,
        )


def _budget_check(*, budget: Decimal, amount: Decimal | None, targets: int) -> None:
    """The budget must cover every customer accepting the offer."""
    worst_case = (amount or ZERO) * targets
    if worst_case > budget:
        raise ApplicationError(
            f"The budget {budget} does not cover {targets} customers accepting "
            f"{amount} each ({worst_case}).",
            code="over_budget",
            status=422,
            detail={"budget": [f"At least {worst_case}."]},
        )


@transaction.atomic
def campaign_create(
    *,
    name: str,
    remedy_kind: str,
    amount: Decimal | str | None,
    currency: str,
    budget: Decimal | str,
    subject: str,
    body: str,
    actor: User,
    lost_reason: str = "",
    category_id: int | None = None,
    lost_since: date | None = None,
    lost_until: date | None = None,
) -> Campaign:
    """Pick the lost customers now; the offer must be within the creator's authority and the
    budget must cover every customer accepting it."""
    staff_profile_of(user=actor)
    kind = remedy_kind_clean(remedy_kind)
    clean_amount = amount_clean(amount) if amount not in (None, "") else None
    if kind.monetary and clean_amount is None:
        raise _invalid("This kind of offer needs an amount.", "amount")
    clean_currency = currency_clean(currency) if clean_amount is not None else ""
    try:
        clean_budget = Decimal(str(budget))
    except ArithmeticError as exc:
        raise _invalid("The budget must be a number.", "budget") from exc
    if not clean_budget.is_finite() or clean_budget < 0 or clean_budget > Decimal("1e12"):
        raise _invalid("The budget must be between 0 and 1,000,000,000,000.", "budget")
    if lost_since and lost_until and lost_since > lost_until:
        raise _invalid("The period starts after it ends.", "lost_since", "invalid_period")
    _authority_check(actor=actor, kind=kind, amount=clean_amount)
    targets = list(
        lost_customer_list(
            lost_reason=lost_reason,
            category_id=category_id,
            lost_since=lost_since,
            lost_until=lost_until,
        ).values_list("customer_id", flat=True)[: MAX_TARGETS + 1]
    )
    if not targets:
        raise ApplicationError(
            "No lost customers match these filters.", code="campaign_no_customers", status=422
        )
    if len(targets) > MAX_TARGETS:
        raise _invalid(f"At most {MAX_TARGETS} customers per campaign.", "lost_reason")
    _budget_check(budget=clean_budget, amount=clean_amount, targets=len(targets))
    campaign = Campaign(
        name=_text(name, "name", 200),
        lost_reason=lost_reason.strip()[:200],
        category_id=category_id,
        lost_since=lost_since,
        lost_until=lost_until,
        remedy_kind=kind,
        amount=clean_amount,
        currency=clean_currency,
        budget=clean_budget,
        subject=_text(subject, "subject", 200),
        body=_text(body, "body", 20_000),
        created_by=actor,
    )
    campaign.save()
    CampaignTarget.objects.bulk_create(
        [CampaignTarget(campaign=campaign, customer_id=pk) for pk in targets], batch_size=1000
    )
    loyalty_event_record(
        customer_id=None,
        kind=LoyaltyEventKind.CAMPAIGN_CREATED,
        actor=actor,
        data={"campaign_id": campaign.pk, "targets": len(targets), "budget": str(clean_budget)},
    )
    return campaign


@transaction.atomic
def campaign_launch(*, campaign: Campaign, actor: User) -> int:
    """Queue the message to every target with an email address; returns how many were queued.

    The offer is checked again first: within the launcher's authority (limits may have changed
    since the campaign was created, or someone else launches it) and the budget still covering
    every target accepting it."""
    staff_profile_of(user=actor)
    campaign = (
        Campaign.objects.select_for_update().select_related("remedy_kind").get(pk=campaign.pk)
    )
    if campaign.status != CampaignStatus.DRAFT:
        raise ApplicationError(
            "This campaign was already launched.", code="campaign_launched", status=409
        )
    _authority_check(actor=actor, kind=campaign.remedy_kind, amount=campaign.amount)
    _budget_check(budget=campaign.budget, amount=campaign.amount, targets=campaign.targets.count())
    try:
        from amends.channels.services.outbound import email_queue
    except ImportError as exc:  # the outbound mail path is not installed
        raise ApplicationError(
            "Outbound mail is not available.", code="outbound_unavailable", status=503
        ) from exc
    now = timezone.now()
    queued = 0
    targets = list(campaign.targets.select_related("customer").order_by("id"))
    for target in targets:
        if not target.customer.email:
            continue
        email_queue(
            to=target.customer.email,
            subject=campaign.subject,
            body=campaign.body,
            automatic=True,
            kind="win_back",
            customer_id=target.customer_id,
            dedupe_key=f"winback-{campaign.pk}-{target.customer_id}",
        )
        target.contacted_at = now
        queued += 1
    CampaignTarget.objects.bulk_update(targets, ["contacted_at"], batch_size=1000)
    campaign.status = CampaignStatus.LAUNCHED
    campaign.launched_at = now
    campaign.save(update_fields=["status", "launched_at", "updated_at"])
    loyalty_event_record(
        customer_id=None,
        kind=LoyaltyEventKind.CAMPAIGN_LAUNCHED,
        actor=actor,
        data={"campaign_id": campaign.pk, "contacted": queued},
    )
    return queued


def _target(target: CampaignTarget) -> CampaignTarget:
    target = (
        CampaignTarget.objects.select_for_update()
        .select_related("campaign", "customer")
        .get(pk=target.pk)
    )
    if target.campaign.status != CampaignStatus.LAUNCHED:
        raise ApplicationError(
            "The campaign has not been launched.", code="campaign_not_launched", status=409
        )
    return target


@transaction.atomic
def campaign_target_respond(*, target: CampaignTarget, actor: User) -> CampaignTarget:
    """The customer answered the win-back message (without accepting yet)."""
    staff_profile_of(user=actor)
    target = _target(target)
    if target.responded_at is None:
        target.responded_at = timezone.now()
        target.save(update_fields=["responded_at"])
        loyalty_event_record(
            customer_id=target.customer_id,
            kind=LoyaltyEventKind.TARGET_RESPONDED,
            actor=actor,
            data={"campaign_id": target.campaign_id},
        )
    return target


@transaction.atomic
def campaign_target_accept(*, target: CampaignTarget, actor: User) -> CampaignTarget:
    """The customer took the offer: they are won back and the offer's cost is booked as the
    campaign's retention cost, as long as its budget still covers it. No remedy and no case
    are created (see the module's docstring)."""
    staff_profile_of(user=actor)
    target = _target(target)
    if target.accepted_at is not None:
        raise ApplicationError(
            "The offer was already accepted.", code="already_accepted", status=409
        )
    campaign = Campaign.objects.select_for_update().get(pk=target.campaign_id)
    amount = campaign.amount or ZERO
    spent = sum((t.cost for t in campaign.targets.exclude(pk=target.pk)), start=ZERO)
    if spent + amount > campaign.budget:
        raise ApplicationError("The campaign's budget is spent.", code="over_budget", status=409)
    now = timezone.now()
    customer = customer_get(customer_id=target.customer_id)
    if customer.loyalty_status == LoyaltyStatus.LOST:
        loyalty_status_change(
            customer=customer,
            status=LoyaltyStatus.WON_BACK,
            reason=f"Accepted win-back offer: {campaign.name}"[:200],
            actor=actor,
        )
        target.won_back_at = now
    target.responded_at = target.responded_at or now
    target.accepted_at = now
    target.cost = amount
    target.save(update_fields=["responded_at", "accepted_at", "won_back_at", "cost"])
    loyalty_event_record(
        customer_id=target.customer_id,
        kind=LoyaltyEventKind.TARGET_ACCEPTED,
        actor=actor,
        data={
            "campaign_id": campaign.pk,
            "remedy_kind": campaign.remedy_kind.code,
            "amount": str(amount),
            "currency": campaign.currency,
        },
    )
    return target
