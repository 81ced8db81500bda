"""Real mail end to end: Amends sends through SMTP to a server on loopback; the customer's
reply to what was captured comes back through `amends mail ingest` and lands on the case."""

from __future__ import annotations

import io
import socket
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cases.choices import MessageDirection
from amends.cases.models import Case
from amends.cases.services.messages import case_message_add
from amends.channels.choices import OutboundStatus
from amends.channels.models import OutboundEmail
from amends.channels.services.outbound import outbound_send_due
from amends.channels.tests.conftest import eml

pytestmark = pytest.mark.django_db


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope.original_content or envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[Inbox]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
        ):
            yield inbox
    finally:
        controller.stop()


def _ingest(monkeypatch: Any, raw: bytes) -> str:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("mail_ingest", stdout=out)
    return out.getvalue().strip().splitlines()[-1]


def _reply_to(sent: bytes, text: str) -> bytes:
    """What a mail client sends when the customer answers `sent`, quoting it."""
    original = message_from_bytes(sent, policy=policy.default)
    reply = EmailMessage()
    reply["From"] = "Ann Example <ann@example.com>"
    reply["To"] = original["From"]
    reply["Subject"] = "Re: " + str(original["Subject"])
    reply["Message-ID"] = make_msgid(domain="mail.example.com")
    reply["In-Reply-To"] = original["Message-ID"]
    reply["References"] = original["Message-ID"]
    body = original.get_body(preferencelist=("plain",))
    quoted = "\n".join("> " + line for line in body.get_content().splitlines()) if body else ""
    reply.set_content(
        f"{text}\n\nOn Mon, 30 Nov 2026, Amends <amends@amends.test> wrote:\n{quoted}\n"
    )
    return reply.as_bytes()


def test_reply_sent_over_smtp_and_answered_threads_onto_the_same_case(
    smtp: Inbox, monkeypatch: Any
) -> None:
    # The customer writes in: a case opens and a confirmation is queued.
    ref = _ingest(monkeypatch, eml("multipart_alternative.eml"))
    case = Case.objects.get()
    assert ref == case.ref
    # An agent answers on the case: the reply is queued as an email and the worker sends it.
    agent = UserFactory(role=Role.MANAGER)
    case_message_add(
        case=case,
        direction=MessageDirection.OUTBOUND,
        body="We are sorry. An engineer will come on Tuesday morning.",
        actor=agent,
    )
    assert outbound_send_due(now=timezone.now(), limit=10) == 2
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}
    confirmation, reply = (message_from_bytes(m, policy=policy.default) for m in smtp.messages)
    assert case.ref in str(reply["Subject"])
    assert reply["In-Reply-To"]
    assert confirmation["Message-ID"] in str(reply["References"])
    assert confirmation["Auto-Submitted"] == "auto-generated"
    assert reply["Auto-Submitted"] is None
    assert "/c/" in reply.get_body(preferencelist=("plain",)).get_content()
    # The customer answers the captured email; it lands on the same case, new text only.
    answer = _reply_to(smtp.messages[1], "Tuesday is fine, I will be at home.")
    assert _ingest(monkeypatch, answer) == case.ref
    assert Case.objects.count() == 1
    inbound = case.messages.filter(direction=MessageDirection.INBOUND).get()
    assert inbound.body == "Tuesday is fine, I will be at home."
    # An auto-reply to our reply is ignored and never answered: no mail loop.
    auto = _reply_to(smtp.messages[1], "I am away until Monday.").replace(
        b"Subject:", b"Auto-Submitted: auto-replied\r\nSubject:", 1
    )
    assert _ingest(monkeypatch, auto) == "ignored: auto-reply"
    assert outbound_send_due(now=timezone.now(), limit=10) == 0
    assert len(smtp.messages) == 2


def test_smtp_down_is_retried_and_visible_then_sent(smtp: Inbox, settings: Any) -> None:
    from amends.channels.services.outbound import email_queue

    email = email_queue(
        to="ann@example.com", subject="Hello", body="Hi", automatic=False, kind="reply"
    )
    with override_settings(EMAIL_PORT=9):  # nothing listens there
        assert outbound_send_due(now=timezone.now(), limit=10) == 0
    email.refresh_from_db()
    assert email.status == OutboundStatus.RETRYING
    assert email.last_error
    assert outbound_send_due(now=email.next_attempt_at, limit=10) == 1
    assert len(smtp.messages) == 1
