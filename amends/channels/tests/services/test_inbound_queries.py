"""Statements per received mail, with every app's hook subscribers on (as in production).

On PostgreSQL each statement is a round trip, so these counts are what `amends mail ingest`
costs beyond parsing. The test transaction turns `_ingest`'s transaction into a savepoint
(two statements that are BEGIN and COMMIT in production). The tests use the immediate task
backend, whose send task is asked for after the commit and so is not counted here; with the
database backend (production without Redis) it is one more INSERT, in the same transaction
(`test_outbound.py`).
"""

from __future__ import annotations

from typing import Any

import pytest

from amends.channels.choices import InboundOutcome
from amends.channels.models import InboundEmail, OutboundEmail
from amends.channels.services.inbound import mail_ingest
from amends.channels.tests.conftest import eml
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

NEW = (
    "From: Ann Example <ann@example.com>\r\nTo: help@amends.test\r\n"
    "Subject: Broadband down for three days\r\nMessage-ID: <{n}@mail.example.com>\r\n"
    "Date: Mon, 30 Nov 2026 09:15:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    "My broadband has been down since Friday and nobody answers the phone.\r\n"
)


def _reply(to_message_id: str, ref: str) -> bytes:
    return (
        "From: Ann Example <ann@example.com>\r\nTo: help@amends.test\r\n"
        f"Subject: Re: [{ref}] Broadband down\r\nMessage-ID: <reply-1@mail.example.com>\r\n"
        f"In-Reply-To: {to_message_id}\r\nReferences: {to_message_id}\r\n"
        "Date: Mon, 30 Nov 2026 10:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        "It is still down. I am really angry now.\r\n"
    ).encode()


def test_new_mail_from_a_new_sender_statements(django_assert_max_num_queries: Any) -> None:
    # The first case of a process also reads the policies it caches (playbook, calendar, SLA
    # targets): open one first, so the count is the steady state.
    mail_ingest(raw=eml("multipart_alternative.eml"))
    # One read for the duplicate check and the loop guard, the customer (looked up, created,
    # scored), the case with its steps, event and the subscribers' rows, the received mail,
    # the portal link, the confirmation and its send task: no lookups of rows that cannot
    # exist yet, no savepoint around the new customer, the escalation rules from the
    # process's copy, loyalty's queue row for the new case written once and not looked for.
    with django_assert_max_num_queries(24):
        result = mail_ingest(raw=NEW.format(n="new-1").replace("ann@", "bob@").encode())
    assert result.outcome == InboundOutcome.OPENED
    assert result.case_id is not None
    assert OutboundEmail.objects.filter(case_id=result.case_id, kind="confirmation").count() == 1


def test_new_mail_from_a_known_customer_statements(django_assert_max_num_queries: Any) -> None:
    mail_ingest(raw=eml("multipart_alternative.eml"))  # warms the policy caches
    CustomerFactory(email="bob@example.com")
    with django_assert_max_num_queries(22):
        result = mail_ingest(raw=NEW.format(n="known-1").replace("ann@", "bob@").encode())
    assert result.outcome == InboundOutcome.OPENED


def test_reply_statements(django_assert_max_num_queries: Any) -> None:
    opened = mail_ingest(raw=eml("multipart_alternative.eml"))
    assert opened.case_id is not None
    confirmation = OutboundEmail.objects.get(case_id=opened.case_id)
    with django_assert_max_num_queries(23):
        reply = mail_ingest(raw=_reply(confirmation.message_id, opened.line))
    assert reply.outcome == InboundOutcome.THREADED
    assert reply.case_id == opened.case_id


def test_duplicate_is_one_statement(django_assert_num_queries: Any) -> None:
    first = mail_ingest(raw=eml("multipart_alternative.eml"))
    with django_assert_num_queries(1):
        again = mail_ingest(raw=eml("multipart_alternative.eml"))
    assert again.duplicate
    assert (again.case_id, again.inbound_id, again.outcome) == (
        first.case_id,
        first.inbound_id,
        first.outcome,
    )
    assert InboundEmail.objects.count() == 1


def test_loop_guard_counts_the_senders_last_hour(settings: Any) -> None:
    settings.AMENDS = {**settings.AMENDS, "MAIL_MAX_PER_SENDER_HOUR": 3}
    outcomes = [mail_ingest(raw=NEW.format(n=f"loop-{n}").encode()).outcome for n in range(5)]
    assert outcomes == [InboundOutcome.OPENED] * 3 + [InboundOutcome.IGNORED] * 2
