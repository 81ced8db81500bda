"""Proposing, approving, rejecting, issuing, cancelling and escalating remedies.

Every limit is checked in the same transaction as the write, after locking the customer's
row: two proposals for one customer serialise there, so they cannot both slip under a
per-customer limit that only one of them fits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.accounts.choices import ROLE_RANK
from amends.accounts.selectors import staff_profile_of
from amends.cases.choices import DONE_STATUSES, CaseStatus, StepState
from amends.cases.models import Case, CaseStep
from amends.cases.services.events import case_event_record
from amends.cases.services.workflow import case_step_done
from amends.core import hooks
from amends.core.exceptions import ApplicationError, PermissionDeniedError
from amends.core.validation import is_decimal_text
from amends.customers.models import Customer
from amends.policies.business_hours import add_business_time
from amends.policies.choices import RecoveryStep
from amends.policies.selectors import business_calendar_for
from amends.remedies.authority import Usage, approver_find, limits_check, limits_for
from amends.remedies.choices import (
    CANCELLABLE_STATUSES,
    COST_STATUSES,
    CURRENCIES,
    ISSUABLE_STATUSES,
    RemedyEventKind,
    RemedyStatus,
)
from amends.remedies.models import Remedy, RemedyKind

DEFAULT_APPROVAL_DECISION_HOURS = 4.0
MAX_AMOUNT = Decimal("9999999999.99")


def approval_decision_hours() -> float:
    """Business hours an approver has to decide (settings.AMENDS["APPROVAL_DECISION_HOURS"])."""
    return float(
        getattr(settings, "AMENDS", {}).get(
            "APPROVAL_DECISION_HOURS", DEFAULT_APPROVAL_DECISION_HOURS
        )
    )


def decision_due_for(*, case: Case, start: datetime) -> datetime:
    calendar = business_calendar_for(playbook=case.playbook)
    return add_business_time(
        calendar=calendar, start=start, delta=timedelta(hours=approval_decision_hours())
    )


# ---- input checks -------------------------------------------------------------------------


def _invalid(message: str, field: str, code: str = "invalid_remedy") -> ApplicationError:
    return ApplicationError(message, code=code, status=422, detail={field: [message]})


@dataclass(frozen=True)
class RemedyInput:
    """One remedy as asked for, before any rule has looked at it."""

    kind: str
    amount: Decimal | str | None = None
    currency: str = ""
    description: str = ""


@dataclass(frozen=True)
class CleanRemedy:
    kind: RemedyKind
    amount: Decimal | None
    currency: str
    description: str


def remedy_kind_clean(code: str) -> RemedyKind:
    kind = RemedyKind.objects.filter(code=code, active=True).first()
    if kind is None:
        raise _invalid(f"Unknown remedy kind {code!r}.", "kind", "unknown_kind")
    return kind


def currency_clean(code: str) -> str:
    currency = (code or "").strip().upper()
    if not currency:
        raise _invalid("An amount needs a currency.", "currency", "invalid_currency")
    if currency not in CURRENCIES:
        raise _invalid(
            f"Unknown currency {code!r}; use an ISO 4217 code such as USD or EUR.",
            "currency",
            "unknown_currency",
        )
    return currency


def amount_clean(value: Decimal | str) -> Decimal:
    try:
        if not isinstance(value, Decimal) and not is_decimal_text(str(value)):
            raise InvalidOperation
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _invalid("The amount must be a number such as 80.00.", "amount") from None
    if not amount.is_finite() or amount <= 0:
        raise _invalid("The amount must be more than zero.", "amount", "invalid_amount")
    # Size before any arithmetic: quantizing 1e26 to cents overflows the decimal context.
    if amount > MAX_AMOUNT:
        raise _invalid("The amount is too large.", "amount", "invalid_amount")
    if amount != amount.quantize(Decimal("0.01")):
        raise _invalid("The amount can have at most two decimals.", "amount", "invalid_amount")
    # Always two decimals: "5", "5.1" and "1e3" are stored, answered and logged as 5.00,
    # 5.10 and 1000.00 (not "5", "5.1" or "1E+3").
    return amount.quantize(Decimal("0.01"))


def remedy_input_clean(data: RemedyInput) -> CleanRemedy:
    """Kind known and active, amount positive with two decimals, currency ISO 4217 (422s)."""
    kind = remedy_kind_clean(data.kind)
    has_amount = data.amount is not None and str(data.amount).strip() != ""
    amount = amount_clean(data.amount) if has_amount and data.amount is not None else None
    currency = ""
    if amount is None:
        if kind.monetary:
            raise _invalid(f"A {kind.name.lower()} needs an amount.", "amount", "invalid_amount")
        if (data.currency or "").strip():
            raise _invalid("A currency needs an amount.", "currency", "invalid_currency")
    else:
        currency = currency_clean(data.currency)
    return CleanRemedy(
        kind=kind, amount=amount, currency=currency, description=data.description.strip()[:500]
    )


def case_accepts_remedies(case: Case) -> None:
    if case.status in DONE_STATUSES:
        raise ApplicationError(
            "This case is resolved or closed; reopen it before offering a remedy.",
            code="case_not_open",
            status=409,
        )


def customer_lock(case: Case) -> None:
    """Serialise every limit check for this customer (see the module docstring)."""
    Customer.objects.select_for_update().only("pk").get(pk=case.customer_id)


# ---- shared steps -------------------------------------------------------------------------


def remedy_event_data(remedy: Remedy, *, before: str | None = None, **extra: Any) -> dict[str, Any]:
    """What a remedy event records; with `before`, the status as a before → after change."""
    status: str | dict[str, str] = remedy.status
    if before is not None and before != remedy.status:
        status = {"from": str(before), "to": str(remedy.status)}
    return {
        "remedy_id": remedy.pk,
        "kind": remedy.kind.code,
        "amount": None if remedy.amount is None else str(remedy.amount),
        "currency": remedy.currency,
        "status": status,
        **extra,
    }


def remedy_route(*, remedy: Remedy, case: Case, proposer: User, now: datetime) -> None:
    """Grant within the proposer's authority, or route to the nearest approver (409 if none)."""
    usage = Usage(
        case=case, kind=remedy.kind, currency=remedy.currency, now=now, exclude_pk=remedy.pk
    )
    breaches = limits_check(
        limits=limits_for(user=proposer, kind=remedy.kind), amount=remedy.amount, usage=usage
    )
    if not breaches:
        remedy.status = RemedyStatus.GRANTED
        return
    approver = approver_find(
        above=proposer,
        kind=remedy.kind,
        amount=remedy.amount,
        usage=usage,
        exclude={proposer.pk},
    )
    if approver is None:
        raise ApplicationError(
            "No one has the authority to approve this remedy. Ask an administrator to "
            "extend the authority matrix, or offer a smaller remedy.",
            code="no_authority",
            status=409,
            detail={"breaches": [b.as_dict() for b in breaches]},
        )
    remedy.status = RemedyStatus.PENDING_APPROVAL
    remedy.approver = approver
    remedy.approval_requested_at = now
    remedy.decision_due_at = decision_due_for(case=case, start=now)
    remedy._breaches = breaches  # type: ignore[attr-defined]  # carried to the event only


