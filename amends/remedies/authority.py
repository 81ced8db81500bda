"""The authority matrix, evaluated: whose limits apply, what is used up, who may approve.

Read-only: services call these inside their transaction, after locking the customer row, so
the sums they see cannot be changed by a concurrent proposal before the write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import User
from django.db.models import Q, Sum

from amends.accounts.choices import ROLE_RANK
from amends.accounts.selectors import staff_profile_of
from amends.cases.models import Case
from amends.cases.selectors import case_viewers
from amends.remedies.choices import COUNTED_STATUSES
from amends.remedies.models import AuthorityRule, Remedy, RemedyKind

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class Source:
    PERSON = "person"
    ROLE = "role"
    NONE = "none"


@dataclass(frozen=True)
class Limits:
    """One person's effective authority for one kind of remedy (None = no limit there)."""

    kind_id: int
    source: str
    allowed: bool
    max_per_remedy: Decimal | None = None
    max_per_case: Decimal | None = None
    max_per_customer: Decimal | None = None
    period_days: int | None = None

    @classmethod
    def from_rule(cls, rule: AuthorityRule | None, *, kind_id: int) -> Limits:
        if rule is None:
            return cls(kind_id=kind_id, source=Source.NONE, allowed=False)
        return cls(
            kind_id=kind_id,
            source=Source.PERSON if rule.user_id else Source.ROLE,
            allowed=rule.allowed,
            max_per_remedy=rule.max_per_remedy,
            max_per_case=rule.max_per_case,
            max_per_customer=rule.max_per_customer,
            period_days=rule.period_days,
        )


@dataclass(frozen=True)
class Breach:
    """A limit a remedy would go past."""

    limit: str
    allowed: Decimal | None
    would_be: Decimal | None

    def as_dict(self) -> dict[str, str | None]:
        return {
            "limit": self.limit,
            "allowed": _money(self.allowed),
            "would_be": _money(self.would_be),
        }


def _money(value: Decimal | None) -> str | None:
    """Two decimals always: SQLite hands sums back as "1130.10000000000"."""
    return None if value is None else str(value.quantize(CENT))


def _pick(rules: Iterable[AuthorityRule], *, user_id: int, role: str) -> AuthorityRule | None:
    person = role_rule = None
    for rule in rules:
        if rule.user_id == user_id:
            person = rule
        elif rule.user_id is None and rule.role == role:
            role_rule = rule
    # A person's own rule beats their role's, whatever it says.
    return person or role_rule


def limits_for(*, user: User, kind: RemedyKind) -> Limits:
    return limits_for_users(users=[user], kind=kind)[user.pk]


def limits_for_users(*, users: list[User], kind: RemedyKind) -> dict[int, Limits]:
    """Effective limits of several people for one kind, in one query."""
    roles = {staff_profile_of(user=u).role for u in users}
    rules = list(
        AuthorityRule.objects.filter(kind=kind).filter(
            Q(user__in=[u.pk for u in users]) | Q(user__isnull=True, role__in=roles)
        )
    )
    return {
        u.pk: Limits.from_rule(
            _pick(rules, user_id=u.pk, role=staff_profile_of(user=u).role), kind_id=kind.pk
        )
        for u in users
    }


def limits_table_for(*, user: User, kinds: list[RemedyKind]) -> dict[int, Limits]:
    """Effective limits of one person for every kind, in one query."""
    role = staff_profile_of(user=user).role
    rules = list(AuthorityRule.objects.filter(Q(user=user) | Q(user__isnull=True, role=role)))
    by_kind: dict[int, list[AuthorityRule]] = {}
    for rule in rules:
        by_kind.setdefault(rule.kind_id, []).append(rule)
    return {
        k.pk: Limits.from_rule(
            _pick(by_kind.get(k.pk, []), user_id=user.pk, role=role), kind_id=k.pk
        )
        for k in kinds
    }


