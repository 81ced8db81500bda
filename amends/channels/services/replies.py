"""Replies recorded on a case go to the customer by email (core hook `message_added`)."""

from __future__ import annotations

import logging

from amends.cases.choices import MessageDirection
from amends.cases.models import Message
from amends.channels.choices import OutboundKind
from amends.channels.services.outbound import email_queue
from amends.channels.services.portal import portal_url_for_case
from amends.core import hooks
from amends.core.exceptions import ApplicationError

logger = logging.getLogger(__name__)


def reply_email_queue(payload: hooks.MessageAdded) -> None:
    """Queue the email carrying an outbound case message (in the message's transaction)."""
    if payload.direction != MessageDirection.OUTBOUND:
        return
    message = Message.objects.select_related("case__customer").get(pk=payload.message_id)
    case = message.case
    address = case.customer.email.strip()
    if not address:
        return
    url = portal_url_for_case(case_id=case.pk, actor=None)
    try:
        _queue(message, address, url)
    except ApplicationError:
        # An address that is not one: the reply stays on the case, visible, and unsent.
        logger.warning("reply %s not emailed: bad address %r", message.pk, address)


def _queue(message: Message, address: str, url: str) -> None:
    case = message.case
    email_queue(
        to=address,
        subject=f"Re: {case.title}",
        body=(
            f"{message.body}\n\n"
            "-- \n"
            f"Case {case.ref}. Reply to this email, or see your case and answer here:\n{url}\n"
        ),
        automatic=False,
        kind=OutboundKind.REPLY,
        case_id=case.pk,
        customer_id=case.customer_id,
        dedupe_key=f"message:{message.pk}",
        case_message_id=message.pk,
    )
