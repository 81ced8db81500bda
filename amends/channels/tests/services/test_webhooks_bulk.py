"""`case.opened` webhooks for cases opened set-based (an import chunk): one delivery per case and
endpoint, queued in one INSERT per chunk, delivered by the worker like any other."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import timezone

from amends.cases.choices import Channel
from amends.cases.models import case_ref
from amends.cases.services.batch import NewCase, cases_open_many
from amends.channels.choices import WebhookDeliveryStatus
from amends.channels.models import WebhookDelivery
from amends.channels.services.webhooks import webhook_deliver_due, webhooks_queue_cases_opened
from amends.channels.tests.services.test_webhooks import Receiver, _endpoint
from amends.core import hooks
from amends.customers.services import CustomerKey
from amends.customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on loopback that verifies the signatures."""
    server = Receiver()
    yield server
    server.close()


def _open(count: int) -> tuple[list[int], list[int]]:
    customers = [CustomerFactory() for _ in range(2)]
    keys = [CustomerKey(c.pk, c.tier, c.special_handling) for c in customers]
    specs = [NewCase(customer=keys[i % 2], title=f"Imported {i}") for i in range(count)]
    return cases_open_many(specs=specs), [keys[i % 2].id for i in range(count)]


def _payload(case_ids: list[int]) -> hooks.CasesOpenedBulk:
    return hooks.CasesOpenedBulk(
        case_ids=tuple(case_ids), customer_ids=(), channel=Channel.IMPORT, actor_id=None
    )


def test_an_imported_chunk_queues_one_case_opened_per_case_and_the_worker_delivers_them(
    receiver: Receiver, django_capture_on_commit_callbacks: Any
) -> None:
    _endpoint(receiver, events=["case.opened"])
    with django_capture_on_commit_callbacks(execute=True):
        ids, customer_ids = _open(3)
    deliveries = list(WebhookDelivery.objects.order_by("id"))
    assert [d.payload["data"]["case_id"] for d in deliveries] == ids
    assert len({d.webhook_id for d in deliveries}) == 3
    first = deliveries[0].payload
    assert first["type"] == "case.opened"
    assert first["data"] == {
        "case_id": ids[0],
        "customer_id": customer_ids[0],
        "channel": Channel.IMPORT,
        "actor_id": None,
        "case_ref": case_ref(ids[0]),
    }
    # Delivered by the worker: the task queued after commit, or its sweep.
    webhook_deliver_due(now=timezone.now())
    assert {d.status for d in WebhookDelivery.objects.all()} == {WebhookDeliveryStatus.DELIVERED}
    assert receiver.verified == [True, True, True]
    assert sorted(r["payload"]["data"]["case_id"] for r in receiver.received) == ids


def test_only_endpoints_that_want_case_opened_get_them(receiver: Receiver) -> None:
    wants = _endpoint(receiver, events=["case.opened"])
    _endpoint(receiver, events=["email.bounced"])
    every = _endpoint(receiver)  # no events listed: every event
    ids, _ = _open(4)
    assert webhooks_queue_cases_opened(_payload(ids)) == 8
    by_endpoint = {
        pk: sorted(
            WebhookDelivery.objects.filter(endpoint_id=pk).values_list("payload", flat=True),
            key=lambda p: p["data"]["case_id"],
        )
        for pk in (wants.pk, every.pk)
    }
    assert [p["data"]["case_id"] for p in by_endpoint[wants.pk]] == ids
    assert [p["data"]["case_id"] for p in by_endpoint[every.pk]] == ids
    assert WebhookDelivery.objects.count() == 8


def test_no_endpoint_means_no_query_and_no_delivery(django_assert_num_queries: Any) -> None:
    ids, _ = _open(5)
    with django_assert_num_queries(0):
        assert webhooks_queue_cases_opened(_payload(ids)) == 0
    assert not WebhookDelivery.objects.exists()


def test_queries_do_not_grow_with_the_chunk(
    receiver: Receiver, django_assert_num_queries: Any
) -> None:
    _endpoint(receiver, events=["case.opened"])
    _endpoint(receiver)
    small, _ = _open(3)
    large, _ = _open(60)
    # the endpoints (read once, then cached), the cases' customers, one INSERT in a savepoint
    with django_assert_num_queries(5):
        assert webhooks_queue_cases_opened(_payload(small)) == 6
    with django_assert_num_queries(4):
        assert webhooks_queue_cases_opened(_payload(large)) == 120
