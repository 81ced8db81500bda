from django.db import models
from django.utils.translation import gettext_lazy as _


class OutboundStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    RETRYING = "retrying", _("Failed, will retry")
    FAILED = "failed", _("Failed")


# Rows the sender still has to pick up (queued, or a retry whose time has come).
OUTBOUND_PENDING = (OutboundStatus.QUEUED, OutboundStatus.RETRYING)


class OutboundKind(models.TextChoices):
    REPLY = "reply", _("Reply to the customer")
    CONFIRMATION = "confirmation", _("Confirmation")
    PORTAL_LINK = "portal_link", _("Portal link")
    NOTIFICATION = "notification", _("Notification")
    INCIDENT = "incident", _("Incident notice")
    SURVEY = "survey", _("Survey")
    OTHER = "other", _("Other")
