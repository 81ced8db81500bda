"""Choice menus: alternative remedies offered together, of which the customer picks one."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.accounts.selectors import staff_profile_of
from amends.cases.models import Case
from amends.cases.services.events import case_event_record
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.remedies.choices import MenuStatus, RemedyEventKind, RemedyStatus
from amends.remedies.models import ChoiceMenu, Remedy
from amends.remedies.services.remedies import (
    RemedyInput,
    case_accepts_remedies,
    customer_lock,
    remedy_event_data,
    remedy_input_clean,
    remedy_record_outcome,
    remedy_route,
)

MIN_OPTIONS = 2
MAX_OPTIONS = 6


@transaction.atomic
def menu_create(
    *, case: Case, options: list[RemedyInput], actor: User, note: str = ""
) -> ChoiceMenu:
    """Offer 2–6 alternatives; nothing is granted until one is chosen."""
    staff_profile_of(user=actor)
    if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
        raise ApplicationError(
            f"A choice menu needs {MIN_OPTIONS} to {MAX_OPTIONS} options.",
            code="invalid_menu",
            status=422,
            detail={"options": [f"Give {MIN_OPTIONS} to {MAX_OPTIONS} options."]},
        )
    clean = [remedy_input_clean(option) for option in options]
    case_accepts_remedies(case)
    menu = ChoiceMenu.objects.create(case=case, note=note.strip(), created_by=actor)
    rows = Remedy.objects.bulk_create(
        [
            Remedy(
                case=case,
                customer_id=case.customer_id,
                kind=c.kind,
                amount=c.amount,
                currency=c.currency,
                description=c.description,
                reason=menu.note,
                status=RemedyStatus.OFFERED,
                proposed_by=actor,
                menu=menu,
            )
            for c in clean
        ]
    )
    case_event_record(
        case=case,
        kind=RemedyEventKind.MENU_OFFERED,
        actor=actor,
        data={"menu_id": menu.pk, "options": [remedy_event_data(r) for r in rows]},
    )
    return menu


@transaction.atomic
def menu_choose(*, menu: ChoiceMenu, remedy_id: int, actor: User | None) -> Remedy:
    """Pick one option (staff on the customer's behalf, or the customer when actor is None).

    The chosen option goes through the authority check of the staff member who offered the
    menu: they put it in front of the customer. The other options are cancelled as not chosen.
    """
    menu = (
        ChoiceMenu.objects.select_for_update(of=("self",))
        .select_related("case__playbook", "created_by")
        .get(pk=menu.pk)
    )
    if menu.status != MenuStatus.OPEN:
        raise ApplicationError(
            "A choice has already been made on this menu (or it was withdrawn).",
            code="menu_closed",
            status=409,
            detail={"status": menu.status},
        )
    options = list(menu.options.select_related("kind").order_by("id"))
    chosen = next((o for o in options if o.pk == remedy_id), None)
    if chosen is None or chosen.status != RemedyStatus.OFFERED:
        raise ApplicationError(
            "That remedy is not one of this menu's open options.",
            code="invalid_choice",
            status=422,
            detail={"remedy_id": ["Not an open option of this menu."]},
        )
    case = menu.case
    case_accepts_remedies(case)
    customer_lock(case)
    proposer = menu.created_by or actor
    if proposer is None:
        raise ApplicationError("Nobody offered this menu.", code="invalid_menu", status=409)
    now = timezone.now()
    for other in options:
        if other.pk != chosen.pk and other.status == RemedyStatus.OFFERED:
            other.status = RemedyStatus.CANCELLED
            other.cancel_reason = "Not chosen"
            other.save(update_fields=["status", "cancel_reason", "updated_at"])
    remedy_route(remedy=chosen, case=case, proposer=proposer, now=now)
    chosen.save()
    menu.status = MenuStatus.CHOSEN
    menu.chosen = chosen
    menu.chosen_by = actor
    menu.chosen_at = now
    menu.save(update_fields=["status", "chosen", "chosen_by", "chosen_at", "updated_at"])
    case_event_record(
        case=case,
        kind=RemedyEventKind.CHOSEN,
        actor=actor,
        data=remedy_event_data(
            chosen,
            menu_id=menu.pk,
            on_behalf_of_customer=actor is not None,
            not_chosen=[o.pk for o in options if o.pk != chosen.pk],
        ),
    )
    remedy_record_outcome(remedy=chosen, case=case, actor=proposer, before=RemedyStatus.OFFERED)
    # The chosen option is now granted or waiting for approval: the floors above react (an
    # incident's funnel counts the choice at once, feedback, loyalty, webhooks).
    hooks.remedy_changed.emit(
        hooks.RemedyChanged(
            remedy_id=chosen.pk,
            case_id=case.pk,
            before=str(RemedyStatus.OFFERED),
            after=str(chosen.status),
            actor_id=actor.pk if actor is not None else None,
        )
    )
    return chosen
