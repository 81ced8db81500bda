from django.db import models
from django.utils.translation import gettext_lazy as _


class EmotionLabel(models.TextChoices):
    ANGER = "anger", _("Anger")
    FRUSTRATION = "frustration", _("Frustration")
    ANXIETY = "anxiety", _("Anxiety")
    DISAPPOINTMENT = "disappointment", _("Disappointment")
    NEUTRAL = "neutral", _("Neutral")
    POSITIVE = "positive", _("Positive")


class TextSource(models.TextChoices):
    DESCRIPTION = "description", _("Case description")
    MESSAGE = "message", _("Message from the customer")


class RepeatReason(models.TextChoices):
    SAME_CATEGORY = "same_category", _("Same category")
    SAME_SERVICE = "same_service", _("Same service")
    SIMILAR_TEXT = "similar_text", _("Similar description")


class CheckKind(models.TextChoices):
    CHECK = "check", _("Checked a draft")
    SEND = "send", _("Sent")


class QueueFlag(models.TextChoices):
    ALL = "all", _("All open cases")
    UPSET = "upset", _("Upset")
    CHURN = "churn", _("Churn intent")
    ESCALATION = "escalation", _("Escalation threat")
    REPEAT = "repeat", _("Repeat failure")
