"""insight's reactions to the cases app (subscribed in InsightConfig.ready()).

Each runs inside the emitter's transaction. A failure of insight must never lose a customer's
case or message, so each reaction runs in its own savepoint (the services are atomic) and an
error is logged, not raised.
"""

from __future__ import annotations

import logging

from django.contrib.auth.models import User
from django.db import transaction

from amends.cases.choices import MessageDirection
from amends.cases.models import Case, Message
from amends.core import hooks
from amends.core.rows import instance_only
from amends.insight.choices import CheckKind
from amends.insight.services.intake import OPENED_FIELDS, case_intake_review, case_opened_write
from amends.insight.services.repeats import repeat_links_write
from amends.insight.services.scoring import description_score_write, message_score
from amends.insight.services.triage import case_triage, triage_choice_record, triage_model

logger = logging.getLogger(__name__)


def on_case_opened(payload: hooks.CaseOpened) -> None:
    """Write what the intake review found; for a case opened without one: triage first (a
    category applied counts for repeat detection), then repeats, then the customer's words. One
    savepoint: a failure rolls back insight's part only, is logged, and the case opens
    regardless."""
    # What the intake review is matched on and its findings written with: not the whole case
    # (making one from its row cost more than all of insight's writing).
    case = instance_only(Case, payload.case_id, OPENED_FIELDS)
    if case is None:
        raise Case.DoesNotExist(f"case {payload.case_id} does not exist")
    try:
        if case_opened_write(case=case):
            return
        case = Case.objects.get(pk=payload.case_id)
        with transaction.atomic():
            if triage_model() is not None and case_triage(case=case) is not None:
                case = Case.objects.get(pk=payload.case_id)
            links = repeat_links_write(case=case, at_intake=True)
            if links:
                case = Case.objects.get(pk=payload.case_id)
            description_score_write(case=case, insight_exists=bool(links), at_intake=True)
    except Exception:
        logger.exception("insight could not process new case %s", payload.case_id)


def on_case_intake_review(payload: hooks.CaseIntakeReview) -> None:
    """Advise the intake before the case's first save; a failure is logged and the case opens
    without advice (it is then read after the save, in on_case_opened)."""
    try:
        case_intake_review(payload)
    except Exception:
        logger.exception("insight could not review a case being opened")


def on_message_added(payload: hooks.MessageAdded) -> None:
    if payload.direction not in (MessageDirection.INBOUND, MessageDirection.OUTBOUND):
        return
    try:
        message = Message.objects.select_related("case").get(pk=payload.message_id)
        if payload.direction == MessageDirection.INBOUND:
            message_score(message=message, customer_id=message.case.customer_id)
        else:
            # Imported here: the coach compiles its phrase patterns at import, which every
            # process start (a piped mail) would pay for a staff reply it never sends.
            from amends.insight.services.coach import apology_check_record

            author = message.author if message.author_id is not None else None
            apology_check_record(
                case=message.case, author=author, draft=message.body, kind=CheckKind.SEND
            )
    except Exception:
        logger.exception("insight could not process message %s", payload.message_id)


def on_case_changed(payload: hooks.CaseChanged) -> None:
    """An agent's category choice is kept beside the triage prediction."""
    if "category" not in payload.fields or payload.actor_id is None:
        return
    try:
        case = Case.objects.select_related("category").get(pk=payload.case_id)
        actor = User.objects.get(pk=payload.actor_id)
        triage_choice_record(case=case, category=case.category, actor=actor)
    except Exception:
        logger.exception("insight could not record the category choice on %s", payload.case_id)


def subscribe() -> None:
    hooks.case_intake_review.subscribe(on_case_intake_review)
    hooks.case_opened.subscribe(on_case_opened)
    hooks.message_added.subscribe(on_message_added)
    hooks.case_changed.subscribe(on_case_changed)
