"""Background tasks (django-tasks): run by `amends worker`, immediately in tests."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone
from django_tasks import task

from amends.commitments.models import Notification

# Older unsent notifications are not mailed any more (e.g. an address added much later).
EMAIL_MAX_AGE = timedelta(days=2)
EMAIL_BATCH = 200


@task()
def notifications_email_send() -> int:
    """Email every notification not emailed yet, each exactly once.

    A notification is claimed by setting `emailed_at` with a conditional UPDATE before it is
    sent, so two workers never both send it; if sending fails the claim is released.
    """
    sent = 0
    since = timezone.now() - EMAIL_MAX_AGE
    while True:
        candidates = list(
            Notification.objects.filter(
                emailed_at__isnull=True, created_at__gte=since, recipient__email__gt=""
            )
            .select_related("recipient")
            .order_by("id")[:EMAIL_BATCH]
        )
        if not candidates:
            return sent
        mine = [
            n
            for n in candidates
            if Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(
                emailed_at=timezone.now()
            )
        ]
        messages = [
            EmailMessage(
                subject=f"[Amends] {n.get_kind_display()}",
                body=_body(n),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=[n.recipient.email],
            )
            for n in mine
        ]
        try:
            with get_connection() as connection:
                sent += connection.send_messages(messages) or 0
        except Exception:
            Notification.objects.filter(pk__in=[n.pk for n in mine]).update(emailed_at=None)
            raise
        if len(candidates) < EMAIL_BATCH:
            return sent


def _body(notification: Notification) -> str:
    lines = [notification.message, ""]
    if notification.url:
        lines.append(f"Open: {notification.url}")
    lines.append("— Amends")
    return "\n".join(lines)
