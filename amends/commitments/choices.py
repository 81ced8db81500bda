from django.db import models
from django.utils.translation import gettext_lazy as _


class CommitmentKind(models.TextChoices):
    CALLBACK = "callback", _("Callback")
    VISIT = "visit", _("Visit / appointment")
    REFUND = "refund", _("Refund")
    REBATE = "rebate", _("Rebate")
    CREDIT = "credit", _("Credit")
    FIX = "fix", _("Fix")
    INFORMATION = "information", _("Information")
    OTHER = "other", _("Other")


class CommitmentStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    CANCELLED = "cancelled", _("Cancelled")


class TrafficLight(models.TextChoices):
    """How a promise looks on the case page: green, amber (due soon), red (overdue or broken)."""

    GREEN = "green", _("On track")
    AMBER = "amber", _("Due soon")
    RED = "red", _("Overdue")
    DONE = "done", _("Done")


class CommitmentState(models.TextChoices):
    """The `state` filter of promise lists."""

    OPEN = "open", _("Open")
    DUE_SOON = "due_soon", _("Due soon")
    OVERDUE = "overdue", _("Overdue")
    BROKEN = "broken", _("Broken")
    KEPT = "kept", _("Kept")
    CANCELLED = "cancelled", _("Cancelled")


class EscalationLevel(models.TextChoices):
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    EXECUTIVE = "executive", _("Executive")


LEVEL_ORDER: list[str] = [
    EscalationLevel.SUPERVISOR,
    EscalationLevel.MANAGER,
    EscalationLevel.EXECUTIVE,
]


def level_above(level: str) -> str | None:
    index = LEVEL_ORDER.index(level)
    return LEVEL_ORDER[index + 1] if index + 1 < len(LEVEL_ORDER) else None


class EscalationReason(models.TextChoices):
    MANUAL = "manual", _("Raised by staff")
    SLA_BREACHED = "sla_breached", _("SLA breached")
    BROKEN_PROMISE = "broken_promise", _("Broken promise")
    APPROVAL_OVERDUE = "approval_overdue", _("Approval left undecided")
    SPECIAL_HANDLING = "special_handling", _("Special-handling customer")
    REPEAT_COMPLAINT = "repeat_complaint", _("Repeat complaint")


class EscalationStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DECIDED = "decided", _("Decided")


class RuleAppliesTo(models.TextChoices):
    VIP = "vip", _("VIP customers")
    SPECIAL_HANDLING = "special_handling", _("Special-handling customers")
    REPEAT_COMPLAINT = "repeat_complaint", _("Repeat complaints")


class NotificationKind(models.TextChoices):
    COMMITMENT_REMINDER = "commitment_reminder", _("Promise due soon")
    COMMITMENT_BROKEN = "commitment_broken", _("Promise broken")
    ESCALATION_ASSIGNED = "escalation_assigned", _("Escalation to you")
    ESCALATION_OVERDUE = "escalation_overdue", _("Escalation overdue")
    ESCALATION_DECIDED = "escalation_decided", _("Escalation decided")
    SLA_AT_RISK = "sla_at_risk", _("SLA at risk")
    SLA_BREACHED = "sla_breached", _("SLA breached")


class CaseEventKinds(models.TextChoices):
    """The kinds this app writes to a case's timeline (CaseEvent.kind), registered with the
    cases app's event-kind registry in CommitmentsConfig.ready() for their labels."""

    COMMITMENT_MADE = "commitment_made", _("Commitment made")
    COMMITMENT_KEPT = "commitment_kept", _("Commitment kept")
    COMMITMENT_CANCELLED = "commitment_cancelled", _("Commitment cancelled")
    COMMITMENT_RESCHEDULED = "commitment_rescheduled", _("Commitment rescheduled")
    COMMITMENT_BROKEN = "commitment_broken", _("Commitment broken")
    ESCALATED = "escalated", _("Escalated")
    ESCALATION_BUMPED = "escalation_bumped", _("Escalation bumped")
    ESCALATION_DECIDED = "escalation_decided", _("Escalation decided")
