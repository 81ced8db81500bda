"""Webhooks: case events to admin-configured endpoints, signed per Standard Webhooks.

Each core hook a subscriber sees becomes one delivery row per matching endpoint, written in
the event's transaction; the worker posts them (`webhook_deliver_due`, in AMENDS_SWEEPS), only
2xx counts as delivered, failures retry with exponential backoff, and an endpoint that keeps
failing is disabled and its creator and the administrators are told by email.
"""

from __future__ import annotations

import base64
import json
import logging
import secrets
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import URLValidator
from django.db import connection, transaction
from django.db.models import F, Q
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from standardwebhooks import Webhook

from amends.cases.models import Case, case_ref
from amends.channels.choices import WEBHOOK_EVENTS, WEBHOOK_PENDING, WebhookDeliveryStatus
from amends.channels.conf import setting_int
from amends.channels.models import WebhookDelivery, WebhookEndpoint
from amends.channels.services.outbound import backoff_delay, email_queue
from amends.core import hooks
from amends.core.exceptions import ApplicationError
from amends.core.rows import db_datetime, select_in

logger = logging.getLogger(__name__)

USER_AGENT = "Amends-Webhooks/1"
RESPONSE_KEEP = 500

# Active endpoints, cached per process for 30 s and cleared when an endpoint is saved here:
# every case change asks, and most installations have none.
_cache: tuple[float, list[tuple[int, frozenset[str]]]] | None = None


def webhook_cache_clear(*args: Any, **kwargs: Any) -> None:
    global _cache
    _cache = None


def webhook_cache_assume_none() -> None:
    """Tests: take it that no endpoint exists until one is saved (no query per test)."""
    global _cache
    _cache = (float("inf"), [])


def _active_endpoints() -> list[tuple[int, frozenset[str]]]:
    global _cache
    if _cache is not None and (_cache[0] == float("inf") or time.monotonic() - _cache[0] < 30):
        return _cache[1]
    rows = [
        (pk, frozenset(events or ()))
        for pk, events in WebhookEndpoint.objects.filter(active=True).values_list("pk", "events")
    ]
    _cache = (time.monotonic(), rows)
    return rows


def secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _check_url(url: str) -> str:
    url = url.strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ApplicationError(
            "Enter an http(s) URL.",
            code="invalid_webhook",
            status=422,
            detail={"url": ["Invalid URL."]},
        ) from exc
    return url


def _check_events(events: list[str]) -> list[str]:
    unknown = sorted(set(events) - set(WEBHOOK_EVENTS))
    if unknown:
        raise ApplicationError(
            f"Unknown events: {', '.join(unknown)[:200]}.",
            code="invalid_webhook",
            status=422,
            detail={"events": [f"Choose from {', '.join(WEBHOOK_EVENTS)}."]},
        )
    return sorted(set(events))


@transaction.atomic
def webhook_endpoint_create(
    *, name: str, url: str, events: list[str], actor: User | None, secret: str = ""
) -> WebhookEndpoint:
    name = name.strip()[:100]
    if not name:
        raise ApplicationError(
            "A webhook needs a name.",
            code="invalid_webhook",
            status=422,
            detail={"name": ["Required."]},
        )
    if secret:
        try:
            Webhook(secret)
        except Exception as exc:
            raise ApplicationError(
                "The secret must be base64 (whsec_…).",
                code="invalid_webhook",
                status=422,
                detail={"secret": ["Invalid secret."]},
            ) from exc
    return WebhookEndpoint.objects.create(
        name=name,
        url=_check_url(url),
        events=_check_events(events),
        secret=secret or secret_new(),
        created_by=actor,
    )


@transaction.atomic
def webhook_endpoint_update(
    *,
    endpoint: WebhookEndpoint,
    actor: User | None,
    url: str | None = None,
    events: list[str] | None = None,
    active: bool | None = None,
) -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    if url is not None:
        endpoint.url = _check_url(url)
    if events is not None:
        endpoint.events = _check_events(events)
    if active is not None:
        endpoint.active = active
        if active:
            endpoint.consecutive_failures = 0
            endpoint.disabled_at = None
            endpoint.disabled_reason = ""
    endpoint.save()
    return endpoint


