from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.core.models import BaseModel
from amends.incidents.choices import (
    IncidentEventKind,
    IncidentStatus,
    ProblemStatus,
    RoundKind,
    RoundStatus,
)


class IncidentKind(BaseModel):
    """A kind of mass failure (flight delay, network outage…); admins can add more."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    magnitude_unit = models.CharField(
        max_length=40, blank=True, help_text="What the magnitude measures, e.g. delay minutes."
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class Problem(BaseModel):
    """The underlying cause shared by incidents with the same root cause."""

    title = models.CharField(max_length=200)
    root_cause = models.ForeignKey(
        "taxonomy.RootCause", on_delete=models.PROTECT, related_name="problems"
    )
    status = models.CharField(
        max_length=20, choices=ProblemStatus.choices, default=ProblemStatus.OPEN
    )
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # incidents.services.incidents.incident_close groups into the unfixed problem.
            models.UniqueConstraint(
                fields=["root_cause"],
                condition=~Q(status=ProblemStatus.FIXED),
                name="problem_one_unfixed_per_root_cause",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class RecoveryPolicy(BaseModel):
    """One version of the rules that turn an incident's impact into each customer's remedies.

    Versions are never edited once used: a change is a new version, so every impact can say
    which rules it was given.
    """

    kind = models.ForeignKey(IncidentKind, on_delete=models.PROTECT, related_name="policies")
    name = models.CharField(max_length=200)
    version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="recovery_policies",
        help_text="Remedies granted under this policy are pre-authorised by this person.",
    )
    currency = models.CharField(max_length=3, default="EUR")
    budget_cap = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Most this policy may commit per incident; empty: no cap.",
    )
    rules = models.JSONField(default=list)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recovery_policies_created",
    )

    class Meta:
        ordering = ["kind", "-version"]
        verbose_name_plural = "recovery policies"
        constraints = [
            models.UniqueConstraint(fields=["kind", "version"], name="policy_kind_version"),
            # incidents.selectors.policy_active_for_kind
            models.UniqueConstraint(
                fields=["kind"], condition=Q(active=True), name="policy_one_active_per_kind"
            ),
            models.CheckConstraint(
                condition=Q(budget_cap__isnull=True) | Q(budget_cap__gt=0),
                name="policy_budget_cap_positive",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.version}"


class Incident(BaseModel):
    """One operational failure that hurt many customers at once."""

    title = models.CharField(max_length=200)
    kind = models.ForeignKey(IncidentKind, on_delete=models.PROTECT, related_name="incidents")
    service = models.ForeignKey(
        "taxonomy.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    magnitude = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Delay minutes, outage hours, amount, …"
    )
    severity = models.PositiveSmallIntegerField(default=3)
    status = models.CharField(
        max_length=20, choices=IncidentStatus.choices, default=IncidentStatus.INVESTIGATING
    )
    public_description = models.TextField(blank=True)
    internal_notes = models.TextField(blank=True)
    root_cause = models.ForeignKey(
        "taxonomy.RootCause",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
    )
    problem = models.ForeignKey(
        Problem, on_delete=models.PROTECT, null=True, blank=True, related_name="incidents"
    )
    policy = models.ForeignKey(
        RecoveryPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents",
        help_text="The policy version every impact of this incident is evaluated under.",
    )
    # Budget: what the policy's menus could cost at most, reserved as customers are added
    # (updated under the incident's row lock, so the cap holds with concurrent batches).
    budget_reserved = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    budget_reached_at = models.DateTimeField(null=True, blank=True)
    # The funnel, kept in step with the impact rows by the services that change them (in the
    # same transaction), so the incident page reads one row however many customers it has.
    affected_count = models.PositiveIntegerField(default=0)
    notified_count = models.PositiveIntegerField(default=0)
    opened_count = models.PositiveIntegerField(default=0)
    chose_count = models.PositiveIntegerField(default=0)
    complained_count = models.PositiveIntegerField(default=0)
    surveyed_count = models.PositiveIntegerField(default=0)
    over_budget_count = models.PositiveIntegerField(default=0)
    cost_total = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incidents_declared",
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    prevention_case_id = models.BigIntegerField(null=True, blank=True)
    prevention_commitment_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            # incidents.selectors.incident_list: newest first
            models.Index(fields=["started_at", "id"], name="incident_started_idx"),
            # incidents.selectors.incident_list(status=…)
            models.Index(fields=["status", "started_at"], name="incident_status_idx"),
            # incidents.selectors.incident_list_for_period: by problem over time
            models.Index(fields=["problem", "started_at"], name="incident_problem_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1) & Q(severity__lte=4), name="incident_severity_range"
            ),
            models.CheckConstraint(
                condition=Q(magnitude__gte=0), name="incident_magnitude_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(status=IncidentStatus.CLOSED)
                | (Q(root_cause__isnull=False) & Q(closed_at__isnull=False)),
                name="incident_closed_has_root_cause",
            ),
        ]

    def __str__(self) -> str:
        return f"INC-{self.pk}: {self.title}"

    @property
    def ref(self) -> str:
        return f"INC-{self.pk:05d}" if self.pk else "INC-new"


class IncidentUpdate(BaseModel):
    """A dated note on the incident: public ones are shown to customers."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="updates")
    body = models.TextField()
    public = models.BooleanField(default=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_updates",
    )

    class Meta:
        ordering = ["incident", "-created_at", "-id"]
        indexes = [
            # incidents.selectors.incident_update_list
            models.Index(fields=["incident", "created_at"], name="incident_update_idx"),
        ]

    def __str__(self) -> str:
        return f"Update on incident {self.incident_id}"