def remedy_record_outcome(
    *, remedy: Remedy, case: Case, actor: User | None, before: str = RemedyStatus.PROPOSED
) -> None:
    """The timeline event for a just-routed remedy, and the compensate step when granted."""
    if remedy.status == RemedyStatus.GRANTED:
        case_event_record(
            case=case,
            kind=RemedyEventKind.GRANTED,
            actor=actor,
            data=remedy_event_data(
                remedy, before=before, within_authority=True, reason=remedy.reason
            ),
        )
        compensate_step_done(case=case, remedy=remedy, actor=actor)
        return
    breaches = getattr(remedy, "_breaches", [])
    assert remedy.approver is not None  # noqa: S101  # set by remedy_route
    assert remedy.decision_due_at is not None  # noqa: S101
    case_event_record(
        case=case,
        kind=RemedyEventKind.APPROVAL_REQUESTED,
        actor=actor,
        data=remedy_event_data(
            remedy,
            before=before,
            approver=remedy.approver.username,
            decision_due_at=remedy.decision_due_at.isoformat(),
            breaches=[b.as_dict() for b in breaches],
            reason=remedy.reason,
        ),
    )


def compensate_step_done(*, case: Case, remedy: Remedy, actor: User | None) -> bool:
    """Mark the playbook's compensate step done, when there is one waiting; never fails."""
    fresh = Case.objects.only("status").get(pk=case.pk)
    if fresh.status == CaseStatus.NEW or fresh.status in DONE_STATUSES or actor is None:
        return False
    pending = CaseStep.objects.filter(
        case_id=case.pk, step=RecoveryStep.COMPENSATE, state=StepState.PENDING
    ).exists()
    if not pending:
        return False
    note = f"Remedy #{remedy.pk}: {remedy.kind.name}"
    if remedy.amount is not None:
        note += f" {remedy.money}"
    case_step_done(case=case, step=RecoveryStep.COMPENSATE, version=None, actor=actor, note=note)
    return True


