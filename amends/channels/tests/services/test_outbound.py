from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from amends.cases.tests.factories import CaseFactory
from amends.channels.choices import OutboundStatus
from amends.channels.models import OutboundEmail
from amends.channels.services.outbound import (
    _send_soon,
    backoff_delay,
    email_queue,
    outbound_retry,
    outbound_send_due,
)
from amends.channels.tasks import _Enqueued
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


class FailingBackend:
    """An email backend whose server is down."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def open(self) -> None:
        raise ConnectionRefusedError("mail server down")

    def close(self) -> None:
        pass

    def send_messages(self, messages: Any) -> int:
        raise ConnectionRefusedError("mail server down")


FAILING = "amends.channels.tests.services.test_outbound.FailingBackend"


def test_email_queue_writes_a_row_and_sends_nothing_yet() -> None:
    email = email_queue(
        to="ann@example.com", subject="Hello", body="Hi", automatic=False, kind="reply"
    )
    assert email.status == OutboundStatus.QUEUED
    assert email.message_id.startswith("<amends.")
    assert mail.outbox == []


def test_email_queue_same_dedupe_key_returns_the_first_row() -> None:
    first = email_queue(
        to="ann@example.com", subject="A", body="1", automatic=True, kind="x", dedupe_key="k1"
    )
    second = email_queue(
        to="bob@example.com", subject="B", body="2", automatic=True, kind="x", dedupe_key="k1"
    )
    assert second.pk == first.pk
    assert OutboundEmail.objects.count() == 1
    assert outbound_send_due(now=timezone.now(), limit=10) == 1
    assert outbound_send_due(now=timezone.now(), limit=10) == 0
    assert len(mail.outbox) == 1


def test_email_queue_rejects_a_bad_address_and_writes_nothing() -> None:
    with pytest.raises(ApplicationError) as exc:
        email_queue(to="not an address", subject="A", body="b", automatic=False, kind="x")
    assert exc.value.status == 422
    assert not OutboundEmail.objects.exists()


def test_email_queue_strips_header_injection() -> None:
    email = email_queue(
        to="ann@example.com",
        subject="Hi\r\nBcc: evil@example.com",
        body="b",
        automatic=False,
        kind="x",
    )
    assert "\n" not in email.subject
    outbound_send_due(now=timezone.now(), limit=10)
    assert mail.outbox[0].bcc == []


def test_outbound_send_due_sends_with_case_ref_and_headers() -> None:
    case = CaseFactory()
    first = email_queue(
        to="ann@example.com",
        subject="We are on it",
        body="Sorry.",
        automatic=True,
        kind="confirmation",
        case_id=case.pk,
    )
    assert first.customer_id == case.customer_id
    email_queue(
        to="ann@example.com",
        subject="Update",
        body="Fixed.",
        automatic=False,
        kind="reply",
        case_id=case.pk,
    )
    assert outbound_send_due(now=timezone.now(), limit=10) == 2
    sent_first, sent_second = mail.outbox
    assert sent_first.subject == f"[{case.ref}] We are on it"
    assert sent_first.extra_headers["Auto-Submitted"] == "auto-generated"
    assert sent_first.extra_headers["Message-ID"] == first.message_id
    assert "Auto-Submitted" not in sent_second.extra_headers
    assert sent_second.extra_headers["In-Reply-To"] == first.message_id
    assert first.message_id in sent_second.extra_headers["References"]
    first.refresh_from_db()
    assert first.status == OutboundStatus.SENT
    assert first.sent_at is not None


@override_settings(EMAIL_BACKEND=FAILING)
def test_outbound_send_due_retries_with_exponential_backoff_then_fails() -> None:
    email = email_queue(to="ann@example.com", subject="A", body="b", automatic=False, kind="x")
    now = timezone.now()
    with override_settings(AMENDS={"OUTBOUND_MAX_ATTEMPTS": 3, "OUTBOUND_BACKOFF_SECONDS": 60}):
        assert outbound_send_due(now=now, limit=10) == 0
        email.refresh_from_db()
        assert email.status == OutboundStatus.RETRYING
        assert email.attempts == 1
        assert email.next_attempt_at == now + timedelta(seconds=60)
        assert "mail server down" in email.last_error
        # Not due yet: nothing happens.
        assert outbound_send_due(now=now + timedelta(seconds=30), limit=10) == 0
        email.refresh_from_db()
        assert email.attempts == 1
        later = now + timedelta(seconds=60)
        outbound_send_due(now=later, limit=10)
        email.refresh_from_db()
        assert email.attempts == 2
        assert email.next_attempt_at == later + timedelta(seconds=120)
        outbound_send_due(now=later + timedelta(seconds=120), limit=10)
        email.refresh_from_db()
    assert email.status == OutboundStatus.FAILED
    assert email.attempts == 3


def test_backoff_delay_doubles_and_is_capped() -> None:
    assert [backoff_delay(n).total_seconds() for n in (1, 2, 3)] == [60, 120, 240]
    assert backoff_delay(40) == timedelta(hours=6)


def test_outbound_retry_requeues_a_failed_email() -> None:
    email = email_queue(to="ann@example.com", subject="A", body="b", automatic=False, kind="x")
    OutboundEmail.objects.filter(pk=email.pk).update(status=OutboundStatus.FAILED, attempts=8)
    outbound_retry(email=email)
    assert outbound_send_due(now=timezone.now(), limit=10) == 1
    email.refresh_from_db()
    assert email.status == OutboundStatus.SENT


def test_outbound_retry_refuses_a_sent_email() -> None:
    email = email_queue(to="ann@example.com", subject="A", body="b", automatic=False, kind="x")
    outbound_send_due(now=timezone.now(), limit=10)
    with pytest.raises(ApplicationError):
        outbound_retry(email=email)


def test_outbound_send_due_picks_up_a_send_abandoned_by_a_killed_worker() -> None:
    email = email_queue(to="ann@example.com", subject="A", body="b", automatic=False, kind="x")
    now = timezone.now()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundStatus.SENDING, lease_until=now + timedelta(minutes=10), lease_token="x"
    )
    assert outbound_send_due(now=now, limit=10) == 0
    assert outbound_send_due(now=now + timedelta(minutes=11), limit=10) == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_outbound_send_due_two_workers_send_each_email_once() -> None:
    for n in range(30):
        email_queue(to=f"p{n}@example.com", subject="A", body="b", automatic=False, kind="x")
    # Outside a test transaction the task enqueued on commit already sent them: start over.
    OutboundEmail.objects.update(status=OutboundStatus.QUEUED, sent_at=None, attempts=0)
    mail.outbox.clear()
    now = timezone.now()
    counts: list[int] = []

    def work() -> None:
        from django.db import connection

        try:
            counts.append(outbound_send_due(now=now, limit=100))
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(counts) == 30
    assert len(mail.outbox) == 30
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"p{n}@example.com" for n in range(30))


def test_email_queue_sends_through_the_worker_task_on_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        email = email_queue(to="ann@example.com", subject="A", body="b", automatic=False, kind="x")
    email.refresh_from_db()
    assert email.status == OutboundStatus.SENT
    assert len(mail.outbox) == 1


DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


def test_email_queue_writes_the_send_task_in_the_callers_transaction(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # With the database task backend (the default without Redis) the task is a row of the
    # caller's transaction: it commits with the email, and nothing waits for the commit.
    with (
        override_settings(TASKS=DATABASE_TASKS),
        django_capture_on_commit_callbacks() as hooks,
        transaction.atomic(),
    ):
        email_queue(to="ann@example.com", subject="Hi", body="1", automatic=True, kind="x")
        assert DBTaskResult.objects.filter(task_path__endswith="outbound_send").count() == 1
    # only the mark that the task is asked for in this transaction, which does nothing
    assert [type(hook) for hook in hooks] == [_Enqueued]
    assert hooks[0]() is None


def _send_tasks() -> int:
    return DBTaskResult.objects.filter(task_path__endswith="outbound_send").count()


def test_one_send_task_a_transaction_however_many_emails_it_queues() -> None:
    with override_settings(TASKS=DATABASE_TASKS), transaction.atomic():
        for n in range(3):
            email_queue(to="ann@example.com", subject="Hi", body=str(n), automatic=True, kind="x")
        assert _send_tasks() == 1
        assert OutboundEmail.objects.count() == 3


def test_a_send_task_rolled_back_with_a_savepoint_is_asked_for_again() -> None:
    with override_settings(TASKS=DATABASE_TASKS), transaction.atomic():
        try:
            with transaction.atomic():
                email_queue(to="ann@example.com", subject="Hi", body="1", automatic=True, kind="x")
                raise RuntimeError("the savepoint's work fails")
        except RuntimeError:
            pass
        assert _send_tasks() == 0
        email_queue(to="bob@example.com", subject="Hi", body="2", automatic=True, kind="x")
        assert _send_tasks() == 1
        email_queue(to="cy@example.com", subject="Hi", body="3", automatic=True, kind="x")
        assert _send_tasks() == 1


@pytest.mark.django_db(transaction=True)
def test_each_committed_transaction_asks_for_its_own_send_task() -> None:
    with override_settings(TASKS=DATABASE_TASKS):
        for n in range(2):
            with transaction.atomic():
                email_queue(
                    to="ann@example.com", subject="Hi", body=str(n), automatic=True, kind="x"
                )
                email_queue(
                    to="bob@example.com", subject="Hi", body=str(n), automatic=True, kind="x"
                )
        assert _send_tasks() == 2
        # outside a transaction: a task asked for at once, each time
        email_queue(to="cy@example.com", subject="Hi", body="x", automatic=True, kind="x")
        email_queue(to="di@example.com", subject="Hi", body="x", automatic=True, kind="x")
        assert _send_tasks() == 4


def _queue_then_fail() -> None:
    with transaction.atomic():
        email_queue(to="ann@example.com", subject="Hi", body="1", automatic=True, kind="x")
        raise RuntimeError("the caller fails after queueing")


def test_email_queue_rolled_back_leaves_no_send_task() -> None:
    with override_settings(TASKS=DATABASE_TASKS), pytest.raises(RuntimeError):
        _queue_then_fail()
    assert not OutboundEmail.objects.exists()
    assert not DBTaskResult.objects.exists()


def test_email_queue_asks_other_task_backends_after_the_commit(
    django_capture_on_commit_callbacks: Any,
) -> None:
    # The immediate backend (and Redis) cannot see uncommitted rows: asked on commit.
    with django_capture_on_commit_callbacks() as hooks, transaction.atomic():
        email_queue(to="ann@example.com", subject="Hi", body="1", automatic=True, kind="x")
        email_queue(to="bob@example.com", subject="Hi", body="2", automatic=True, kind="x")
    # one request for the transaction, and the mark that it was made
    assert [type(hook) for hook in hooks] == [type(_send_soon), _Enqueued]
    assert hooks[0] is _send_soon
    assert not DBTaskResult.objects.exists()