@dataclass
class Usage:
    """What is already promised on this case / to this customer, for one kind and currency.

    By default counts granted, pending, approved and issued remedies (not offered, rejected or
    cancelled): a proposal, and the search for its approver, count what is still waiting for
    a decision too. An approver's re-check passes `statuses=COST_STATUSES`: other requests
    still pending are not promised yet, and counting them would leave an approver unable to
    approve a small request because someone else has a large one waiting. `exclude_pk` is the
    remedy being decided. Each sum is one query, made on demand.
    """

    case: Case
    kind: RemedyKind
    currency: str
    now: datetime
    exclude_pk: int | None = None
    statuses: tuple[str, ...] = COUNTED_STATUSES
    _case_total: Decimal | None = None
    _customer_totals: dict[int, Decimal] = field(default_factory=dict)

    def _base(self) -> Q:
        q = Q(kind=self.kind, currency=self.currency, status__in=self.statuses)
        if self.exclude_pk is not None:
            q &= ~Q(pk=self.exclude_pk)
        return q

    def case_total(self) -> Decimal:
        if self._case_total is None:
            total = Remedy.objects.filter(self._base(), case_id=self.case.pk).aggregate(
                total=Sum("amount")
            )["total"]
            self._case_total = total or ZERO
        return self._case_total

    def customer_total(self, period_days: int) -> Decimal:
        if period_days not in self._customer_totals:
            since = self.now - timedelta(days=period_days)
            total = Remedy.objects.filter(
                self._base(), customer_id=self.case.customer_id, created_at__gte=since
            ).aggregate(total=Sum("amount"))["total"]
            self._customer_totals[period_days] = total or ZERO
        return self._customer_totals[period_days]


def limits_check(*, limits: Limits, amount: Decimal | None, usage: Usage) -> list[Breach]:
    """Every limit this remedy would break; empty means it is within authority."""
    if not limits.allowed:
        return [Breach("not_allowed", None, None)]
    if amount is None:
        return []
    breaches = []
    if limits.max_per_remedy is not None and amount > limits.max_per_remedy:
        breaches.append(Breach("max_per_remedy", limits.max_per_remedy, amount))
    if limits.max_per_case is not None:
        total = usage.case_total() + amount
        if total > limits.max_per_case:
            breaches.append(Breach("max_per_case", limits.max_per_case, total))
    if limits.max_per_customer is not None and limits.period_days:
        total = usage.customer_total(limits.period_days) + amount
        if total > limits.max_per_customer:
            breaches.append(Breach("max_per_customer", limits.max_per_customer, total))
    return breaches


def headroom(*, limits: Limits, usage: Usage) -> Decimal | None:
    """The largest amount still within authority (None: no amount limit; 0: none left)."""
    if not limits.allowed:
        return ZERO
    left: list[Decimal] = []
    if limits.max_per_remedy is not None:
        left.append(limits.max_per_remedy)
    if limits.max_per_case is not None:
        left.append(limits.max_per_case - usage.case_total())
    if limits.max_per_customer is not None and limits.period_days:
        left.append(limits.max_per_customer - usage.customer_total(limits.period_days))
    if not left:
        return None
    return max(min(left), ZERO)


def approver_find(
    *,
    above: User,
    kind: RemedyKind,
    amount: Decimal | None,
    usage: Usage,
    exclude: set[int],
) -> User | None:
    """The nearest person above `above` whose own authority covers the remedy.

    Nearest means: `above`'s own team first, lowest role first (a supervisor before a
    manager), then up the roles; ties go by username. Only people who can see the case are
    asked (as `case_visible_to` decides: its team, its assignee, or managers and admins for
    every team; anyone for a case with no team): an approver must be able to open the case
    they decide on, so a supervisor of another team is never picked.
    """
    base = staff_profile_of(user=above)
    higher = [role for role, rank in ROLE_RANK.items() if rank > base.rank]
    if not higher:
        return None
    case = usage.case
    people = case_viewers(
        case=case, people=User.objects.filter(is_active=True, staff__role__in=higher)
    )
    candidates = list(people.exclude(pk__in=exclude).select_related("staff"))
    if not candidates:
        return None
    candidates.sort(
        key=lambda u: (
            0 if base.team_id is not None and u.staff.team_id == base.team_id else 1,
            ROLE_RANK[u.staff.role],
            u.username,
        )
    )
    limits = limits_for_users(users=candidates, kind=kind)
    for candidate in candidates:
        if not limits_check(limits=limits[candidate.pk], amount=amount, usage=usage):
            return candidate
    return None