def _reason(reason: str, *, required: bool, what: str) -> str:
    reason = reason.strip()
    if required and not reason:
        raise _invalid(f"{what} needs a reason.", "reason", "reason_required")
    return reason


def _announce(remedy: Remedy, *, before: str, actor: User | None) -> None:
    hooks.remedy_changed.emit(
        hooks.RemedyChanged(
            remedy_id=remedy.pk,
            case_id=remedy.case_id,
            before=str(before),
            after=str(remedy.status),
            actor_id=actor.pk if actor is not None else None,
        )
    )


def _locked(remedy: Remedy) -> Remedy:
    return (
        Remedy.objects.select_for_update(of=("self",))
        .select_related("case__playbook", "kind", "approver__staff", "proposed_by")
        .get(pk=remedy.pk)
    )


# ---- services -----------------------------------------------------------------------------


@transaction.atomic
def remedy_propose(
    *,
    case: Case,
    kind: str,
    amount: Decimal | str | None,
    currency: str,
    reason: str,
    actor: User,
    description: str = "",
) -> Remedy:
    """Grant at once within the proposer's authority; otherwise ask the nearest approver."""
    staff_profile_of(user=actor)
    clean = remedy_input_clean(
        RemedyInput(kind=kind, amount=amount, currency=currency, description=description)
    )
    reason = _reason(reason, required=True, what="A remedy")
    case_accepts_remedies(case)
    customer_lock(case)
    case = Case.objects.select_related("playbook").get(pk=case.pk)
    case_accepts_remedies(case)  # re-read after the lock: it may have closed meanwhile
    now = timezone.now()
    remedy = Remedy(
        case=case,
        customer_id=case.customer_id,
        kind=clean.kind,
        amount=clean.amount,
        currency=clean.currency,
        description=clean.description,
        reason=reason,
        proposed_by=actor,
        status=RemedyStatus.PROPOSED,
    )
    remedy_route(remedy=remedy, case=case, proposer=actor, now=now)
    remedy.save()
    remedy_record_outcome(remedy=remedy, case=case, actor=actor)
    _announce(remedy, before=RemedyStatus.PROPOSED, actor=actor)
    return remedy


def _may_decide(actor: User, remedy: Remedy) -> None:
    if remedy.proposed_by_id == actor.pk:
        raise PermissionDeniedError("You cannot decide on a remedy you proposed yourself.")
    if remedy.approver_id == actor.pk:
        return
    profile = staff_profile_of(user=actor)
    approver_rank = remedy.approver.staff.rank if remedy.approver else 0
    if ROLE_RANK[profile.role] <= approver_rank:
        raise PermissionDeniedError(
            "Only the assigned approver, or someone above them, can decide on this remedy."
        )


