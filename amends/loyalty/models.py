from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.core.models import BaseModel
from amends.loyalty.choices import CampaignStatus, LoyaltyEventKind

ZERO = Decimal("0.00")


class CaseFact(models.Model):
    """One failure as the reports see it: a case's dimensions and recovery results, kept by hooks.

    A narrow copy of what loyalty reads about a case (its dimensions, cost, promises, steps and
    survey), refreshed on every case event so reports never join the wide case tables.
    """

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="loyalty_fact"
    )
    customer_id = models.BigIntegerField()
    opened_at = models.DateTimeField()
    resolved_at = models.DateTimeField(null=True, blank=True)
    is_open = models.BooleanField(default=True)
    severity = models.PositiveSmallIntegerField(default=3)
    team_id = models.BigIntegerField(null=True, blank=True)
    category_id = models.BigIntegerField(null=True, blank=True)
    service_id = models.BigIntegerField(null=True, blank=True)
    root_cause_id = models.BigIntegerField(null=True, blank=True)
    sla_met = models.BooleanField(null=True, blank=True)
    repeat = models.BooleanField(default=False, help_text="The customer had an earlier failure.")
    promises_kept = models.PositiveIntegerField(default=0)
    promises_broken = models.PositiveIntegerField(default=0)
    steps_all_done = models.BooleanField(default=False)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    # The latest survey answer about this case (feedback's survey_answered hook).
    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    would_use_again = models.PositiveSmallIntegerField(null=True, blank=True)
    fair_outcome = models.PositiveSmallIntegerField(null=True, blank=True)
    fair_process = models.PositiveSmallIntegerField(null=True, blank=True)
    fair_treatment = models.PositiveSmallIntegerField(null=True, blank=True)
    # When the same customer last failed before this case in the same root cause, service and
    # category (and, for team_key_prev_at, the same team too). "Customers hurt" in a period is
    # the failures there minus those whose previous failure in the key is also in the period,
    # an exact distinct count that reads only the repeats (see operations_report).
    key_prev_at = models.DateTimeField(null=True, blank=True)
    team_key_prev_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # loyalty.selectors.operations_report: repeats within a key whose earlier failure
            # falls in the period (customers hurt = failures - these)
            models.Index(
                fields=["key_prev_at", "opened_at", "root_cause_id", "service_id", "category_id"],
                name="casefact_key_prev_idx",
            ),
            # the same with the team filter
            models.Index(
                fields=[
                    "team_key_prev_at",
                    "opened_at",
                    "team_id",
                    "root_cause_id",
                    "service_id",
                    "category_id",
                ],
                name="casefact_team_key_prev_idx",
            ),
            # loyalty.selectors.operations_report (the failures after a period whose previous
            # one in the key is in it), mtbf_report (a day's first and last failure),
            # drill_case_list: failures in a period by opening time, covering those reads
            models.Index(
                fields=[
                    "opened_at",
                    "key_prev_at",
                    "team_key_prev_at",
                    "team_id",
                    "root_cause_id",
                    "service_id",
                    "category_id",
                ],
                name="casefact_opened_cover_idx",
            ),
            # loyalty.services.risk: a customer's open cases and recent failures
            models.Index(fields=["customer_id", "opened_at"], name="casefact_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"Fact of case {self.case_id}"


class RollupMeasures(models.Model):
    """The counters a rollup row holds for its period and team/category/service/root cause.

    Keys use 0 for "none" so the unique constraints hold (NULLs never collide).
    """

    team_key = models.BigIntegerField(default=0)
    category_key = models.BigIntegerField(default=0)
    service_key = models.BigIntegerField(default=0)
    root_cause_key = models.BigIntegerField(default=0)
    opened = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    resolved_sla_met = models.IntegerField(default=0)
    promises_kept = models.IntegerField(default=0)
    promises_broken = models.IntegerField(default=0)
    cost = models.DecimalField(max_digits=16, decimal_places=2, default=ZERO)
    csat_sum = models.IntegerField(default=0)
    csat_count = models.IntegerField(default=0)
    # The operations report's additive figures: severity weight (critical 4 … low 1) summed
    # over the failures opened that day, and how many of them were repeat failures.
    severity_points = models.IntegerField(default=0)
    repeats = models.IntegerField(default=0)
    # Counted on the day of a failure's previous one in the same root cause, service and
    # category (key_next; team_key_next: and team), under the later failure's dimensions. Summed
    # over a period, it is how many failures repeated a customer's failure of the period in its
    # key: customers hurt = failures - these (less the repeats opened after the period).
    key_next = models.IntegerField(default=0)
    team_key_next = models.IntegerField(default=0)
    # Fairness answers of the surveys about the cases opened that day (1-5 each).
    fair_outcome_sum = models.IntegerField(default=0)
    fair_outcome_count = models.IntegerField(default=0)
    fair_process_sum = models.IntegerField(default=0)
    fair_process_count = models.IntegerField(default=0)
    fair_treatment_sum = models.IntegerField(default=0)
    fair_treatment_count = models.IntegerField(default=0)

    class Meta:
        abstract = True


class DailyRollup(RollupMeasures):
    """Per organisation day and team/category/service/root cause: the dashboard's and the
    operations report's counters, kept by the hooks (`loyalty.services.facts`).

    The day is the organisation's calendar day (core.Organisation's time zone), not UTC's.
    """

    day = models.DateField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "team_key", "category_key", "service_key", "root_cause_key"],
                name="dailyrollup_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Rollup {self.day}"


