from django.db import models
from django.utils.translation import gettext_lazy as _


class LoyaltyEventKind(models.TextChoices):
    STATUS_CHANGED = "status_changed", _("Status changed")
    CAMPAIGN_CREATED = "campaign_created", _("Win-back campaign created")
    CAMPAIGN_LAUNCHED = "campaign_launched", _("Win-back campaign launched")
    TARGET_RESPONDED = "target_responded", _("Customer responded to a win-back offer")
    TARGET_ACCEPTED = "target_accepted", _("Customer accepted a win-back offer")


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    LAUNCHED = "launched", _("Launched")


class SatisfactionBand(models.TextChoices):
    """How well a recovery went, from the survey's CSAT (1-5)."""

    LOW = "low", _("Low (CSAT 1-2)")
    MIDDLE = "middle", _("Middle (CSAT 3)")
    HIGH = "high", _("High (CSAT 4-5)")
    UNKNOWN = "unknown", _("No survey")
