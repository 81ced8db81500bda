from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    NEW = "new", _("New")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    IN_RECOVERY = "in_recovery", _("In recovery")
    AWAITING_CUSTOMER = "awaiting_customer", _("Awaiting customer")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (
    CaseStatus.NEW,
    CaseStatus.ACKNOWLEDGED,
    CaseStatus.IN_RECOVERY,
    CaseStatus.AWAITING_CUSTOMER,
)
DONE_STATUSES = (CaseStatus.RESOLVED, CaseStatus.CLOSED)

# The only moves a case can make; anything else is refused with `illegal_transition`.
TRANSITIONS: dict[str, set[str]] = {
    CaseStatus.NEW: {CaseStatus.ACKNOWLEDGED},
    CaseStatus.ACKNOWLEDGED: {
        CaseStatus.IN_RECOVERY,
        CaseStatus.AWAITING_CUSTOMER,
        CaseStatus.RESOLVED,
    },
    CaseStatus.IN_RECOVERY: {CaseStatus.AWAITING_CUSTOMER, CaseStatus.RESOLVED},
    CaseStatus.AWAITING_CUSTOMER: {CaseStatus.IN_RECOVERY, CaseStatus.RESOLVED},
    CaseStatus.RESOLVED: {CaseStatus.CLOSED, CaseStatus.IN_RECOVERY},
    CaseStatus.CLOSED: {CaseStatus.IN_RECOVERY},
}


class Channel(models.TextChoices):
    WEB = "web", _("Web form")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    API = "api", _("API")
    SOCIAL = "social", _("Social media")
    IN_PERSON = "in_person", _("In person")
    IMPORT = "import", _("Import")


class Fault(models.TextChoices):
    ORGANISATION = "organisation", _("Organisation")
    CUSTOMER = "customer", _("Customer")
    SHARED = "shared", _("Shared")
    THIRD_PARTY = "third_party", _("Third party")
    UNDETERMINED = "undetermined", _("Undetermined")


class Outcome(models.TextChoices):
    UPHELD = "upheld", _("Upheld")
    PARTLY_UPHELD = "partly_upheld", _("Partly upheld")
    NOT_UPHELD = "not_upheld", _("Not upheld")


class StepState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")


class SlaState(models.TextChoices):
    ON_TRACK = "on_track", _("On track")
    AT_RISK = "at_risk", _("At risk")
    BREACHED = "breached", _("Breached")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    MISSED = "missed", _("Missed")
    # Closed as a duplicate merged into another case: its clock is the survivor's.
    NOT_APPLICABLE = "not_applicable", _("Not applicable")


class MessageDirection(models.TextChoices):
    INBOUND = "inbound", _("From the customer")
    OUTBOUND = "outbound", _("To the customer")
    INTERNAL = "internal", _("Internal note")


class CaseEventKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    ASSIGNED = "assigned", _("Assigned")
    STATUS_CHANGED = "status_changed", _("Status changed")
    STEP_DONE = "step_done", _("Step done")
    STEP_SKIPPED = "step_skipped", _("Step skipped")
    MESSAGE_ADDED = "message_added", _("Message added")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    DOUBLE_DEVIATION = "double_deviation", _("Double deviation")
    TAGGED = "tagged", _("Tags changed")
    MERGED_INTO = "merged_into", _("Merged into another case")
    MERGED_FROM = "merged_from", _("Duplicate merged in")
