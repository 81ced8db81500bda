from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from amends.cases.choices import CaseEventKind, CaseStatus, MessageDirection
from amends.cases.models import Case, Message
from amends.cases.services.events import case_event_record
from amends.cases.services.workflow import case_await_customer, case_lock, case_resume
from amends.core import hooks
from amends.core.exceptions import ApplicationError

MAX_BODY = 50_000


@transaction.atomic
def case_message_add(
    *,
    case: Case,
    direction: str,
    body: str,
    actor: User | None,
    version: int | None = None,
    awaiting_customer: bool = False,
) -> Message:
    """Record a message. A customer's reply resumes a paused case; a reply to the customer can
    hand the case to them (`awaiting_customer`), pausing the resolve clock."""
    body = body.strip()
    if direction not in MessageDirection.values:
        raise ApplicationError(
            f"Unknown direction {direction!r}.",
            code="invalid_message",
            status=422,
            detail={"direction": [f"Choose one of {', '.join(MessageDirection.values)}."]},
        )
    if not body:
        raise ApplicationError(
            "A message needs some text.",
            code="invalid_message",
            status=422,
            detail={"body": ["Required."]},
        )
    if len(body) > MAX_BODY:
        raise ApplicationError(
            "The message is too long.",
            code="invalid_message",
            status=422,
            detail={"body": [f"At most {MAX_BODY} characters."]},
        )
    if awaiting_customer and direction != MessageDirection.OUTBOUND:
        raise ApplicationError(
            "Only a message to the customer can wait for their answer.",
            code="invalid_message",
            status=422,
        )
    case = case_lock(case=case, version=version)
    message = Message.objects.create(case=case, direction=direction, body=body, author=actor)
    case.version += 1
    case.save(update_fields=["version", "updated_at"])
    case_event_record(
        case=case,
        kind=CaseEventKind.MESSAGE_ADDED,
        actor=actor,
        data={"message_id": message.pk, "direction": direction, "excerpt": body[:140]},
    )
    hooks.message_added.emit(
        hooks.MessageAdded(
            message_id=message.pk,
            case_id=case.pk,
            direction=direction,
            actor_id=actor.pk if actor is not None else None,
        )
    )
    if direction == MessageDirection.INBOUND and case.status == CaseStatus.AWAITING_CUSTOMER:
        case_resume(case=case, version=None, actor=actor)
    elif awaiting_customer:
        case_await_customer(case=case, version=None, actor=actor)
    return message
