from __future__ import annotations

import re
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from amends.cases.choices import (
    DONE_STATUSES,
    OPEN_STATUSES,
    CaseEventKind,
    CaseStatus,
    Channel,
    Fault,
    MessageDirection,
    Outcome,
    SlaState,
    StepState,
)
from amends.cases.search import SearchDocumentField
from amends.core.models import BaseModel
from amends.customers.choices import CustomerTier
from amends.policies.choices import RecoveryStep, Severity, StepDue

REF_PREFIX = "AM-"
REF_RE = re.compile(r"^\s*(?:AM-)?0*(\d{1,12})\s*$", re.IGNORECASE)


# The SLA sweep's candidates (cases.sweeps.sla_sweep). A live clock: open and not paused for
# the customer. "Not yet handled" compares the sweep's marker with the current clock, so a clock
# re-timed after the marker (severity change, reopen, acknowledge) is a fresh candidate. The
# same Q objects are the partial indexes' conditions, so each query is one range scan.
SLA_LIVE = Q(sla_due_at__isnull=False) & ~Q(status=CaseStatus.AWAITING_CUSTOMER)
SLA_BREACH_UNNOTED = Q(sla_breach_noted_at__isnull=True) | Q(
    sla_breach_noted_at__lt=F("sla_due_at")
)
SLA_AT_RISK_UNNOTED = Q(sla_at_risk_noted_at__isnull=True) | Q(
    sla_at_risk_noted_at__lt=F("sla_at_risk_at")
)


def case_ref(pk: int) -> str:
    return f"{REF_PREFIX}{pk:06d}"


def case_pk_from_ref(ref: str) -> int | None:
    match = REF_RE.match(ref)
    return int(match.group(1)) if match else None


