from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.core.models import BaseModel
from amends.insight.choices import CheckKind, TextSource


class TextScore(BaseModel):
    """How a customer's text reads: a case's description or one message from the customer."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="text_scores")
    message = models.OneToOneField(
        "cases.Message",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="text_score",
    )
    source = models.CharField(max_length=20, choices=TextSource.choices)
    intensity = models.FloatField()
    labels = models.JSONField(default=list, blank=True)
    upset = models.BooleanField(default=False)
    churn_intent = models.BooleanField(default=False)
    escalation_threat = models.BooleanField(default=False)
    repeat_mention = models.BooleanField(default=False)
    phrases = models.JSONField(default=list, blank=True)
    enough_text = models.BooleanField(default=True)
    model_version = models.CharField(max_length=80)
    # An agent's correction; corrected rows are training data for `amends emotion train`.
    corrected_labels = models.JSONField(null=True, blank=True)
    corrected_upset = models.BooleanField(null=True, blank=True)
    corrected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    corrected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # insight.selectors.text_score_list_for_case: a case's scores in order
            models.Index(fields=["case", "created_at", "id"], name="textscore_case_created_idx"),
            # insight.services.training.emotion_training_rows: corrected rows only
            models.Index(
                fields=["corrected_at"],
                name="textscore_corrected_idx",
                condition=Q(corrected_at__isnull=False),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(intensity__gte=0, intensity__lte=1), name="textscore_intensity_range"
            ),
            models.UniqueConstraint(
                fields=["case"],
                condition=Q(message__isnull=True),
                name="textscore_one_description_per_case",
            ),
            models.CheckConstraint(
                condition=Q(source=TextSource.DESCRIPTION, message__isnull=True)
                | Q(source=TextSource.MESSAGE, message__isnull=False),
                name="textscore_source_matches_message",
            ),
        ]

    def __str__(self) -> str:
        return f"score {self.intensity:.2f} on {self.case_id}"

    @property
    def effective_upset(self) -> bool:
        return self.upset if self.corrected_upset is None else self.corrected_upset

    @property
    def effective_labels(self) -> list[str]:
        return list(self.corrected_labels if self.corrected_labels is not None else self.labels)


class CaseInsight(BaseModel):
    """The emotion, intent and repeat picture of one case, kept current for queues and pages."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="insight"
    )
    intensity = models.FloatField(default=0.0)
    upset = models.BooleanField(default=False)
    churn_intent = models.BooleanField(default=False)
    escalation_threat = models.BooleanField(default=False)
    repeat = models.BooleanField(default=False)
    double_deviation = models.BooleanField(default=False)
    priority = models.FloatField(default=0.0)

    class Meta:
        indexes = [
            # insight.selectors.insight_queue: sort by priority, and each flag filter
            models.Index(fields=["-priority"], name="caseinsight_priority_idx"),
            models.Index(fields=["upset", "-priority"], name="caseinsight_upset_idx"),
            models.Index(fields=["churn_intent", "-priority"], name="caseinsight_churn_idx"),
            models.Index(
                fields=["escalation_threat", "-priority"], name="caseinsight_escalation_idx"
            ),
            models.Index(fields=["repeat", "-priority"], name="caseinsight_repeat_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(intensity__gte=0, intensity__lte=1), name="caseinsight_intensity_range"
            ),
        ]

    def __str__(self) -> str:
        return f"insight of {self.case_id}"


class TriagePrediction(BaseModel):
    """The category the triage model suggested for a new case, beside the agent's choice."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="triage_prediction"
    )
    label = models.CharField(max_length=200)
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The category the label names, when one exists.",
    )
    confidence = models.FloatField()
    threshold = models.FloatField()
    applied = models.BooleanField(default=False)
    model_version = models.CharField(max_length=80)
    chosen_category = models.ForeignKey(
        "taxonomy.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(confidence__gte=0, confidence__lte=1),
                name="triageprediction_confidence_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.confidence:.2f}) for {self.case_id}"

    @property
    def agreed(self) -> bool | None:
        if self.chosen_at is None:
            return None
        return self.chosen_category_id is not None and self.chosen_category_id == self.category_id


class RepeatLink(models.Model):
    """An earlier failure of the same customer that a new case repeats."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="repeat_links")
    earlier_case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, related_name="repeated_by"
    )
    reasons = models.JSONField(default=list)
    similarity = models.FloatField(default=0.0)
    broken_promise = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["case", "-earlier_case_id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "earlier_case"], name="repeatlink_unique"),
            models.CheckConstraint(
                condition=~Q(case=models.F("earlier_case")), name="repeatlink_not_itself"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} repeats {self.earlier_case_id}"


class ApologyCheck(BaseModel):
    """One check of a draft reply by the apology coach; first drafts give the pass-rate KPI."""

    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="apology_checks",
    )
    kind = models.CharField(max_length=10, choices=CheckKind.choices, default=CheckKind.CHECK)
    passes = models.BooleanField()
    codes = models.JSONField(default=list, blank=True)
    first_draft = models.BooleanField(default=False)
    draft_chars = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # insight.selectors.apology_pass_rate: per person over a period
            models.Index(fields=["author", "created_at"], name="apologycheck_author_idx"),
            # insight.services.coach: has this person checked a draft on this case yet?
            models.Index(fields=["case", "author", "created_at"], name="apologycheck_case_idx"),
        ]

    def __str__(self) -> str:
        return f"{'pass' if self.passes else 'fail'} by {self.author_id}"
