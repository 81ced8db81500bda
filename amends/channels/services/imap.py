"""IMAP polling with imap-tools: TLS, password from the environment, mark after storing."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from django.utils import timezone

from amends.channels.models import Mailbox
from amends.channels.services.inbound import MailQuarantinedError, mail_ingest

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PollResult:
    mailbox: str
    taken: int
    quarantined: int
    error: str = ""


def mailbox_poll(*, mailbox: Mailbox, limit: int = 500) -> PollResult:
    from imap_tools import AND, MailBox, MailMessageFlags

    password = os.environ.get(mailbox.password_env, "")
    taken = quarantined = 0
    try:
        with MailBox(mailbox.host, port=mailbox.port, timeout=60).login(
            mailbox.username, password, initial_folder=mailbox.folder
        ) as box:
            for msg in box.fetch(AND(seen=False), limit=limit, mark_seen=False, bulk=50):
                try:
                    mail_ingest(raw=msg.obj.as_bytes())
                    taken += 1
                except MailQuarantinedError:
                    quarantined += 1  # kept in the quarantine folder: take it off the server
                if msg.uid is None:
                    continue
                if mailbox.processed_folder:
                    box.move(msg.uid, mailbox.processed_folder)
                else:
                    box.flag(msg.uid, MailMessageFlags.SEEN, True)
    except Exception as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
        Mailbox.objects.filter(pk=mailbox.pk).update(last_error=error)
        logger.warning("polling %s failed: %s", mailbox.name, error)
        return PollResult(mailbox.name, taken, quarantined, error)
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error="")
    return PollResult(mailbox.name, taken, quarantined)


def mailboxes_poll(*, limit: int = 500) -> list[PollResult]:
    return [mailbox_poll(mailbox=m, limit=limit) for m in Mailbox.objects.filter(active=True)]


def mail_poll_sweep(*, now: object = None) -> int:
    """Optional AMENDS_SWEEPS entry (`amends.channels.services.imap.mail_poll_sweep`)."""
    return sum(r.taken for r in mailboxes_poll())
