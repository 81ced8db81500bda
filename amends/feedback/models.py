from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.core.models import BaseModel
from amends.feedback.choices import (
    CheckStatus,
    CheckSubject,
    ComplimentSource,
    FollowUpOutcome,
    FollowUpReason,
    FollowUpStatus,
    PromisesKept,
    ReviewOutcome,
    ReviewStatus,
    SurveyStatus,
)


def _range(field: str, low: int, high: int) -> Q:
    return Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": low, f"{field}__lte": high})


class SurveySettings(BaseModel):
    """The recovery survey's wording and timing, edited by an admin (one row)."""

    delay_hours = models.PositiveIntegerField(
        default=24, help_text="Hours after a case is resolved before the survey goes out."
    )
    reminder_after_hours = models.PositiveIntegerField(
        default=72, help_text="Hours after sending before the one reminder (0: no reminder)."
    )
    expiry_days = models.PositiveIntegerField(
        default=14, help_text="Days after sending that the link stops working."
    )
    follow_up_hours = models.PositiveIntegerField(
        default=8, help_text="Business hours a supervisor has to follow up a detractor."
    )
    intro = models.TextField(
        default="You recently raised a problem with us. How did we do putting it right?"
    )
    q_csat = models.CharField(
        max_length=300, default="Overall, how satisfied are you with how we handled your problem?"
    )
    q_nps = models.CharField(
        max_length=300, default="How likely are you to recommend us to a friend or colleague?"
    )
    q_would_use_again = models.CharField(
        max_length=300, default="How likely are you to use us again?"
    )
    q_fair_outcome = models.CharField(
        max_length=300, default="Was what you got in the end fair? (the outcome)"
    )
    q_fair_process = models.CharField(
        max_length=300, default="Was it quick and easy to get it sorted? (the process)"
    )
    q_fair_treatment = models.CharField(
        max_length=300,
        default="Were we courteous, honest and did we understand you? (how you were treated)",
    )
    q_promises = models.CharField(max_length=300, default="Was everything we promised done?")
    q_comment = models.CharField(max_length=300, default="Anything else you want to tell us?")
    q_compliment = models.CharField(
        max_length=300, default="Would you like to pass on thanks to {staff}? (optional)"
    )
    email_subject = models.CharField(max_length=200, default="How did we do? ({ref})")
    email_body = models.TextField(
        default=(
            "Hello {name},\n\nYour case {ref} was resolved recently. Would you tell us how we "
            "did? It takes a minute:\n\n{link}\n\nThe link works until {expires}. If you would "
            "rather not hear from us about surveys, the page has a button for that.\n\n"
            "Your case, its messages and what we promised stay on your page: {portal}\n"
        ),
        help_text="Placeholders: {name}, {ref}, {link} (the survey), {expires}, {portal} (the "
        "customer's page for the case).",
    )

    class Meta:
        verbose_name = "survey settings"
        verbose_name_plural = "survey settings"

    def __str__(self) -> str:
        return "Survey wording and timing"


class SurveyOptOut(BaseModel):
    """A customer who asked not to be sent surveys."""

    customer = models.OneToOneField(
        "customers.Customer", on_delete=models.CASCADE, related_name="survey_opt_out"
    )
    source = models.CharField(max_length=20, default="customer")

    def __str__(self) -> str:
        return f"Opt-out {self.customer_id}"