def _enqueue(event_type: str, data: dict[str, Any]) -> int:
    endpoints = [pk for pk, events in _active_endpoints() if not events or event_type in events]
    if not endpoints:
        return 0
    now = timezone.now()
    payload = {"type": event_type, "timestamp": now.isoformat(), "data": data}
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(
                endpoint_id=pk,
                event_type=event_type,
                webhook_id=f"msg_{uuid.uuid4().hex}",
                payload=payload,
                next_attempt_at=now,
            )
            for pk in endpoints
        ]
    )
    # In the event's transaction with the database task backend (one commit, not two).
    from amends.channels.tasks import enqueue_with_commit, webhooks_deliver

    enqueue_with_commit(webhooks_deliver, _deliver_soon)
    return len(endpoints)


def _deliver_soon() -> None:
    from amends.channels.tasks import webhooks_deliver

    try:
        webhooks_deliver.enqueue()
    except Exception:  # the sweep delivers anyway
        logger.warning("could not enqueue the webhook task", exc_info=True)


def _data(payload: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(json.dumps(asdict(payload), cls=DjangoJSONEncoder))
    if "case_id" in data and isinstance(data["case_id"], int):
        data["case_ref"] = case_ref(data["case_id"])
    return data


def _subscriber(event_type: str) -> Callable[[Any], None]:
    def handle(payload: Any) -> None:
        _enqueue(event_type, _data(payload))

    handle.__name__ = f"webhook_{event_type.replace('.', '_')}"
    return handle


_SUBSCRIBERS: list[tuple[Any, Callable[[Any], None]]] = [
    (hooks.case_opened, _subscriber("case.opened")),
    (hooks.case_status_changed, _subscriber("case.status_changed")),
    (hooks.case_changed, _subscriber("case.changed")),
    (hooks.message_added, _subscriber("message.added")),
    (hooks.remedy_changed, _subscriber("remedy.changed")),
    (hooks.commitment_changed, _subscriber("commitment.changed")),
    (hooks.escalation_opened, _subscriber("escalation.opened")),
    (hooks.email_bounced, _subscriber("email.bounced")),
]


def _deliveries_insert(*, event_type: str, rows: list[tuple[int, str, str]], at: datetime) -> None:
    """(endpoint id, webhook id, payload JSON) each, pending from `at`, in one INSERT however
    many rows (the rows travel as arrays on PostgreSQL and as one JSON text on SQLite)."""
    quote = connection.ops.quote_name
    names = [
        "endpoint_id",
        "event_type",
        "webhook_id",
        "payload",
        "status",
        "attempts",
        "next_attempt_at",
        "lease_token",
        "last_error",
        "created_at",
        "updated_at",
    ]
    head = (
        f"INSERT INTO {quote(WebhookDelivery._meta.db_table)} "  # names from model metadata
        f"({', '.join(quote(n) for n in names)}) "
    )
    when = db_datetime(at)
    constants = [WebhookDeliveryStatus.PENDING, 0, when, "", "", when, when]
    if connection.vendor == "postgresql":
        sql = (
            head + "SELECT u.e, %s, u.w, u.p::jsonb, %s, %s, %s, %s, %s, %s, %s "
            "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS u(e, w, p)"
        )
        params: list[Any] = [
            event_type,
            *constants,
            [r[0] for r in rows],
            [r[1] for r in rows],
            [r[2] for r in rows],
        ]
    else:
        sql = (
            head  # noqa: S608 - names from model metadata, values are parameters
            + "SELECT json_extract(value, '$[0]'), %s, json_extract(value, '$[1]'), "
            "json_extract(value, '$[2]'), %s, %s, %s, %s, %s, %s, %s FROM json_each(%s)"
        )
        params = [event_type, *constants, json.dumps(rows)]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def webhook_cases_opened_bulk(payload: hooks.CasesOpenedBulk) -> None:
    """The `cases_opened_bulk` subscriber (after the chunk committed)."""
    webhooks_queue_cases_opened(payload)


def webhooks_queue_cases_opened(payload: hooks.CasesOpenedBulk) -> int:
    """`case.opened` for every case of a set-based intake (an import chunk), per endpoint that
    wants it: one read of the cases' customers and one multi-row INSERT for the chunk, with the
    same payload as a case opened alone; the worker delivers them. Nothing at all (not even a
    query, within the endpoint cache's 30 s) when no endpoint wants the event. Returns how
    many deliveries were queued."""
    event_type = "case.opened"
    endpoints = [pk for pk, events in _active_endpoints() if not events or event_type in events]
    if not endpoints or not payload.case_ids:
        return 0
    customers = dict(
        select_in(model=Case, columns=["id", "customer_id"], key="id", values=payload.case_ids)
    )
    now = timezone.now()
    stamp = now.isoformat()
    rows: list[tuple[int, str, str]] = []
    for case_id in payload.case_ids:
        customer_id = customers.get(case_id)
        if customer_id is None:  # deleted since (the hook runs after commit)
            continue
        body = json.dumps(
            {
                "type": event_type,
                "timestamp": stamp,
                "data": _data(
                    hooks.CaseOpened(
                        case_id=case_id,
                        customer_id=customer_id,
                        channel=payload.channel,
                        actor_id=payload.actor_id,
                    )
                ),
            }
        )
        rows.extend((pk, f"msg_{uuid.uuid4().hex}", body) for pk in endpoints)
    if not rows:
        return 0
    with transaction.atomic():
        _deliveries_insert(event_type=event_type, rows=rows, at=now)
        transaction.on_commit(_deliver_soon, robust=True)
    return len(rows)


def webhook_subscribe() -> None:
    for hook, fn in _SUBSCRIBERS:
        hook.subscribe(fn)
    hooks.cases_opened_bulk.subscribe(webhook_cases_opened_bulk)
    post_save.connect(webhook_cache_clear, sender=WebhookEndpoint, dispatch_uid="webhook_cache")
    post_delete.connect(webhook_cache_clear, sender=WebhookEndpoint, dispatch_uid="webhook_cache_d")


# ---- delivery ------------------------------------------------------------------------------


def _due(now: datetime) -> Q:
    return Q(status__in=WEBHOOK_PENDING, next_attempt_at__lte=now) | Q(
        status=WebhookDeliveryStatus.SENDING, lease_until__lt=now
    )


def _claim(now: datetime, limit: int) -> list[WebhookDelivery]:
    ids = list(
        WebhookDelivery.objects.filter(_due(now), endpoint__active=True)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    if not ids:
        return []
    token = secrets.token_hex(16)
    WebhookDelivery.objects.filter(_due(now), pk__in=ids).update(
        status=WebhookDeliveryStatus.SENDING,
        lease_until=now + timedelta(minutes=5),
        lease_token=token,
    )
    return list(
        WebhookDelivery.objects.filter(lease_token=token).select_related("endpoint").order_by("id")
    )


def webhook_signed_request(delivery: WebhookDelivery, *, at: datetime) -> urllib.request.Request:
    body = json.dumps(delivery.payload, separators=(",", ":"), cls=DjangoJSONEncoder)
    signature = Webhook(delivery.endpoint.secret).sign(delivery.webhook_id, at, body)
    return urllib.request.Request(  # noqa: S310 - the URL is validated as http(s) on save
        delivery.endpoint.url,
        data=body.encode(),
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "webhook-id": delivery.webhook_id,
            "webhook-timestamp": str(int(at.timestamp())),
            "webhook-signature": signature,
        },
    )


def _post(delivery: WebhookDelivery, at: datetime) -> tuple[int | None, str]:
    timeout = setting_int("WEBHOOK_TIMEOUT_SECONDS", 10)
    try:
        with urllib.request.urlopen(  # noqa: S310 - http(s) only, checked on save
            webhook_signed_request(delivery, at=at), timeout=timeout
        ) as response:
            return response.status, ""
    except urllib.error.HTTPError as exc:
        return exc.code, f"HTTP {exc.code}"
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"[:RESPONSE_KEEP]


def _admins_tell(endpoint: WebhookEndpoint, reason: str) -> None:
    recipients = {
        u.email
        for u in User.objects.filter(Q(is_superuser=True) | Q(pk=endpoint.created_by_id))
        .filter(is_active=True)
        .exclude(email="")
    }
    for address in sorted(recipients):
        email_queue(
            to=address,
            subject=f"Webhook {endpoint.name} disabled",
            body=(
                f"The webhook endpoint {endpoint.name} ({endpoint.url}) was disabled after "
                f"{endpoint.consecutive_failures} failed deliveries in a row.\n\n"
                f"Last error: {reason}\n\nFix the receiver, then enable the endpoint again in "
                "the admin or through the API; undelivered events are kept.\n"
            ),
            automatic=True,
            kind="notification",
            dedupe_key=f"webhook-disabled:{endpoint.pk}:{endpoint.disabled_at:%Y%m%d%H%M%S}",
        )


@transaction.atomic
def _failed(delivery: WebhookDelivery, now: datetime, code: int | None, error: str) -> None:
    attempts = delivery.attempts + 1
    final = attempts >= setting_int("WEBHOOK_MAX_ATTEMPTS", 8)
    WebhookDelivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
        status=WebhookDeliveryStatus.FAILED if final else WebhookDeliveryStatus.RETRYING,
        attempts=attempts,
        next_attempt_at=now + backoff_delay(attempts),
        last_status_code=code,
        last_error=error,
        lease_until=None,
        lease_token="",
    )
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).update(
        consecutive_failures=F("consecutive_failures") + 1
    )
    endpoint = WebhookEndpoint.objects.select_for_update().get(pk=delivery.endpoint_id)
    if endpoint.active and endpoint.consecutive_failures >= setting_int(
        "WEBHOOK_DISABLE_AFTER", 20
    ):
        endpoint.active = False
        endpoint.disabled_at = now
        endpoint.disabled_reason = f"{endpoint.consecutive_failures} failures in a row: {error}"[
            :300
        ]
        endpoint.save(update_fields=["active", "disabled_at", "disabled_reason", "updated_at"])
        _admins_tell(endpoint, error)