class WeeklyRollup(RollupMeasures):
    """The daily rollups summed per week (Monday to Sunday of the organisation's calendar),
    kept by the same code paths, so a year reads ~52 rows per key instead of ~365. Reports
    read whole weeks here and the partial weeks at a period's edges from `DailyRollup`."""

    week = models.DateField(help_text="The Monday the week starts on.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["week", "team_key", "category_key", "service_key", "root_cause_key"],
                name="weeklyrollup_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return f"Rollup week of {self.week}"


class CustomerRisk(models.Model):
    """A customer's risk score, the factors behind it and the signals the hooks fed it."""

    customer = models.OneToOneField(
        "customers.Customer",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="loyalty_risk",
    )
    score = models.PositiveSmallIntegerField(default=0)
    breakdown = models.JSONField(default=list, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    # Copied from the customer so the at-risk list reads one index.
    status = models.CharField(max_length=20, default="active")
    value_rank = models.PositiveSmallIntegerField(default=1, help_text="2 for VIP customers.")
    # Signals from the floors above cases (insight, feedback), kept here so the score can be
    # recomputed without reading their tables.
    last_upset_at = models.DateTimeField(null=True, blank=True)
    last_churn_intent_at = models.DateTimeField(null=True, blank=True)
    last_repeat_failure_at = models.DateTimeField(null=True, blank=True)
    last_low_survey_at = models.DateTimeField(null=True, blank=True)
    last_survey_at = models.DateTimeField(null=True, blank=True)
    last_csat = models.PositiveSmallIntegerField(null=True, blank=True)
    last_nps = models.PositiveSmallIntegerField(null=True, blank=True)
    last_would_use_again = models.PositiveSmallIntegerField(null=True, blank=True)
    # True while "at risk" was set by the score (not by a person), so the score may undo it.
    auto_at_risk = models.BooleanField(default=False)
    # Status history the reports need.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    lost_at = models.DateTimeField(null=True, blank=True)
    lost_reason = models.CharField(max_length=200, blank=True)
    # The customer's first failure (None: never failed), for the paradox report's baseline.
    first_failure_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # loyalty.selectors.recovery_paradox: the customers who never had a failure
            models.Index(
                fields=["customer"],
                condition=Q(first_failure_at__isnull=True),
                name="risk_never_failed_idx",
            ),
            # loyalty.selectors.at_risk_list: highest risk, then most valuable, first
            models.Index(
                fields=["status", "-score", "-value_rank", "customer"], name="risk_status_score_idx"
            ),
            # loyalty.selectors.lost_customer_list: win-back targets by when they left
            models.Index(fields=["status", "lost_at"], name="risk_status_lost_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(score__lte=100), name="customerrisk_score_range"),
        ]

    def __str__(self) -> str:
        return f"Risk {self.score} of customer {self.customer_id}"


class LoyaltyEvent(models.Model):
    """Audit trail of loyalty actions: status moves, campaigns, offers accepted."""

    customer = models.ForeignKey(
        "customers.Customer",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="loyalty_events",
    )
    kind = models.CharField(max_length=30, choices=LoyaltyEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="loyalty_events",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # customer page: a customer's loyalty history
            models.Index(fields=["customer", "-created_at"], name="loyaltyevent_customer_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} at {self.created_at:%Y-%m-%d %H:%M}"


class Campaign(BaseModel):
    """A win-back campaign: lost customers picked by filters, one offer, one message."""

    name = models.CharField(max_length=200)
    lost_reason = models.CharField(max_length=200, blank=True)
    category_id = models.BigIntegerField(null=True, blank=True)
    lost_since = models.DateField(null=True, blank=True)
    lost_until = models.DateField(null=True, blank=True)
    remedy_kind = models.ForeignKey(
        "remedies.RemedyKind", on_delete=models.PROTECT, related_name="loyalty_campaigns"
    )
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    budget = models.DecimalField(max_digits=14, decimal_places=2)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=20, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="loyalty_campaigns"
    )
    launched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(budget__gte=0), name="campaign_budget_positive"),
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gt=0), name="campaign_amount_positive"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignTarget(models.Model):
    """One lost customer in a campaign and what became of the offer."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="targets")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="loyalty_campaign_targets"
    )
    contacted_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    won_back_at = models.DateTimeField(null=True, blank=True)
    # What an accepted offer costs: a retention cost of the campaign, not a recovery remedy
    # (no Remedy row and no case, which every report would count as a failure).
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)

    class Meta:
        ordering = ["campaign", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="campaigntarget_unique_customer"
            ),
        ]
        indexes = [
            # a customer's win-back history
            models.Index(fields=["customer", "campaign"], name="campaigntarget_customer_idx"),
            # the dashboard's retention cost: offers accepted in a period
            models.Index(fields=["accepted_at"], name="campaigntarget_accepted_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in campaign {self.campaign_id}"


class IncidentFact(models.Model):
    """An incident as the operations report sees it: root cause, customers hurt, when closed."""

    incident_id = models.BigIntegerField(primary_key=True)
    root_cause_id = models.BigIntegerField(null=True, blank=True)
    customers_hurt = models.PositiveIntegerField(default=0)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # loyalty.selectors.operations_report: incidents closed in a period
            models.Index(fields=["closed_at", "root_cause_id"], name="incidentfact_closed_idx"),
        ]

    def __str__(self) -> str:
        return f"Incident {self.incident_id}"


class FactRefresh(models.Model):
    """A case whose fact and customer risk wait for the worker (queued by set-based hooks)."""

    case_id = models.BigIntegerField(primary_key=True)
    queued_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"Refresh case {self.case_id}"