def _pending(remedy: Remedy) -> None:
    if remedy.status != RemedyStatus.PENDING_APPROVAL:
        raise ApplicationError(
            f"This remedy is already {remedy.get_status_display().lower()}; "
            "it cannot be decided again.",
            code="already_decided",
            status=409,
            detail={"status": remedy.status},
        )


def _decide(remedy: Remedy, *, status: str, actor: User, reason: str, now: datetime) -> None:
    remedy.status = status
    remedy.decided_by = actor
    remedy.decided_at = now
    remedy.decision_reason = reason
    if remedy.approval_requested_at is not None:
        remedy.decision_seconds = max(0, int((now - remedy.approval_requested_at).total_seconds()))
    remedy.save(
        update_fields=[
            "status",
            "decided_by",
            "decided_at",
            "decision_reason",
            "decision_seconds",
            "updated_at",
        ]
    )


@transaction.atomic
def remedy_approve(*, remedy: Remedy, reason: str, actor: User) -> Remedy:
    """Approve a pending remedy; the approver's own authority must cover it, now."""
    reason = _reason(reason, required=False, what="An approval")
    remedy = _locked(remedy)
    _pending(remedy)
    _may_decide(actor, remedy)
    case_accepts_remedies(remedy.case)
    customer_lock(remedy.case)
    now = timezone.now()
    # Against what is promised (granted, approved, issued), not other requests still waiting.
    usage = Usage(
        case=remedy.case,
        kind=remedy.kind,
        currency=remedy.currency,
        now=now,
        exclude_pk=remedy.pk,
        statuses=COST_STATUSES,
    )
    breaches = limits_check(
        limits=limits_for(user=actor, kind=remedy.kind), amount=remedy.amount, usage=usage
    )
    if breaches:
        raise ApplicationError(
            "This remedy is above your own authority; it needs someone with a higher limit.",
            code="above_authority",
            status=403,
            detail={"breaches": [b.as_dict() for b in breaches]},
        )
    _decide(remedy, status=RemedyStatus.APPROVED, actor=actor, reason=reason, now=now)
    case_event_record(
        case=remedy.case,
        kind=RemedyEventKind.APPROVED,
        actor=actor,
        data=remedy_event_data(
            remedy,
            before=RemedyStatus.PENDING_APPROVAL,
            proposed_by=remedy.proposed_by.username if remedy.proposed_by else None,
            decision_reason=reason,
            decision_seconds=remedy.decision_seconds,
        ),
    )
    compensate_step_done(case=remedy.case, remedy=remedy, actor=actor)
    _announce(remedy, before=RemedyStatus.PENDING_APPROVAL, actor=actor)
    return remedy


@transaction.atomic
def remedy_reject(*, remedy: Remedy, reason: str, actor: User) -> Remedy:
    reason = _reason(reason, required=True, what="A rejection")
    remedy = _locked(remedy)
    _pending(remedy)
    _may_decide(actor, remedy)
    now = timezone.now()
    _decide(remedy, status=RemedyStatus.REJECTED, actor=actor, reason=reason, now=now)
    case_event_record(
        case=remedy.case,
        kind=RemedyEventKind.REJECTED,
        actor=actor,
        data=remedy_event_data(
            remedy,
            before=RemedyStatus.PENDING_APPROVAL,
            proposed_by=remedy.proposed_by.username if remedy.proposed_by else None,
            decision_reason=reason,
            decision_seconds=remedy.decision_seconds,
        ),
    )
    _announce(remedy, before=RemedyStatus.PENDING_APPROVAL, actor=actor)
    return remedy


