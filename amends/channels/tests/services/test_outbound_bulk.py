from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.utils import timezone

from amends.cases.tests.factories import CaseFactory
from amends.channels.choices import OutboundStatus
from amends.channels.models import OutboundEmail
from amends.channels.services.outbound import (
    OutboundMessage,
    email_queue,
    email_queue_bulk,
    outbound_send_due,
)

pytestmark = pytest.mark.django_db


def _messages(count: int, *, prefix: str = "k") -> list[OutboundMessage]:
    return [
        OutboundMessage(
            to=f"p{n}@example.com",
            subject=f"Notice {n}",
            body=f"Dear passenger {n}",
            kind="incident_notice",
            dedupe_key=f"{prefix}{n}",
        )
        for n in range(count)
    ]


def test_email_queue_bulk_queues_every_message_in_a_few_statements(
    django_assert_max_num_queries: Any,
) -> None:
    # Given 1,200 messages (more than one lookup chunk and more than one insert batch)
    messages = _messages(1200)
    # When they are queued in bulk: 2 key lookups and 3 inserts, not one per message
    with django_assert_max_num_queries(7):
        result = email_queue_bulk(messages=messages)
    # Then each is one queued row with its own Message-ID, and nothing is sent yet
    assert (result.queued, result.already, result.refused) == (1200, 0, [])
    rows = OutboundEmail.objects.filter(status=OutboundStatus.QUEUED)
    assert rows.count() == 1200
    assert rows.values("message_id").distinct().count() == 1200
    assert rows.get(to="p7@example.com").subject == "Notice 7"
    assert mail.outbox == []


def test_email_queue_bulk_same_dedupe_key_twice_queues_once() -> None:
    email_queue(
        to="p0@example.com", subject="S", body="B", automatic=True, kind="x", dedupe_key="k0"
    )
    # k0 was queued one at a time before; k1 appears twice in the batch
    messages = [*_messages(3), _messages(2)[1]]
    result = email_queue_bulk(messages=messages)
    assert (result.queued, result.already) == (2, 2)
    assert OutboundEmail.objects.count() == 3
    again = email_queue_bulk(messages=messages)
    assert (again.queued, again.already) == (0, 4)
    assert OutboundEmail.objects.count() == 3


def test_email_queue_bulk_refuses_bad_rows_by_position_and_queues_the_rest() -> None:
    messages = [
        OutboundMessage(to="not an address", subject="S", body="B", kind="x"),
        OutboundMessage(to="ok@example.com", subject="S\r\nBcc: evil@x.org", body="B", kind="x"),
        OutboundMessage(to="big@example.com", subject="S", body="x" * 200_001, kind="x"),
        OutboundMessage(to="case@example.com", subject="S", body="B", kind="x", case_id=987654),
    ]
    result = email_queue_bulk(messages=messages)
    assert result.queued == 1
    assert result.refused == [(0, "invalid_email"), (2, "too_long"), (3, "unknown_case")]
    email = OutboundEmail.objects.get()
    assert email.subject == "S Bcc: evil@x.org"  # header injection flattened


def test_email_queue_bulk_threads_a_case_email_like_email_queue() -> None:
    case = CaseFactory()
    first = email_queue(
        to="c@example.com", subject="Hi", body="B", automatic=False, kind="x", case_id=case.pk
    )
    email_queue_bulk(
        messages=[
            OutboundMessage(
                to="c@example.com", subject="Notice", body="B", kind="x", case_id=case.pk
            )
        ]
    )
    email = OutboundEmail.objects.exclude(pk=first.pk).get()
    assert email.subject == f"[{case.ref}] Notice"
    assert email.customer_id == case.customer_id
    assert email.in_reply_to == first.message_id
    assert email.references == first.message_id


def test_email_queue_bulk_enqueues_one_delivery_task_for_the_batch(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email_queue_bulk(messages=_messages(40))
    # One task (run at once by the test backend) sent the whole batch; the other callback is
    # the mark that it was asked for in this transaction
    assert [type(callback).__name__ for callback in callbacks] == ["function", "_Enqueued"]
    assert getattr(callbacks[0], "__name__", "") == "_send_soon"
    assert len(mail.outbox) == 40
    assert not OutboundEmail.objects.exclude(status=OutboundStatus.SENT).exists()
    assert outbound_send_due(now=timezone.now()) == 0
