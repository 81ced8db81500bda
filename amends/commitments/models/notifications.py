from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.commitments.choices import NotificationKind
from amends.core.models import BaseModel


class Notification(BaseModel):
    """Something a staff member should know about, shown in the app and emailed once."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    kind = models.CharField(max_length=30, choices=NotificationKind.choices)
    message = models.CharField(max_length=500)
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    url = models.CharField(max_length=300, blank=True)
    # One notification per event per person: sweeps racing each other insert the same key.
    dedupe_key = models.CharField(max_length=200)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # selectors.notification_list: a person's notifications, newest first
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_recip_idx"),
            # selectors.notification_unread_count: the bell
            models.Index(
                fields=["recipient"],
                condition=Q(read_at__isnull=True),
                name="notification_unread_idx",
            ),
            # sweeps.sla_sweep: "was this case's at-risk already announced?"
            models.Index(fields=["case", "kind", "created_at"], name="notification_case_kind_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "dedupe_key"], name="notification_once_per_event"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} for {self.recipient_id}"
