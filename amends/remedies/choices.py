from django.db import models
from django.utils.translation import gettext_lazy as _

from amends.core.money import CURRENCIES as ALL_CURRENCIES


class RemedyStatus(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    OFFERED = "offered", _("Offered in a choice menu")
    GRANTED = "granted", _("Granted")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    ISSUED = "issued", _("Issued")
    CANCELLED = "cancelled", _("Cancelled")


# Remedies that are promised (or about to be) and so use up authority limits.
COUNTED_STATUSES = (
    RemedyStatus.GRANTED,
    RemedyStatus.PENDING_APPROVAL,
    RemedyStatus.APPROVED,
    RemedyStatus.ISSUED,
)
# Remedies that cost the organisation something (reports).
COST_STATUSES = (RemedyStatus.GRANTED, RemedyStatus.APPROVED, RemedyStatus.ISSUED)
ISSUABLE_STATUSES = (RemedyStatus.GRANTED, RemedyStatus.APPROVED)
CANCELLABLE_STATUSES = (
    RemedyStatus.OFFERED,
    RemedyStatus.GRANTED,
    RemedyStatus.PENDING_APPROVAL,
    RemedyStatus.APPROVED,
)


class MenuStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CHOSEN = "chosen", _("Chosen")
    CANCELLED = "cancelled", _("Cancelled")


class RemedyEventKind(models.TextChoices):
    """Kinds of the timeline events the remedies app writes on a case."""

    GRANTED = "remedy_granted", _("Remedy granted")
    APPROVAL_REQUESTED = "remedy_approval_requested", _("Remedy needs approval")
    APPROVED = "remedy_approved", _("Remedy approved")
    REJECTED = "remedy_rejected", _("Remedy rejected")
    ISSUED = "remedy_issued", _("Remedy issued")
    CANCELLED = "remedy_cancelled", _("Remedy cancelled")
    ESCALATED = "remedy_approval_escalated", _("Remedy approval escalated")
    OVERDUE = "remedy_approval_overdue", _("Remedy approval overdue")
    MENU_OFFERED = "remedy_menu_offered", _("Choice of remedies offered")
    CHOSEN = "remedy_chosen", _("Remedy chosen")


# ISO 4217 codes Amends accepts: one list for the whole organisation (amends.core.money).
CURRENCIES = ALL_CURRENCIES
