from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from standardwebhooks import Webhook

from amends.accounts.tests.factories import UserFactory
from amends.cases.tests.factories import CaseFactory
from amends.channels.choices import WebhookDeliveryStatus
from amends.channels.models import WebhookDelivery, WebhookEndpoint
from amends.channels.services.outbound import outbound_send_due
from amends.channels.services.webhooks import (
    webhook_deliver_due,
    webhook_delivery_retry,
    webhook_endpoint_create,
    webhook_endpoint_update,
)
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


class Receiver:
    """A webhook receiver on loopback that verifies signatures and answers as told."""

    def __init__(self) -> None:
        self.secret = ""
        self.statuses: list[int] = []  # what to answer, in order; then 200
        self.received: list[dict[str, Any]] = []
        self.verified: list[bool] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    payload = Webhook(receiver.secret).verify(body, headers)
                    receiver.verified.append(True)
                except Exception:
                    payload = json.loads(body)
                    receiver.verified.append(False)
                receiver.received.append({"id": headers["webhook-id"], "payload": payload})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


def _endpoint(receiver: Receiver, **kwargs: Any) -> WebhookEndpoint:
    endpoint = webhook_endpoint_create(
        name="CRM", url=receiver.url, events=kwargs.pop("events", []), actor=None, **kwargs
    )
    receiver.secret = endpoint.secret
    return endpoint


def test_webhook_case_opened_is_delivered_signed(receiver: Receiver) -> None:
    _endpoint(receiver, events=["case.opened"])
    case = CaseFactory()
    assert webhook_deliver_due(now=timezone.now()) == 1
    assert receiver.verified == [True]
    payload = receiver.received[0]["payload"]
    assert payload["type"] == "case.opened"
    assert payload["data"]["case_id"] == case.pk
    assert payload["data"]["case_ref"] == case.ref
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert delivery.last_status_code == 200


def test_webhook_only_subscribed_events_are_queued(receiver: Receiver) -> None:
    _endpoint(receiver, events=["email.bounced"])
    CaseFactory()
    assert not WebhookDelivery.objects.exists()


def test_webhook_failure_is_retried_with_backoff_then_delivered(receiver: Receiver) -> None:
    _endpoint(receiver, events=["case.opened"])
    receiver.statuses = [500, 302]
    CaseFactory()
    now = timezone.now()
    assert webhook_deliver_due(now=now) == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.RETRYING
    assert delivery.last_status_code == 500
    assert delivery.next_attempt_at == now + timedelta(seconds=60)
    assert webhook_deliver_due(now=now + timedelta(seconds=30)) == 0  # not due yet
    later = now + timedelta(seconds=60)
    assert webhook_deliver_due(now=later) == 0  # a redirect is not a 2xx
    assert webhook_deliver_due(now=later + timedelta(seconds=120)) == 1
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.DELIVERED
    assert delivery.attempts == 3
    # Every attempt carried the same webhook-id, so the receiver can drop repeats.
    assert {r["id"] for r in receiver.received} == {delivery.webhook_id}
    assert receiver.verified == [True, True, True]


def test_webhook_endpoint_disabled_after_repeated_failure_and_admins_told(
    receiver: Receiver, settings: Any
) -> None:
    settings.AMENDS = {**settings.AMENDS, "WEBHOOK_DISABLE_AFTER": 3}
    admin = UserFactory(is_superuser=True, email="admin@example.com")
    endpoint = _endpoint(receiver, events=["case.opened"])
    receiver.statuses = [500] * 10
    for _ in range(3):
        CaseFactory()
    webhook_deliver_due(now=timezone.now())
    endpoint.refresh_from_db()
    assert not endpoint.active
    assert endpoint.disabled_at is not None
    assert "3 failures in a row" in endpoint.disabled_reason
    outbound_send_due(now=timezone.now(), limit=10)
    assert [m.to for m in mail.outbox] == [[admin.email]]
    assert "disabled" in mail.outbox[0].subject
    # Disabled: no more deliveries are attempted or queued.
    CaseFactory()
    assert WebhookDelivery.objects.count() == 3
    # Enabled again, the waiting events go out.
    webhook_endpoint_update(endpoint=endpoint, actor=admin, active=True)
    for delivery in WebhookDelivery.objects.all():
        webhook_delivery_retry(delivery=delivery)
    receiver.statuses = []
    assert webhook_deliver_due(now=timezone.now()) == 3


def test_webhook_unreachable_endpoint_is_a_failure_not_a_crash() -> None:
    webhook_endpoint_create(
        name="Down", url="http://127.0.0.1:9/hook", events=["case.opened"], actor=None
    )
    CaseFactory()
    assert webhook_deliver_due(now=timezone.now()) == 0
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.RETRYING
    assert delivery.last_error


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"url": "ftp://x.example.com/"}, "url"),
        ({"url": "not a url"}, "url"),
        ({"events": ["case.exploded"]}, "events"),
        ({"name": " "}, "name"),
        ({"secret": "whsec_***"}, "secret"),
    ],
)
def test_webhook_endpoint_create_rejects_bad_input(kwargs: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {"name": "CRM", "url": "https://crm.example.com/h", "events": []}
    values.update(kwargs)
    with pytest.raises(ApplicationError) as exc:
        webhook_endpoint_create(actor=None, **values)
    assert field in exc.value.detail
    assert not WebhookEndpoint.objects.exists()


def test_an_event_writes_its_delivery_task_in_the_events_transaction(
    django_capture_on_commit_callbacks: Any,
) -> None:
    webhook_endpoint_create(name="CRM", url="https://crm.example.com/hook", events=[], actor=None)
    # With the database task backend the task is a row of the event's transaction: nothing
    # waits for the commit (a second commit per event on PostgreSQL before).
    with (
        override_settings(TASKS={"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}),
        django_capture_on_commit_callbacks() as after_commit,
        transaction.atomic(),
    ):
        CaseFactory()
        assert WebhookDelivery.objects.filter(event_type="case.opened").count() == 1
        assert DBTaskResult.objects.filter(task_path__endswith="webhooks_deliver").count() == 1
    assert not [fn for fn in after_commit if "deliver" in getattr(fn, "__name__", "")]