class SurveyExclusion(BaseModel):
    """A case staff opened for an internal reason: it never gets a survey."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, related_name="survey_exclusion"
    )
    reason = models.CharField(max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    def __str__(self) -> str:
        return f"No survey for case {self.case_id}"


class Survey(BaseModel):
    """A recovery survey for one case: scheduled, sent, answered (once) or expired."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="survey")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="surveys"
    )
    # Who and what the answers are about, fixed when the survey is scheduled.
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="surveys_about",
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="surveys"
    )
    category = models.ForeignKey(
        "taxonomy.Category", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    service = models.ForeignKey(
        "taxonomy.Service", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # The incident the case belongs to (incidents app, a sibling: a plain id on purpose).
    incident_id = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(
        max_length=20, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED
    )
    send_after = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    csat = models.PositiveSmallIntegerField(null=True, blank=True)
    nps = models.PositiveSmallIntegerField(null=True, blank=True)
    would_use_again = models.PositiveSmallIntegerField(null=True, blank=True)
    fair_outcome = models.PositiveSmallIntegerField(null=True, blank=True)
    fair_process = models.PositiveSmallIntegerField(null=True, blank=True)
    fair_treatment = models.PositiveSmallIntegerField(null=True, blank=True)
    promises_kept = models.CharField(max_length=10, choices=PromisesKept.choices, blank=True)
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # services.dispatch.survey_sweep: scheduled surveys that are due
            models.Index(
                fields=["send_after", "id"],
                condition=Q(status=SurveyStatus.SCHEDULED),
                name="survey_due_idx",
            ),
            # services.dispatch.survey_sweep: sent, unanswered (reminders and expiry)
            models.Index(
                fields=["sent_at", "id"],
                condition=Q(status=SurveyStatus.SENT),
                name="survey_sent_idx",
            ),
            # selectors.survey_list(team=...) and the champions page
            models.Index(fields=["team", "answered_at", "id"], name="survey_team_answer_idx"),
            # selectors.survey_list(person=...) and the profile page
            models.Index(fields=["staff", "answered_at", "id"], name="survey_staff_answer_idx"),
            # selectors.survey_list (everything, newest answers first)
            models.Index(fields=["answered_at", "id"], name="survey_answered_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=_range("csat", 1, 5), name="survey_csat_range"),
            models.CheckConstraint(condition=_range("nps", 0, 10), name="survey_nps_range"),
            models.CheckConstraint(
                condition=_range("would_use_again", 1, 5), name="survey_use_again_range"
            ),
            models.CheckConstraint(
                condition=_range("fair_outcome", 1, 5), name="survey_fair_outcome_range"
            ),
            models.CheckConstraint(
                condition=_range("fair_process", 1, 5), name="survey_fair_process_range"
            ),
            models.CheckConstraint(
                condition=_range("fair_treatment", 1, 5), name="survey_fair_treatment_range"
            ),
            models.CheckConstraint(
                condition=~Q(status=SurveyStatus.ANSWERED) | Q(answered_at__isnull=False),
                name="survey_answered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Survey {self.pk} for case {self.case_id}"


class Compliment(BaseModel):
    """Praise for a staff member, from a survey or logged by a colleague from another channel."""

    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="compliments"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.CASCADE, null=True, blank=True, related_name="compliments"
    )
    survey = models.OneToOneField(
        Survey, on_delete=models.CASCADE, null=True, blank=True, related_name="compliment"
    )
    source = models.CharField(max_length=20, choices=ComplimentSource.choices)
    channel = models.CharField(max_length=40, blank=True, help_text="Where it came from.")
    text = models.TextField()
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # selectors.compliment_list_for_staff: the profile page
            models.Index(fields=["staff", "-created_at"], name="compliment_staff_idx"),
            # selectors.champions: a team's compliments in a period
            models.Index(fields=["team", "created_at"], name="compliment_team_idx"),
        ]

    def __str__(self) -> str:
        return f"Compliment for {self.staff_id}"


class FollowUp(BaseModel):
    """A supervisor's follow-up with a customer whose survey answer was poor."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="follow_ups")
    survey = models.OneToOneField(Survey, on_delete=models.CASCADE, related_name="follow_up")
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="follow_ups"
    )
    reasons = models.JSONField(default=list)
    due_at = models.DateTimeField()
    status = models.CharField(
        max_length=10, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN
    )
    outcome = models.CharField(max_length=20, choices=FollowUpOutcome.choices, blank=True)
    note = models.TextField(blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # selectors.follow_up_queue: my open follow-ups, soonest due first
            models.Index(
                fields=["assignee", "due_at", "id"],
                condition=Q(status=FollowUpStatus.OPEN),
                name="followup_queue_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status=FollowUpStatus.OPEN)
                | (~Q(outcome="") & Q(done_at__isnull=False)),
                name="followup_done_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up on case {self.case_id}"

    @property
    def reason_labels(self) -> list[str]:
        return [str(FollowUpReason(r).label) for r in self.reasons if r in FollowUpReason.values]


class StaffReview(BaseModel):
    """A fair review of a complaint about a staff member's conduct on a case."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="staff_reviews")
    staff = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_about"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews_opened"
    )
    complaint = models.TextField(help_text="What the customer says about the conduct.")
    status = models.CharField(
        max_length=20, choices=ReviewStatus.choices, default=ReviewStatus.AWAITING_ACCOUNT
    )
    staff_account = models.TextField(blank=True)
    account_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=ReviewOutcome.choices, blank=True)
    note = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # selectors.staff_review_list: reviews about one person, newest first
            models.Index(fields=["staff", "-created_at"], name="staffreview_staff_idx"),
            # selectors.staff_review_list for a supervisor: their team's
            models.Index(fields=["team", "-created_at"], name="staffreview_team_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=ReviewStatus.DECIDED)
                | (~Q(outcome="") & Q(decided_at__isnull=False)),
                name="staffreview_decided_has_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"Review {self.pk} of {self.staff_id}"

    @property
    def is_development(self) -> bool:
        return self.outcome == ReviewOutcome.COACHING


class SecondLook(BaseModel):
    """A request for a colleague to look at a draft reply or a proposed outcome first."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="second_looks")
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="second_looks_asked"
    )
    # A named colleague, or anyone in the team when empty.
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="second_looks_to_answer",
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    subject = models.CharField(max_length=20, choices=CheckSubject.choices)
    draft = models.TextField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=CheckStatus.choices, default=CheckStatus.OPEN)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_seconds = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            # selectors.second_look_queue: asked of me, open, soonest due first
            models.Index(
                fields=["reviewer", "due_at", "id"],
                condition=Q(status=CheckStatus.OPEN),
                name="secondlook_reviewer_idx",
            ),
            # selectors.second_look_queue: asked of anyone in my team
            models.Index(
                fields=["team", "due_at", "id"],
                condition=Q(status=CheckStatus.OPEN, reviewer__isnull=True),
                name="secondlook_team_idx",
            ),
            # selectors.second_look_habits: a team's requests in a period
            models.Index(fields=["team", "created_at"], name="secondlook_team_created_idx"),
        ]

    def __str__(self) -> str:
        return f"Second look on case {self.case_id}"


class CaseKpi(models.Model):
    """A resolved case's measures, written when it is resolved (the KPI pages read these)."""

    case = models.OneToOneField(
        "cases.Case", on_delete=models.CASCADE, primary_key=True, related_name="kpi"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField()
    ack_seconds = models.PositiveIntegerField(null=True, blank=True)  # business time
    resolve_seconds = models.PositiveIntegerField(null=True, blank=True)  # business time
    steps_all_done = models.BooleanField(default=False)
    promises_due = models.PositiveIntegerField(default=0)
    promises_kept_on_time = models.PositiveIntegerField(default=0)
    remedies = models.PositiveIntegerField(default=0)
    remedies_within_authority = models.PositiveIntegerField(default=0)

    class Meta:
        indexes = [
            # selectors.kpi_cases (drill-down, newest first: the index gives the order, so a
            # page reads 50 rows, not the whole period) and services.kpis bucket refresh
            models.Index(fields=["team", "resolved_at", "case"], name="casekpi_team_at_idx"),
            models.Index(fields=["person", "resolved_at", "case"], name="casekpi_person_at_idx"),
            models.Index(fields=["resolved_at", "case"], name="casekpi_resolved_at_idx"),
        ]

    def __str__(self) -> str:
        return f"KPI of case {self.case_id}"


class KpiSums(models.Model):
    """The sums every KPI is computed from, for one team and person (abstract)."""

    # "<period>:team:person" (0 for none): unique, so concurrent writers of one bucket collide
    # even where NULLs would not (a unique index treats NULLs as distinct).
    key = models.CharField(max_length=60, unique=True)
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    resolved = models.PositiveIntegerField(default=0)
    ack_count = models.PositiveIntegerField(default=0)
    ack_seconds = models.BigIntegerField(default=0)
    resolve_count = models.PositiveIntegerField(default=0)
    resolve_seconds = models.BigIntegerField(default=0)
    steps_all_done = models.PositiveIntegerField(default=0)
    promises_due = models.PositiveIntegerField(default=0)
    promises_kept_on_time = models.PositiveIntegerField(default=0)
    remedies = models.PositiveIntegerField(default=0)
    remedies_within_authority = models.PositiveIntegerField(default=0)
    answered = models.PositiveIntegerField(default=0)
    csat_count = models.PositiveIntegerField(default=0)
    csat_sum = models.PositiveIntegerField(default=0)
    csat_satisfied = models.PositiveIntegerField(default=0)  # answers of 4 or 5
    fair_outcome_count = models.PositiveIntegerField(default=0)
    fair_outcome_sum = models.PositiveIntegerField(default=0)
    fair_process_count = models.PositiveIntegerField(default=0)
    fair_process_sum = models.PositiveIntegerField(default=0)
    fair_treatment_count = models.PositiveIntegerField(default=0)
    fair_treatment_sum = models.PositiveIntegerField(default=0)
    approvals_decided = models.PositiveIntegerField(default=0)
    approval_seconds = models.BigIntegerField(default=0)
    compliments = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class KpiDay(KpiSums):
    """Sums per organisation day (the calendar day in the organisation's time zone), team and
    person, kept by the services so a KPI page reads few rows."""

    day = models.DateField()

    class Meta:
        ordering = ["day"]
        indexes = [
            # selectors.kpi_sums(team=...): the days at the edges of a period
            models.Index(fields=["team", "day"], name="kpiday_team_idx"),
            # selectors.kpi_sums(person=...)
            models.Index(fields=["person", "day"], name="kpiday_person_idx"),
            # selectors.kpi_sums (everyone); services.kpis month refresh
            models.Index(fields=["day"], name="kpiday_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} team {self.team_id} person {self.person_id}"


class KpiMonth(KpiSums):
    """The same sums per organisation month: a long period reads months, then edge days."""

    month = models.DateField(help_text="The first day of the month.")

    class Meta:
        ordering = ["month"]
        indexes = [
            # selectors.kpi_sums(team=...): whole months of a period
            models.Index(fields=["team", "month"], name="kpimonth_team_idx"),
            # selectors.kpi_sums(person=...)
            models.Index(fields=["person", "month"], name="kpimonth_person_idx"),
            # selectors.kpi_sums (everyone)
            models.Index(fields=["month"], name="kpimonth_month_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} team {self.team_id} person {self.person_id}"