def _delivered(delivery: WebhookDelivery, now: datetime, code: int) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
        status=WebhookDeliveryStatus.DELIVERED,
        attempts=delivery.attempts + 1,
        last_status_code=code,
        last_error="",
        delivered_at=now,
        lease_until=None,
        lease_token="",
    )
    WebhookEndpoint.objects.filter(pk=delivery.endpoint_id).exclude(consecutive_failures=0).update(
        consecutive_failures=0
    )


def webhook_deliver_due(*, now: datetime, limit: int = 200) -> int:
    """Post due deliveries; how many were delivered. Safe with several workers at once."""
    delivered = 0
    for delivery in _claim(now, limit):
        if not delivery.endpoint.active:
            continue
        code, error = _post(delivery, timezone.now())
        if code is not None and 200 <= code < 300:
            _delivered(delivery, now, code)
            delivered += 1
        else:
            _failed(delivery, now, code, error or f"HTTP {code}")
    return delivered


def webhook_sweep(*, now: datetime) -> int:
    return webhook_deliver_due(now=now, limit=1000)


@transaction.atomic
def webhook_delivery_retry(*, delivery: WebhookDelivery) -> WebhookDelivery:
    delivery = WebhookDelivery.objects.select_for_update().get(pk=delivery.pk)
    if delivery.status == WebhookDeliveryStatus.DELIVERED:
        raise ApplicationError("Already delivered.", code="already_delivered", status=409)
    delivery.status = WebhookDeliveryStatus.PENDING
    delivery.attempts = 0
    delivery.next_attempt_at = timezone.now()
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "updated_at"])
    transaction.on_commit(_deliver_soon, robust=True)
    return delivery
