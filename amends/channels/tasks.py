"""Background tasks (django-tasks): run by `amends worker`, immediately in tests."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task


@task()
def outbound_send() -> int:
    """Send every queued email that is due now."""
    from amends.channels.services.outbound import outbound_sweep

    return outbound_sweep(now=timezone.now())
