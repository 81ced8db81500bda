from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentStatus(models.TextChoices):
    INVESTIGATING = "investigating", _("Investigating")
    IDENTIFIED = "identified", _("Identified")
    MONITORING = "monitoring", _("Monitoring")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    IncidentStatus.INVESTIGATING,
    IncidentStatus.IDENTIFIED,
    IncidentStatus.MONITORING,
    IncidentStatus.RESOLVED,
)


class ProblemStatus(models.TextChoices):
    OPEN = "open", _("Open")
    KNOWN_ERROR = "known_error", _("Known error")
    FIXED = "fixed", _("Fixed")


class RoundKind(models.TextChoices):
    INITIAL = "initial", _("First notice")
    UPDATE = "update", _("Update")
    RESOLVED = "resolved", _("Resolved")


class RoundStatus(models.TextChoices):
    RUNNING = "running", _("Sending")
    DONE = "done", _("Sent")


class IncidentEventKind(models.TextChoices):
    """The incident's own audit trail (IncidentEvent.kind)."""

    DECLARED = "declared", _("Declared")
    UPDATED = "updated", _("Updated")
    STATUS = "status", _("Status changed")
    AFFECTED_ADDED = "affected_added", _("Affected customers added")
    CASES_LINKED = "cases_linked", _("Cases linked")
    ROUND_STARTED = "round_started", _("Notification round started")
    ROUND_FINISHED = "round_finished", _("Notification round finished")
    BUDGET_REACHED = "budget_reached", _("Budget cap reached")
    CLOSED = "closed", _("Closed")
    POLICY_CHANGED = "policy_changed", _("Recovery policy changed")


class IncidentCaseEventKind(models.TextChoices):
    """Kinds this app writes on a case's timeline (CaseEvent.kind), registered in
    IncidentsConfig.ready() with the cases app's event-kind registry."""

    LINKED = "incident_linked", _("Linked to an incident")
    NOTICE_SENT = "incident_notice_sent", _("Incident notice sent")


# Cases the incidents app opens (a customer's menu, a prevention action) come in on this
# channel: the closest of the cases app's channels to "opened in bulk by us".
INCIDENT_CHANNEL = "import"
