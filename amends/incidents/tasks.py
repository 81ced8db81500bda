"""Background tasks (django-tasks): run by `amends worker`, immediately in tests."""

from __future__ import annotations

from django_tasks import task


@task()
def incident_rounds_run() -> int:
    """Work off the notification rounds still sending, batch by batch, to the end."""
    from amends.incidents.choices import RoundStatus
    from amends.incidents.models import NotificationRound
    from amends.incidents.services.notify import round_run_to_end

    done = 0
    for notice in NotificationRound.objects.filter(status=RoundStatus.RUNNING).order_by("id"):
        done += round_run_to_end(notice=notice)
    return done
