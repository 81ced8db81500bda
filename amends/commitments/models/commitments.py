from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from amends.commitments.choices import CommitmentKind, CommitmentStatus, TrafficLight
from amends.core.conf import amends_setting
from amends.core.models import BaseModel


def reminder_lead() -> timedelta:
    return timedelta(minutes=int(amends_setting("COMMITMENT_REMINDER_LEAD_MINUTES", 60)))


class Commitment(BaseModel):
    """A promise made to a customer on a case, with an owner and a due time."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="commitments")
    kind = models.CharField(max_length=20, choices=CommitmentKind.choices)
    description = models.TextField(help_text="The promise in the customer's words.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="commitments"
    )
    due_at = models.DateTimeField()
    # The remedy this promise delivers, if any.
    remedy = models.ForeignKey(
        "remedies.Remedy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments",
    )
    status = models.CharField(
        max_length=20, choices=CommitmentStatus.choices, default=CommitmentStatus.OPEN
    )
    customer_visible = models.BooleanField(
        default=True, help_text="Shown to the customer in the portal."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments_made",
    )

    kept_at = models.DateTimeField(null=True, blank=True)
    kept_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitments_kept",
    )
    kept_note = models.TextField(blank=True)
    kept_reference = models.CharField(max_length=200, blank=True)
    kept_file = models.FileField(upload_to="commitments/evidence/%Y/%m/", blank=True)

    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancel_reason = models.TextField(blank=True)
    customer_informed = models.BooleanField(default=False)

    reminder_sent_at = models.DateTimeField(null=True, blank=True)
    broken_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # sweeps.commitment_sweep (open and past due) and selectors.commitment_list(state=)
            models.Index(fields=["status", "due_at", "id"], name="commitment_status_due_idx"),
            # selectors.commitment_list(owner=...): "promises due" for one person
            models.Index(
                fields=["owner", "status", "due_at", "id"], name="commitment_owner_due_idx"
            ),
            # selectors.commitment_list_for_case: the case panel
            models.Index(fields=["case", "due_at", "id"], name="commitment_case_due_idx"),
            # sweeps.commitment_sweep reminders: open, not yet reminded, due soonest
            models.Index(
                fields=["due_at", "id"],
                condition=Q(status="open", reminder_sent_at__isnull=True),
                name="commitment_remind_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=CommitmentStatus.KEPT) | Q(kept_at__isnull=False),
                name="commitment_kept_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status=CommitmentStatus.CANCELLED) | ~Q(cancel_reason=""),
                name="commitment_cancel_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status=CommitmentStatus.BROKEN) | Q(broken_at__isnull=False),
                name="commitment_broken_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} due {self.due_at:%Y-%m-%d %H:%M}"

    def light_at(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if self.status == CommitmentStatus.BROKEN:
            return TrafficLight.RED
        if self.status != CommitmentStatus.OPEN:
            return TrafficLight.DONE
        if self.due_at <= now:
            return TrafficLight.RED
        if self.due_at <= now + reminder_lead():
            return TrafficLight.AMBER
        return TrafficLight.GREEN

    @property
    def light(self) -> str:
        return self.light_at()

    @property
    def kept_on_time(self) -> bool | None:
        if self.kept_at is None:
            return None
        return self.kept_at <= self.due_at


class CommitmentDueChange(models.Model):
    """One reschedule of a promise: the due time before and after, who moved it and why."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="due_changes")
    previous_due_at = models.DateTimeField()
    new_due_at = models.DateTimeField()
    reason = models.TextField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="commitment_due_changes",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # selectors.commitment_due_history: one promise's reschedules in order
            models.Index(fields=["commitment", "created_at"], name="commitmentdue_commit_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.previous_due_at} → {self.new_due_at}"
