from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.commitments.choices import (
    EscalationLevel,
    EscalationReason,
    EscalationStatus,
    RuleAppliesTo,
)
from amends.core.models import BaseModel


class Escalation(BaseModel):
    """A case referred up to a supervisor, manager or executive who owes a decision in time."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="escalations")
    level = models.CharField(max_length=20, choices=EscalationLevel.choices)
    reason = models.CharField(max_length=30, choices=EscalationReason.choices)
    note = models.TextField(blank=True)
    # Automatic escalations come from sweeps and rules; raised_by is then empty.
    automatic = models.BooleanField(default=False)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_raised",
    )
    raised_at = models.DateTimeField()
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_assigned",
    )
    decision_due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    decision = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="escalations_decided",
    )
    # Seconds from raised to decided, stored so measures take medians in the database.
    decision_seconds = models.PositiveIntegerField(null=True, blank=True)
    # Times this escalation went up a level because its decision was overdue.
    bumps = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["decision_due_at", "id"]
        indexes = [
            # sweeps.escalation_sweep: open and past their decision time
            models.Index(
                fields=["status", "decision_due_at", "id"], name="escalation_status_due_idx"
            ),
            # selectors.escalation_list(mine=True): "escalations to me", soonest due first
            models.Index(
                fields=["assignee", "status", "decision_due_at", "id"],
                name="escalation_assignee_due_idx",
            ),
            # selectors.escalation_list_for_case and the sweeps' "already escalated?" probe
            models.Index(fields=["case", "reason", "raised_at"], name="escalation_case_reason_idx"),
            # selectors.promise_measures: median time to decision per level
            models.Index(fields=["level", "decision_seconds"], name="escalation_level_secs_idx"),
        ]
        constraints = [
            # Sweeps and rules can never open a second automatic escalation for the same
            # reason while one is open: the last guard against two workers racing.
            models.UniqueConstraint(
                fields=["case", "reason"],
                condition=Q(status="open", automatic=True),
                name="escalation_one_open_automatic",
            ),
            models.CheckConstraint(
                condition=~Q(status="decided") | (Q(decided_at__isnull=False) & ~Q(decision="")),
                name="escalation_decided_has_decision",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} → {self.get_level_display()}"

    @property
    def is_open(self) -> bool:
        return self.status == EscalationStatus.OPEN


class EscalationRule(BaseModel):
    """An automatic escalation the admin configures, e.g. any complaint from a special-handling
    customer goes to a manager within 2 business hours."""

    name = models.CharField(max_length=100, unique=True)
    applies_to = models.CharField(max_length=20, choices=RuleAppliesTo.choices)
    level = models.CharField(
        max_length=20, choices=EscalationLevel.choices, default=EscalationLevel.MANAGER
    )
    decision_minutes = models.PositiveIntegerField(
        default=120, help_text="Business minutes the assignee has to decide."
    )
    # For repeat complaints: the Nth complaint from one customer within this many days.
    repeat_count = models.PositiveSmallIntegerField(default=3)
    repeat_window_days = models.PositiveSmallIntegerField(default=90)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(decision_minutes__gt=0), name="escalationrule_minutes_positive"
            ),
            models.CheckConstraint(
                condition=Q(repeat_count__gte=2), name="escalationrule_repeat_count_min"
            ),
        ]

    def __str__(self) -> str:
        return self.name