class Case(BaseModel):
    """One service breakdown for one customer, and everything we do to put it right."""

    # The foreign keys without an index of their own are served by a composite index that
    # starts with them (customer, category, team, assignee: see Meta.indexes); the ones mostly
    # NULL are indexed where set only (created_by, root_cause, merged_into). Every index is
    # written by every new case: an import writes hundreds of thousands.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.PHONE)
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    service = models.ForeignKey(
        "taxonomy.Service", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    root_cause = models.ForeignKey(
        "taxonomy.RootCause",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
        help_text="Why it happened, recorded when known (usually on resolve).",
    )
    playbook = models.ForeignKey(
        "policies.Playbook", on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, help_text="The customer's account.")
    expected = models.TextField(blank=True, help_text="What the customer expected.")
    delivered = models.TextField(blank=True, help_text="What was actually delivered.")
    staff_account = models.TextField(blank=True, help_text="The staff's account.")
    fault = models.CharField(max_length=20, choices=Fault.choices, default=Fault.UNDETERMINED)
    severity = models.PositiveSmallIntegerField(choices=Severity.choices, default=Severity.MEDIUM)
    status = models.CharField(max_length=20, choices=CaseStatus.choices, default=CaseStatus.NEW)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True)
    outcome_explanation = models.TextField(blank=True)
    team = models.ForeignKey(
        "accounts.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        db_index=False,
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        db_index=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="created_cases",
        db_index=False,
    )

    # Transition timestamps.
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    recovery_started_at = models.DateTimeField(null=True, blank=True)
    awaiting_customer_since = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    reopened_at = models.DateTimeField(null=True, blank=True)

    # SLA clocks (business time, see cases.services.sla).
    ack_due_at = models.DateTimeField()
    ack_at_risk_at = models.DateTimeField()
    resolve_clock_started_at = models.DateTimeField()
    resolve_due_at = models.DateTimeField()
    resolve_at_risk_at = models.DateTimeField()
    sla_paused_seconds = models.PositiveIntegerField(default=0)
    # The clock that matters now: acknowledge while new, resolve after. NULL once resolved,
    # so "open" is exactly "sla_due_at IS NOT NULL" and queues range-scan one index.
    sla_due_at = models.DateTimeField(null=True, blank=True)
    sla_at_risk_at = models.DateTimeField(null=True, blank=True)
    # When the SLA sweep last handled a breach / an at-risk moment of this case (its `now`).
    # Older than the current sla_due_at / sla_at_risk_at: that clock has not been handled yet.
    # Written only by cases.sweeps.sla_sweep (and carried over by a merge).
    sla_breach_noted_at = models.DateTimeField(null=True, blank=True)
    sla_at_risk_noted_at = models.DateTimeField(null=True, blank=True)

    # A second failure during recovery (a broken promise): see the commitments app.
    double_deviation = models.BooleanField(default=False)

    # How the customer feels, as the floors above read it (insight, through
    # cases.services.attention): what queues filter on and the "most upset first" sort.
    # `attention` is a weighted priority (configurable weights); 0 when nothing was read.
    attention = models.FloatField(default=0.0)
    upset = models.BooleanField(default=False)
    churn_intent = models.BooleanField(default=False)
    repeat_failure = models.BooleanField(default=False)

    # A duplicate closed into another case (cases.services.merge); its history moved there.
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        db_index=False,
    )
    tags = models.ManyToManyField("cases.Tag", blank=True, related_name="cases")

    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # cases.selectors.case_queue (all open cases, nearest due first)
            models.Index(fields=["sla_due_at", "id"], name="case_sla_idx"),
            # cases.selectors (the "at risk" filter)
            models.Index(fields=["sla_at_risk_at", "id"], name="case_sla_at_risk_idx"),
            # cases.sweeps.sla_sweep: live clocks whose breach / at-risk moment is not handled
            # yet; the sweep range-scans them up to `now` (handled rows leave the index)
            models.Index(
                fields=["sla_due_at", "id"],
                condition=SLA_LIVE & SLA_BREACH_UNNOTED,
                name="case_sla_breach_todo_idx",
            ),
            models.Index(
                fields=["sla_at_risk_at", "id"],
                condition=SLA_LIVE & Q(assignee__isnull=False) & SLA_AT_RISK_UNNOTED,
                name="case_sla_at_risk_todo_idx",
            ),
            # cases.selectors.case_queue(team=...), the team queues
            models.Index(fields=["team", "sla_due_at", "id"], name="case_team_sla_idx"),
            # cases.selectors.case_queue(assignee=...), "my queue"
            models.Index(fields=["assignee", "sla_due_at", "id"], name="case_assignee_sla_idx"),
            # cases.selectors.case_list(status=...)
            models.Index(fields=["status", "sla_due_at", "id"], name="case_status_sla_idx"),
            # cases.selectors.case_list(category=... / severity=...)
            models.Index(fields=["category", "sla_due_at", "id"], name="case_category_sla_idx"),
            models.Index(fields=["severity", "sla_due_at", "id"], name="case_severity_sla_idx"),
            # queues sorted by severity or newest (cases.listing.SORTS): the open cases only, so
            # the walk in sort order skips no closed case (most of a million are closed)
            models.Index(
                fields=["severity", "sla_due_at", "id"],
                condition=Q(sla_due_at__isnull=False),
                name="case_open_severity_idx",
            ),
            models.Index(
                fields=["-created_at", "-id"],
                condition=Q(sla_due_at__isnull=False),
                name="case_open_newest_idx",
            ),
            # customers page: a customer's history, newest first
            models.Index(fields=["customer", "-created_at"], name="case_customer_created_idx"),
            # queues: "most upset first", and the upset / churn intent / repeat filters; open
            # cases only, like the sorts above
            models.Index(
                fields=["-attention", "sla_due_at", "id"],
                condition=Q(sla_due_at__isnull=False),
                name="case_open_attention_idx",
            ),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(upset=True, sla_due_at__isnull=False),
                name="case_open_upset_idx",
            ),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(churn_intent=True, sla_due_at__isnull=False),
                name="case_open_churn_idx",
            ),
            models.Index(
                fields=["sla_due_at", "id"],
                condition=Q(repeat_failure=True, sla_due_at__isnull=False),
                name="case_open_repeat_idx",
            ),
            # Foreign keys mostly NULL: indexed where set (deleting a user, root cause or case
            # looks them up by value; the "not applicable" SLA filter wants merged_into set)
            models.Index(
                fields=["created_by"],
                condition=Q(created_by__isnull=False),
                name="case_created_by_idx",
            ),
            models.Index(
                fields=["root_cause"],
                condition=Q(root_cause__isnull=False),
                name="case_root_cause_idx",
            ),
            models.Index(
                fields=["merged_into"],
                condition=Q(merged_into__isnull=False),
                name="case_merged_into_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(severity__gte=1, severity__lte=4), name="case_severity_range"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_STATUSES, sla_due_at__isnull=False)
                | Q(status__in=DONE_STATUSES, sla_due_at__isnull=True),
                name="case_sla_due_iff_open",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(outcome__gt=""),
                name="case_resolved_has_outcome",
            ),
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.NOT_UPHELD) | ~Q(outcome_explanation=""),
                name="case_not_upheld_needs_explanation",
            ),
            models.CheckConstraint(condition=Q(version__gte=1), name="case_version_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.title}"

    @property
    def ref(self) -> str:
        return case_ref(self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def merged_into_ref(self) -> str:
        """The survivor's reference when this case was merged into it (no query)."""
        return case_ref(self.merged_into_id) if self.merged_into_id else ""

    def sla_state_at(self, now: datetime | None = None) -> str:
        now = now or timezone.now()
        if self.merged_into_id is not None:
            return SlaState.NOT_APPLICABLE  # a duplicate: the survivor's clock counts
        if self.status in DONE_STATUSES:
            met = self.resolved_at is not None and self.resolved_at <= self.resolve_due_at
            return SlaState.MET if met else SlaState.MISSED
        if self.status == CaseStatus.AWAITING_CUSTOMER:
            return SlaState.PAUSED
        if self.sla_due_at is None or self.sla_at_risk_at is None:
            return SlaState.ON_TRACK  # unsaved case before its clocks are computed
        if now >= self.sla_due_at:
            return SlaState.BREACHED
        if now >= self.sla_at_risk_at:
            return SlaState.AT_RISK
        return SlaState.ON_TRACK

    @property
    def sla_state(self) -> str:
        return self.sla_state_at()

    @property
    def ack_met(self) -> bool | None:
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at <= self.ack_due_at


class CaseStep(BaseModel):
    """One recovery step on a case: pending, done or skipped (with a reason)."""

    # No index of its own on case (casestep_unique_step starts with it), on created_at (no
    # query reads steps by it) or on a NULL actor (a pending or skipped step has none): an
    # import writes seven steps per case.
    created_at = models.DateTimeField(auto_now_add=True)
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="steps", db_index=False)
    step = models.CharField(max_length=20, choices=RecoveryStep.choices)
    required = models.BooleanField(default=True)
    # A required step blocks resolving, or (due before close) only closing.
    due = models.CharField(
        max_length=10,
        choices=StepDue.choices,
        default=StepDue.BEFORE_RESOLVE,
        db_default=StepDue.BEFORE_RESOLVE,  # set-based INSERTs may leave it out
    )
    position = models.PositiveSmallIntegerField(default=0)
    state = models.CharField(max_length=10, choices=StepState.choices, default=StepState.PENDING)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_steps",
        db_index=False,
    )
    at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True)
    skip_reason = models.TextField(blank=True)

    # Not stored: set by cases.selectors.case_steps for the case page (what may be done now).
    can_done: bool = False
    can_skip: bool = False
    acknowledge_first: bool = False

    class Meta:
        ordering = ["case", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["case", "step"], name="casestep_unique_step"),
            models.CheckConstraint(
                condition=~Q(state=StepState.SKIPPED) | ~Q(skip_reason=""),
                name="casestep_skip_needs_reason",
            ),
        ]
        indexes = [
            # deleting a user looks their steps up (PROTECT)
            models.Index(
                fields=["actor"], condition=Q(actor__isnull=False), name="casestep_actor_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_step_display()}: {self.state}"


class Message(BaseModel):
    """A message on a case: from the customer, to the customer, or an internal note."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="messages")
    direction = models.CharField(max_length=10, choices=MessageDirection.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_messages",
    )
    body = models.TextField()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # cases.selectors.case_message_list: a case's conversation in order
            models.Index(fields=["case", "created_at"], name="message_case_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} on {self.case_id}"


class CaseEvent(models.Model):
    """An append-only record of one change to a case: who, what, when, before → after."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=40, choices=CaseEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="case_events",
    )
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # cases.selectors.case_timeline: a case's events in order
            models.Index(fields=["case", "created_at", "id"], name="caseevent_case_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.case_id}"


class CaseSearch(models.Model):
    """The search index row of a case (see amends.cases.search); written by triggers only."""

    # FTS5 joins on its rowid, so the key column is called rowid on both databases.
    case = models.OneToOneField(
        Case,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_column="rowid",
        db_constraint=False,
        related_name="search",
    )
    document = SearchDocumentField()

    class Meta:
        managed = False
        db_table = "cases_casesearch"

    def __str__(self) -> str:
        return f"search entry of {self.case_id}"


class Tag(BaseModel):
    """A label on cases ("refund-pending", "press"), for filtering queues."""

    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class RoutingRule(BaseModel):
    """Where a new case goes: the first active rule (by position) whose conditions all match
    picks its team, and optionally its playbook and assignee. An empty condition matches
    anything; the default rule applies when no other rule matches."""

    name = models.CharField(max_length=100, unique=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    is_default = models.BooleanField(
        default=False, help_text="Used when no other rule matches (its conditions are ignored)."
    )
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text="A top-level category matches its subcategories too.",
    )
    service = models.ForeignKey(
        "taxonomy.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, blank=True)
    customer_tier = models.CharField(max_length=20, choices=CustomerTier.choices, blank=True)
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.CASCADE, related_name="routing_rules"
    )
    playbook = models.ForeignKey(
        "policies.Playbook",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text="Leave empty to keep the category's playbook.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="routing_rules",
        help_text="Leave empty to leave the case in the team's queue.",
    )

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="routingrule_one_default"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CannedReply(BaseModel):
    """A reply agents pick in the reply box; placeholders such as {customer_name} are filled
    in for the case (cases.services.replies)."""

    name = models.CharField(max_length=100, unique=True)
    body = models.TextField()
    category = models.ForeignKey(
        "taxonomy.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_replies",
        help_text="Offered on cases of this category (and its subcategories); empty: on all.",
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "canned replies"

    def __str__(self) -> str:
        return self.name


class CaseViewer(models.Model):
    """Who had a case open lately, for the "also open by" notice (one row per person)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="viewers")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="case_views"
    )
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["case", "user"], name="caseviewer_unique"),
        ]
        indexes = [
            # cases.selectors.case_viewers_recent: who else had this case open lately
            models.Index(fields=["case", "seen_at"], name="caseviewer_case_seen_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.case_id}"
