"""Background tasks (django-tasks): run by `amends worker`, immediately in tests."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task


@task()
def outbound_send() -> int:
    """Send every queued email that is due now."""
    from amends.channels.services.outbound import outbound_sweep

    return outbound_sweep(now=timezone.now())


@task()
def webhooks_deliver() -> int:
    """Post every webhook delivery that is due now."""
    from amends.channels.services.webhooks import webhook_sweep

    return webhook_sweep(now=timezone.now())
