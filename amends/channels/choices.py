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


class InboundOutcome(models.TextChoices):
    OPENED = "opened", _("Opened a case")
    THREADED = "threaded", _("Added to a case")
    FOLLOW_UP = "follow_up", _("Opened a follow-up case")
    THANKS = "thanks", _("Thanks, not reopened")
    IGNORED = "ignored", _("Ignored")
    BOUNCE = "bounce", _("Bounce")


class WebhookDeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    RETRYING = "retrying", _("Failed, will retry")
    FAILED = "failed", _("Failed")


WEBHOOK_PENDING = (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.RETRYING)

# Case events a webhook endpoint can subscribe to (core hooks).
WEBHOOK_EVENTS = (
    "case.opened",
    "case.status_changed",
    "case.changed",
    "message.added",
    "remedy.changed",
    "commitment.changed",
    "escalation.opened",
    "email.bounced",
)


class ChannelsEventKind(models.TextChoices):
    """Kinds of the timeline events the channels app writes on a case."""

    ATTACHMENTS_ADDED = "attachments_added", _("Files attached")
