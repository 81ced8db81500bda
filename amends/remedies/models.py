from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q

from amends.accounts.choices import Role
from amends.core.models import BaseModel
from amends.remedies.choices import MenuStatus, RemedyStatus


class RemedyKind(BaseModel):
    """A kind of remedy staff can offer (refund, voucher, repair…); admins can add more."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=100)
    monetary = models.BooleanField(
        default=True, help_text="Whether remedies of this kind carry an amount and currency."
    )
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "code"]

    def __str__(self) -> str:
        return self.name


class AuthorityRule(BaseModel):
    """How far a role (or one person, overriding their role) may go with one kind of remedy.

    An empty maximum means "no limit on that dimension"; `allowed=False` forbids the kind.
    Amounts are per currency: a remedy is compared with others in its own currency.
    """

    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="authority_rules",
    )
    kind = models.ForeignKey(RemedyKind, on_delete=models.PROTECT, related_name="authority_rules")
    allowed = models.BooleanField(default=True)
    max_per_remedy = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_per_case = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    max_per_customer = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    period_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="The rolling window for the per-customer maximum."
    )

    class Meta:
        ordering = ["role", "user", "kind__position", "kind__code"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(role="") & Q(user__isnull=False))
                | (~Q(role="") & Q(user__isnull=True)),
                name="authorityrule_role_xor_user",
            ),
            models.CheckConstraint(
                condition=Q(max_per_remedy__isnull=True) | Q(max_per_remedy__gt=0),
                name="authorityrule_max_per_remedy_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_per_case__isnull=True) | Q(max_per_case__gt=0),
                name="authorityrule_max_per_case_positive",
            ),
            models.CheckConstraint(
                condition=(Q(max_per_customer__isnull=True) & Q(period_days__isnull=True))
                | (Q(max_per_customer__gt=0) & Q(period_days__gt=0)),
                name="authorityrule_customer_limit_has_period",
            ),
            # authority selectors look rules up by (role, kind) and (user, kind).
            models.UniqueConstraint(
                fields=["role", "kind"],
                condition=Q(user__isnull=True),
                name="authorityrule_one_per_role_kind",
            ),
            models.UniqueConstraint(
                fields=["user", "kind"],
                condition=Q(user__isnull=False),
                name="authorityrule_one_per_user_kind",
            ),
        ]

    def __str__(self) -> str:
        who = self.user.username if self.user_id and self.user else self.role
        return f"{who}: {self.kind_id}"


class CannotDoItem(BaseModel):
    """One thing a role may never do on its own ("waive an early-termination fee")."""

    role = models.CharField(max_length=20, choices=Role.choices)
    text = models.CharField(max_length=300)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["role", "position", "id"]
        indexes = [
            # remedies.selectors.cannot_do_list: a role's list in order
            models.Index(fields=["role", "position"], name="cannotdo_role_pos_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.text}"


class AuthorityChange(models.Model):
    """Audit row: who changed the authority matrix, and how (admin, CLI or API)."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="authority_changes",
    )
    source = models.CharField(max_length=20)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.source} change at {self.created_at}"


class ChoiceMenu(BaseModel):
    """Alternative remedies offered to a customer, of which exactly one may be chosen."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="remedy_menus")
    status = models.CharField(max_length=10, choices=MenuStatus.choices, default=MenuStatus.OPEN)
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remedy_menus_created",
    )
    chosen = models.OneToOneField(
        "Remedy", on_delete=models.PROTECT, null=True, blank=True, related_name="chosen_in"
    )
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remedy_menus_chosen",
    )
    chosen_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["case", "created_at", "id"]
        indexes = [
            # remedies.selectors.menu_list_for_case
            models.Index(fields=["case", "created_at"], name="menu_case_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status=MenuStatus.CHOSEN) | Q(chosen__isnull=False),
                name="choicemenu_chosen_has_choice",
            ),
        ]

    def __str__(self) -> str:
        return f"Menu {self.pk} on case {self.case_id}"


class Remedy(BaseModel):
    """Something we give a customer to make up for a failure, within or above authority."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="remedies")
    # Denormalised from the case so the rolling per-customer sum reads one index range.
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="remedies"
    )
    kind = models.ForeignKey(RemedyKind, on_delete=models.PROTECT, related_name="remedies")
    amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    currency = models.CharField(max_length=3, blank=True)
    description = models.CharField(max_length=500, blank=True)
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=RemedyStatus.choices, default=RemedyStatus.PROPOSED
    )
    menu = models.ForeignKey(
        ChoiceMenu, on_delete=models.CASCADE, null=True, blank=True, related_name="options"
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remedies_proposed",
    )

    # Approval, when the proposer's authority did not cover it.
    approver = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remedies_to_approve",
    )
    approval_requested_at = models.DateTimeField(null=True, blank=True)
    decision_due_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    # Overdue with nobody higher to escalate to: reported once, not retried by every sweep.
    escalation_exhausted = models.BooleanField(default=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remedies_decided",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)
    # Seconds from approval request to decision, stored so the median is one indexed read.
    decision_seconds = models.PositiveIntegerField(null=True, blank=True)

    issue_reference = models.CharField(max_length=100, blank=True)
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="remedies_issued",
    )
    cancel_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["case", "created_at", "id"]
        verbose_name_plural = "remedies"
        indexes = [
            # remedies.selectors.remedy_list_for_case and the per-case sums
            models.Index(fields=["case", "created_at", "id"], name="remedy_case_created_idx"),
            # remedies.services.authority: rolling per-customer sum for one kind
            models.Index(
                fields=["customer", "kind", "created_at"], name="remedy_customer_kind_idx"
            ),
            # remedies.selectors.approval_queue: my pending approvals, soonest due first
            models.Index(
                fields=["approver", "decision_due_at", "id"],
                condition=Q(status=RemedyStatus.PENDING_APPROVAL),
                name="remedy_approval_queue_idx",
            ),
            # remedies.sweeps.approval_sweep: overdue approvals
            models.Index(
                fields=["decision_due_at"],
                condition=Q(status=RemedyStatus.PENDING_APPROVAL),
                name="remedy_pending_due_idx",
            ),
            # remedies.selectors.authority_usage: what I granted per kind lately
            models.Index(
                fields=["proposed_by", "kind", "created_at"], name="remedy_proposer_kind_idx"
            ),
            # remedies.selectors.remedy_median_decision: decided approvals by duration
            models.Index(
                fields=["decision_seconds"],
                condition=Q(decision_seconds__isnull=False),
                name="remedy_decision_seconds_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(amount__isnull=True) & Q(currency=""))
                | (Q(amount__gt=0) & ~Q(currency="")),
                name="remedy_amount_positive_with_currency",
            ),
            models.CheckConstraint(
                condition=~Q(status=RemedyStatus.PENDING_APPROVAL)
                | (Q(approver__isnull=False) & Q(decision_due_at__isnull=False)),
                name="remedy_pending_has_approver",
            ),
            models.CheckConstraint(
                condition=~Q(status=RemedyStatus.ISSUED) | ~Q(issue_reference=""),
                name="remedy_issued_has_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"Remedy #{self.pk} ({self.status})"

    @property
    def money(self) -> str:
        if self.amount is None:
            return ""
        return f"{self.amount.quantize(Decimal('0.01'))} {self.currency}"
