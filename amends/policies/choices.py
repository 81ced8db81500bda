from django.db import models
from django.utils.translation import gettext_lazy as _


class Audience(models.TextChoices):
    """Which customers a playbook is for: everyone, or only VIP / special-handling customers."""

    ANY = "any", _("Any customer")
    VIP = "vip", _("VIP customers")
    SPECIAL_HANDLING = "special_handling", _("Special-handling customers")


class RecoveryStep(models.TextChoices):
    """The recovery steps the best service organisations practise, in their usual order."""

    ACKNOWLEDGE = "acknowledge", _("Acknowledge")
    APOLOGISE = "apologise", _("Apologise")
    EMPATHISE = "empathise", _("Empathise")
    RECTIFY = "rectify", _("Rectify")
    COMPENSATE = "compensate", _("Compensate")
    FOLLOW_UP = "follow_up", _("Follow up")
    PREVENT = "prevent", _("Prevent recurrence")


class Severity(models.IntegerChoices):
    CRITICAL = 1, _("1 – Critical")
    HIGH = 2, _("2 – High")
    MEDIUM = 3, _("3 – Medium")
    LOW = 4, _("4 – Low")


class StepDue(models.TextChoices):
    """When a required step must be done (or skipped): before resolving, or after the fix and
    before closing (a follow-up call belongs after the fix)."""

    BEFORE_RESOLVE = "resolve", _("Before resolve")
    BEFORE_CLOSE = "close", _("Before close")
