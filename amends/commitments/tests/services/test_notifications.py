from __future__ import annotations

import pytest

from amends.accounts.tests.factories import UserFactory
from amends.commitments.models import Notification
from amends.commitments.services.notifications import (
    NotificationSpec,
    notification_mark_read,
    notifications_create,
)

pytestmark = pytest.mark.django_db


def test_notifications_create_skips_event_already_announced() -> None:
    agent = UserFactory()
    spec = NotificationSpec(
        recipient_id=agent.pk, kind="sla_at_risk", message="At risk", dedupe_key="sla:1"
    )
    notifications_create(specs=[spec, spec])
    notifications_create(specs=[spec])
    assert Notification.objects.filter(recipient=agent).count() == 1


def test_notification_mark_read_refuses_someone_elses() -> None:
    agent, other = UserFactory(), UserFactory()
    notifications_create(
        specs=[
            NotificationSpec(recipient_id=agent.pk, kind="sla_at_risk", message="x", dedupe_key="k")
        ]
    )
    notification = Notification.objects.get()
    with pytest.raises(Notification.DoesNotExist):
        notification_mark_read(notification=notification, actor=other)
    assert notification_mark_read(notification=notification, actor=agent).read_at is not None