class IncidentEvent(models.Model):
    """Append-only audit row: who did what to an incident, and when."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=IncidentEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incident_events",
    )
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["incident", "-created_at", "-id"]
        indexes = [
            # incidents.selectors.incident_event_list
            models.Index(fields=["incident", "created_at", "id"], name="incident_event_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on incident {self.incident_id}"


class Impact(BaseModel):
    """One customer hurt by one incident: what the policy gives them and how they took it."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="impacts")
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="incident_impacts"
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="incident_impacts",
    )
    policy = models.ForeignKey(
        RecoveryPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="impacts",
    )
    email = models.EmailField(blank=True, help_text="Where to notify them about this incident.")
    inputs = models.JSONField(default=dict, help_text="Per-customer policy inputs.")
    lines = models.JSONField(default=list, help_text="The policy's outcome, line by line.")
    reserved = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    cost = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    over_budget = models.BooleanField(default=False)
    menu_id = models.BigIntegerField(null=True, blank=True)
    prepared_at = models.DateTimeField(null=True, blank=True)
    notified_round = models.PositiveSmallIntegerField(default=0)
    notified_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)
    chose_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    surveyed_at = models.DateTimeField(null=True, blank=True)
    survey_csat = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "id"]
        indexes = [
            # incidents.selectors.impact_list_for_incident (and the funnel aggregate)
            models.Index(fields=["incident", "id"], name="impact_incident_idx"),
            # incidents.services.notify.round_process: who still waits for this round
            models.Index(fields=["incident", "notified_round", "id"], name="impact_round_idx"),
            # hook subscribers find the impact of a case
            models.Index(fields=["case"], name="impact_case_idx"),
            # loyalty / customer page: a customer's incidents
            models.Index(fields=["customer", "created_at"], name="impact_customer_idx"),
            # incidents.services.reactions.impacts_choices_sync: menus offered, not yet chosen
            models.Index(
                fields=["id"],
                condition=Q(menu_id__isnull=False, chose_at__isnull=True),
                name="impact_menu_open_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "customer"], name="impact_one_per_customer"
            ),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="impact_reserved_positive"),
        ]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} in incident {self.incident_id}"


class NotificationRound(BaseModel):
    """One notice to every affected customer (first notice, update, resolved)."""

    incident = models.ForeignKey(Incident, on_delete=models.CASCADE, related_name="rounds")
    number = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=20, choices=RoundKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(
        max_length=20, choices=RoundStatus.choices, default=RoundStatus.RUNNING
    )
    total = models.PositiveIntegerField(default=0)
    covered = models.PositiveIntegerField(
        default=0, help_text="Customers this round has dealt with so far (mailed or not)."
    )
    sent = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_rounds",
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["incident", "number"]
        indexes = [
            # incidents.sweeps.incident_rounds_sweep: rounds still sending
            models.Index(
                fields=["created_at"],
                condition=Q(status=RoundStatus.RUNNING),
                name="round_running_idx",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["incident", "number"], name="round_number_unique"),
        ]

    def __str__(self) -> str:
        return f"Round {self.number} of incident {self.incident_id}"


class NotificationTemplate(BaseModel):
    """The words of a notice, per incident kind and round kind, with {placeholders}."""

    kind = models.ForeignKey(
        IncidentKind,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="templates",
        help_text="Empty: the default for every kind.",
    )
    round_kind = models.CharField(max_length=20, choices=RoundKind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField()

    class Meta:
        ordering = ["kind", "round_kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "round_kind"], name="template_one_per_kind_round"
            ),
            models.UniqueConstraint(
                fields=["round_kind"],
                condition=Q(kind__isnull=True),
                name="template_one_default_per_round",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind or 'default'} / {self.round_kind}"