@transaction.atomic
def remedy_issue(*, remedy: Remedy, reference: str, actor: User) -> Remedy:
    """Record that the remedy reached the customer (a credit-note number, an order id…)."""
    reference = reference.strip()
    if not reference:
        raise _invalid("Issuing needs a reference, e.g. the credit-note number.", "reference")
    if len(reference) > 100:
        raise _invalid("The reference is too long (100 characters at most).", "reference")
    remedy = _locked(remedy)
    if remedy.status not in ISSUABLE_STATUSES:
        raise ApplicationError(
            f"Only a granted or approved remedy can be issued; this one is "
            f"{remedy.get_status_display().lower()}.",
            code="not_issuable",
            status=409,
            detail={"status": remedy.status},
        )
    before = remedy.status
    remedy.status = RemedyStatus.ISSUED
    remedy.issue_reference = reference
    remedy.issued_at = timezone.now()
    remedy.issued_by = actor
    remedy.save(update_fields=["status", "issue_reference", "issued_at", "issued_by", "updated_at"])
    case_event_record(
        case=remedy.case,
        kind=RemedyEventKind.ISSUED,
        actor=actor,
        data=remedy_event_data(remedy, before=before, issue_reference=reference),
    )
    compensate_step_done(case=remedy.case, remedy=remedy, actor=actor)
    _announce(remedy, before=before, actor=actor)
    return remedy


@transaction.atomic
def remedy_cancel(*, remedy: Remedy, reason: str, actor: User | None) -> Remedy:
    reason = _reason(reason, required=True, what="Cancelling")
    remedy = _locked(remedy)
    if remedy.status not in CANCELLABLE_STATUSES:
        raise ApplicationError(
            f"A remedy that is {remedy.get_status_display().lower()} cannot be cancelled.",
            code="not_cancellable",
            status=409,
            detail={"status": remedy.status},
        )
    before = remedy.status
    remedy.status = RemedyStatus.CANCELLED
    remedy.cancel_reason = reason
    remedy.save(update_fields=["status", "cancel_reason", "updated_at"])
    case_event_record(
        case=remedy.case,
        kind=RemedyEventKind.CANCELLED,
        actor=actor,
        data=remedy_event_data(remedy, before=before, reason=reason),
    )
    _announce(remedy, before=before, actor=actor)
    return remedy


@transaction.atomic
def remedy_escalate(*, remedy: Remedy, now: datetime) -> bool:
    """Hand an overdue approval one level up; False when nobody above can approve it."""
    remedy = _locked(remedy)
    if (
        remedy.status != RemedyStatus.PENDING_APPROVAL
        or remedy.decision_due_at is None
        or remedy.decision_due_at > now
        or remedy.escalation_exhausted
        or remedy.approver is None
    ):
        return False
    usage = Usage(
        case=remedy.case,
        kind=remedy.kind,
        currency=remedy.currency,
        now=now,
        exclude_pk=remedy.pk,
    )
    exclude: set[int] = {remedy.approver.pk}
    if remedy.proposed_by_id is not None:
        exclude.add(remedy.proposed_by_id)
    successor = approver_find(
        above=remedy.approver, kind=remedy.kind, amount=remedy.amount, usage=usage, exclude=exclude
    )
    previous = remedy.approver
    if successor is None:
        remedy.escalation_exhausted = True
        remedy.save(update_fields=["escalation_exhausted", "updated_at"])
        case_event_record(
            case=remedy.case,
            kind=RemedyEventKind.OVERDUE,
            actor=None,
            data=remedy_event_data(
                remedy,
                approver=previous.username,
                decision_due_at=remedy.decision_due_at.isoformat(),
                note="No one above the approver has the authority; it stays with them.",
            ),
        )
        return False
    remedy.approver = successor
    remedy.escalation_level += 1
    remedy.decision_due_at = decision_due_for(case=remedy.case, start=now)
    remedy.save(update_fields=["approver", "escalation_level", "decision_due_at", "updated_at"])
    case_event_record(
        case=remedy.case,
        kind=RemedyEventKind.ESCALATED,
        actor=None,
        data=remedy_event_data(
            remedy,
            approver={"from": previous.username, "to": successor.username},
            decision_due_at=remedy.decision_due_at.isoformat(),
            escalation_level=remedy.escalation_level,
        ),
    )
    return True
