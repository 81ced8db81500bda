from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from amends.core.models import BaseModel
from amends.policies.business_hours import BusinessCalendar
from amends.policies.choices import Audience, RecoveryStep, Severity, StepDue


def default_hours() -> dict[str, list[list[str]]]:
    return {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


class Calendar(BaseModel):
    """Working hours and holidays that SLA clocks count in."""

    name = models.CharField(max_length=100, unique=True)
    timezone = models.CharField(max_length=64, default="UTC")
    # {"mon": [["09:00", "17:00"]], ...}; a missing day is closed; "24:00" ends at midnight.
    hours = models.JSONField(default=default_hours)
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="calendar_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.timezone not in available_timezones():
            raise ValidationError({"timezone": f"Unknown time zone {self.timezone!r}."})
        example = '{"mon": [["09:00", "17:00"]], "tue": [["09:00", "12:30"], ["13:30", "17:00"]]}'
        if not isinstance(self.hours, dict):
            raise ValidationError(
                {"hours": f"Working hours must map weekdays to [start, end] pairs, e.g. {example}."}
            )
        try:
            calendar = BusinessCalendar.from_spec(timezone=self.timezone, hours=self.hours)
        except ValueError as exc:
            raise ValidationError(
                {"hours": f"Invalid working hours: {exc}. Expected e.g. {example}."}
            ) from exc
        except (TypeError, KeyError, IndexError) as exc:
            raise ValidationError(
                {
                    "hours": "Invalid working hours: each day needs a list of [start, end] "
                    f"pairs. Expected e.g. {example}."
                }
            ) from exc
        if not calendar.hours:
            # SLA clocks could never run out on a calendar without working time.
            raise ValidationError({"hours": "A calendar needs working hours on at least one day."})

    def business_calendar(self, holidays: list[date] | None = None) -> BusinessCalendar:
        if holidays is None:
            holidays = list(self.holidays.values_list("date", flat=True))
        return BusinessCalendar.from_spec(
            timezone=self.timezone, hours=self.hours, holidays=holidays
        )

    def local_now(self, now: datetime) -> datetime:
        return now.astimezone(ZoneInfo(self.timezone))


class Holiday(BaseModel):
    """A local date on which a calendar has no working time."""

    calendar = models.ForeignKey(Calendar, on_delete=models.CASCADE, related_name="holidays")
    date = models.DateField()
    name = models.CharField(max_length=100, blank=True)

    class Meta:
        ordering = ["date"]
        constraints = [
            models.UniqueConstraint(
                fields=["calendar", "date"], name="holiday_unique_per_calendar"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.name}".strip()


class Playbook(BaseModel):
    """The practised recovery for a category: ordered steps and SLA targets."""

    name = models.CharField(max_length=100, unique=True)
    category = models.OneToOneField(
        "taxonomy.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="playbook",
    )
    is_default = models.BooleanField(default=False)
    # VIP / special-handling customers get their own playbook (and SLA targets) when one is
    # configured for their audience; see policies.selectors.playbook_for_category.
    audience = models.CharField(max_length=20, choices=Audience.choices, default=Audience.ANY)
    calendar = models.ForeignKey(
        Calendar, on_delete=models.PROTECT, null=True, blank=True, related_name="playbooks"
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="playbook_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PlaybookStep(BaseModel):
    """One step of a playbook; required steps must be done or skipped before resolving (or,
    when `due` is before close, before closing)."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="steps")
    step = models.CharField(max_length=20, choices=RecoveryStep.choices)
    required = models.BooleanField(default=True)
    due = models.CharField(
        max_length=10,
        choices=StepDue.choices,
        default=StepDue.BEFORE_RESOLVE,
        help_text="A required step blocks resolving, or only closing (e.g. a follow-up call).",
    )
    position = models.PositiveSmallIntegerField(default=0)
    guidance = models.TextField(blank=True)

    class Meta:
        ordering = ["playbook", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "step"], name="playbookstep_unique_step"),
        ]

    def __str__(self) -> str:
        return f"{self.playbook}: {self.get_step_display()}"


class SlaTarget(BaseModel):
    """Business minutes allowed to acknowledge and to resolve, per playbook and severity."""

    playbook = models.ForeignKey(Playbook, on_delete=models.CASCADE, related_name="sla_targets")
    severity = models.PositiveSmallIntegerField(choices=Severity.choices)
    acknowledge_minutes = models.PositiveIntegerField()
    resolve_minutes = models.PositiveIntegerField()

    class Meta:
        ordering = ["playbook", "severity"]
        constraints = [
            models.UniqueConstraint(fields=["playbook", "severity"], name="slatarget_unique"),
            models.CheckConstraint(
                condition=Q(acknowledge_minutes__gt=0) & Q(resolve_minutes__gt=0),
                name="slatarget_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.playbook} sev {self.severity}"


# Used when no SLA target is configured for a playbook and severity (business minutes).
FALLBACK_SLA_MINUTES: dict[int, dict[str, Any]] = {
    1: {"acknowledge": 60, "resolve": 8 * 60},
    2: {"acknowledge": 2 * 60, "resolve": 2 * 8 * 60},
    3: {"acknowledge": 4 * 60, "resolve": 5 * 8 * 60},
    4: {"acknowledge": 8 * 60, "resolve": 10 * 8 * 60},
}
