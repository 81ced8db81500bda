"""In-app notifications, each emailed once through Django's email backend by a task."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from amends.commitments.models import Notification
from amends.core.conf import amends_setting
from amends.core.rows import db_datetime, insert_rows


@dataclass(frozen=True)
class NotificationSpec:
    recipient_id: int
    kind: str
    message: str
    dedupe_key: str
    case_id: int | None = None
    url: str = ""


def _email_enqueue() -> None:
    from amends.commitments.tasks import notifications_email_send

    notifications_email_send.enqueue()


def notifications_create(*, specs: list[NotificationSpec]) -> int:
    """Insert notifications; one with a (recipient, dedupe_key) that exists is skipped, so an
    event announced twice (two sweeps racing, a retried batch) reaches each person once."""
    unique: dict[tuple[int, str], NotificationSpec] = {}
    for spec in specs:
        unique.setdefault((spec.recipient_id, spec.dedupe_key), spec)
    if not unique:
        return 0
    now = db_datetime(timezone.now())
    insert_rows(
        model=Notification,
        columns=[
            "recipient_id",
            "kind",
            "message",
            "case_id",
            "url",
            "dedupe_key",
            "created_at",
            "updated_at",
        ],
        rows=[
            (
                spec.recipient_id,
                spec.kind,
                spec.message[:500],
                spec.case_id,
                spec.url,
                spec.dedupe_key[:200],
                now,
                now,
            )
            for spec in unique.values()
        ],
        skip_conflicts=True,
    )
    if amends_setting("NOTIFICATION_EMAIL", True):
        transaction.on_commit(_email_enqueue)
    return len(unique)


def notification_mark_read(*, notification: Notification, actor: User) -> Notification:
    if notification.recipient_id != actor.pk:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at", "updated_at"])
    return notification


def notification_mark_all_read(*, actor: User) -> int:
    return Notification.objects.filter(recipient=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
