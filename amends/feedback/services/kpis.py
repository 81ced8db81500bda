"""KPI facts and their daily sums.

When a case is resolved its measures are written once to `CaseKpi` (business-hours times
counted in the case's calendar, steps, promises, remedies). `KpiDay` holds the sums per UTC
day, team and person: a bucket is recomputed from the facts whenever one of them changes, so
it is always exactly the sum of its facts (and `kpi_rebuild` can redo them all).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any, cast

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q, Sum

from amends.accounts.models import StaffProfile
from amends.cases.choices import StepState
from amends.cases.models import Case
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.feedback.models import CaseKpi, Compliment, KpiDay, KpiMonth, Survey
from amends.feedback.selectors import SUM_FIELDS
from amends.policies.business_hours import business_time_between
from amends.policies.selectors import business_calendar_for
from amends.remedies.choices import COUNTED_STATUSES
from amends.remedies.models import Remedy


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def bucket_key(day: date, team_id: int | None, person_id: int | None) -> str:
    return f"{day.isoformat()}:{team_id or 0}:{person_id or 0}"


def utc_day(at: datetime) -> date:
    return at.astimezone(UTC).date()


def case_kpi_record(*, case_id: int, refresh: bool = True) -> CaseKpi | None:
    """Write (or rewrite) a resolved case's measures and refresh its day's sums."""
    case = Case.objects.select_related("playbook").filter(pk=case_id).first()
    if case is None or case.resolved_at is None:
        return None
    if case.merged_into_id is not None:
        # A duplicate merged into another case: the survivor carries the measures.
        case_kpi_forget(case_id=case_id)
        return None
    previous = CaseKpi.objects.filter(case_id=case_id).first()
    calendar = business_calendar_for(playbook=case.playbook)
    ack = None
    if case.acknowledged_at is not None:
        ack = business_time_between(
            calendar=calendar, start=case.created_at, end=case.acknowledged_at
        )
    total = business_time_between(calendar=calendar, start=case.created_at, end=case.resolved_at)
    # Time awaiting the customer is theirs, not ours: it does not count.
    resolve = max(0, int(total.total_seconds()) - case.sla_paused_seconds)
    steps_pending = case.steps.filter(required=True).exclude(state=StepState.DONE).exists()
    promises = Commitment.objects.filter(
        case_id=case_id, status__in=[CommitmentStatus.KEPT, CommitmentStatus.BROKEN]
    ).aggregate(
        due=Count("id"),
        on_time=Count("id", filter=Q(status=CommitmentStatus.KEPT, kept_at__lte=F("due_at"))),
    )
    remedies = Remedy.objects.filter(case_id=case_id, status__in=COUNTED_STATUSES).aggregate(
        total=Count("id"), within=Count("id", filter=Q(approval_requested_at__isnull=True))
    )
    fact = CaseKpi(
        case_id=case_id,
        team_id=case.team_id,
        person_id=case.assignee_id,
        resolved_at=case.resolved_at,
        ack_seconds=int(ack.total_seconds()) if ack is not None else None,
        resolve_seconds=resolve,
        steps_all_done=not steps_pending,
        promises_due=promises["due"],
        promises_kept_on_time=promises["on_time"],
        remedies=remedies["total"],
        remedies_within_authority=remedies["within"],
    )
    fact.save()
    if not refresh:
        return fact
    if previous is not None and (
        utc_day(previous.resolved_at) != utc_day(fact.resolved_at)
        or previous.team_id != fact.team_id
        or previous.person_id != fact.person_id
    ):
        kpi_bucket_refresh(
            day=utc_day(previous.resolved_at),
            team_id=previous.team_id,
            person_id=previous.person_id,
        )
    kpi_bucket_refresh(
        day=utc_day(fact.resolved_at), team_id=fact.team_id, person_id=fact.person_id
    )
    return fact


def _who(field_team: str, field_person: str, team_id: int | None, person_id: int | None) -> Q:
    return Q(**{field_team: team_id} if team_id else {f"{field_team}__isnull": True}) & Q(
        **{field_person: person_id} if person_id else {f"{field_person}__isnull": True}
    )


def _sums(day: date, team_id: int | None, person_id: int | None) -> dict[str, int]:
    start, end = _day_bounds(day)
    facts = CaseKpi.objects.filter(
        _who("team_id", "person_id", team_id, person_id),
        resolved_at__gte=start,
        resolved_at__lt=end,
    ).aggregate(
        resolved=Count("pk"),
        ack_count=Count("ack_seconds"),
        ack_seconds=Sum("ack_seconds"),
        resolve_count=Count("resolve_seconds"),
        resolve_seconds=Sum("resolve_seconds"),
        steps_all_done=Count("pk", filter=Q(steps_all_done=True)),
        promises_due=Sum("promises_due"),
        promises_kept_on_time=Sum("promises_kept_on_time"),
        remedies=Sum("remedies"),
        remedies_within_authority=Sum("remedies_within_authority"),
    )
    answers = Survey.objects.filter(
        _who("team_id", "staff_id", team_id, person_id),
        answered_at__gte=start,
        answered_at__lt=end,
    ).aggregate(
        answered=Count("pk"),
        csat_count=Count("csat"),
        csat_sum=Sum("csat"),
        csat_satisfied=Count("pk", filter=Q(csat__gte=4)),
        fair_outcome_count=Count("fair_outcome"),
        fair_outcome_sum=Sum("fair_outcome"),
        fair_process_count=Count("fair_process"),
        fair_process_sum=Sum("fair_process"),
        fair_treatment_count=Count("fair_treatment"),
        fair_treatment_sum=Sum("fair_treatment"),
    )
    compliments = Compliment.objects.filter(
        _who("team_id", "staff_id", team_id, person_id), created_at__gte=start, created_at__lt=end
    ).count()
    approvals: dict[str, Any] = {"approvals_decided": 0, "approval_seconds": 0}
    if person_id is not None:
        person_team = (
            StaffProfile.objects.filter(user_id=person_id).values_list("team_id", flat=True).first()
        )
        if person_team == team_id:
            approvals = Remedy.objects.filter(
                decided_by_id=person_id,
                decided_at__gte=start,
                decided_at__lt=end,
                decision_seconds__isnull=False,
            ).aggregate(approvals_decided=Count("pk"), approval_seconds=Sum("decision_seconds"))
    merged = {**facts, **answers, **approvals, "compliments": compliments}
    return {name: int(value or 0) for name, value in merged.items()}


def _upsert(
    model: type[KpiDay] | type[KpiMonth], key: str, sums: dict[str, int], **fields: Any
) -> None:
    if not any(sums.values()):
        model.objects.filter(key=key).delete()
        return
    if model.objects.filter(key=key).update(**sums):
        return
    try:
        with transaction.atomic():
            model.objects.create(key=key, **fields, **sums)
    except IntegrityError:  # another writer created the bucket: ours is the newer sum
        model.objects.filter(key=key).update(**sums)


def kpi_bucket_refresh(
    *, day: date, team_id: int | None, person_id: int | None, month: bool = True
) -> None:
    """Recompute one day's sums for one team and person from the facts, then that month's sums
    from its days (idempotent)."""
    _upsert(
        KpiDay,
        bucket_key(day, team_id, person_id),
        _sums(day, team_id, person_id),
        day=day,
        team_id=team_id,
        person_id=person_id,
    )
    if month:
        kpi_month_refresh(month=day.replace(day=1), team_id=team_id, person_id=person_id)


def kpi_month_refresh(*, month: date, team_id: int | None, person_id: int | None) -> None:
    first = month.replace(day=1)
    after = (first + timedelta(days=32)).replace(day=1)
    sums = KpiDay.objects.filter(
        _who("team_id", "person_id", team_id, person_id), day__gte=first, day__lt=after
    ).aggregate(**{name: Sum(name) for name in SUM_FIELDS})
    _upsert(
        KpiMonth,
        bucket_key(first, team_id, person_id),
        {name: int(value or 0) for name, value in sums.items()},
        month=first,
        team_id=team_id,
        person_id=person_id,
    )


def case_kpi_forget(*, case_id: int) -> None:
    """A reopened case has no resolve measures until it is resolved again."""
    fact = CaseKpi.objects.filter(case_id=case_id).first()
    if fact is None:
        return
    fact.delete()
    kpi_bucket_refresh(
        day=utc_day(fact.resolved_at), team_id=fact.team_id, person_id=fact.person_id
    )


def approval_decided_record(*, remedy_id: int) -> None:
    row = (
        Remedy.objects.filter(pk=remedy_id, decided_at__isnull=False)
        .values("decided_by_id", "decided_at")
        .first()
    )
    if row is None or row["decided_by_id"] is None:
        return
    team_id = (
        StaffProfile.objects.filter(user_id=row["decided_by_id"])
        .values_list("team_id", flat=True)
        .first()
    )
    kpi_bucket_refresh(
        day=utc_day(cast(datetime, row["decided_at"])),
        team_id=team_id,
        person_id=row["decided_by_id"],
    )


def kpi_rebuild(*, since: datetime | None = None, batch: int = 2000) -> dict[str, int]:
    """Recompute every resolved case's facts (since a time) and then every bucket they touch.
    Re-runnable; used after an upgrade and by the benchmark loader."""
    cases = Case.objects.filter(resolved_at__isnull=False)
    if since is not None:
        cases = cases.filter(resolved_at__gte=since)
    facts = 0
    last = 0
    while True:
        ids = list(cases.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            break
        with transaction.atomic():
            for case_id in ids:
                case_kpi_record(case_id=case_id, refresh=False)
                facts += 1
        last = ids[-1]
    buckets = kpi_buckets_rebuild(since=since)
    return {"facts": facts, "buckets": buckets}


def kpi_buckets_rebuild(*, since: datetime | None = None) -> int:
    """Every (day, team, person) that has a fact, an answer, a compliment or a decision."""
    seen: set[tuple[date, int | None, int | None]] = set()
    sources: list[tuple[Any, str, str, str]] = [
        (CaseKpi.objects.all(), "resolved_at", "team_id", "person_id"),
        (Survey.objects.filter(answered_at__isnull=False), "answered_at", "team_id", "staff_id"),
        (Compliment.objects.all(), "created_at", "team_id", "staff_id"),
    ]
    for qs, at, team, person in sources:
        if since is not None:
            qs = qs.filter(**{f"{at}__gte": since})
        for when, team_id, person_id in qs.values_list(at, team, person).iterator(chunk_size=5000):
            seen.add((when.astimezone(UTC).date(), team_id, person_id))
    decided = Remedy.objects.filter(decided_at__isnull=False, decision_seconds__isnull=False)
    if since is not None:
        decided = decided.filter(decided_at__gte=since)
    teams = dict(StaffProfile.objects.values_list("user_id", "team_id"))
    for when, person_id in decided.values_list("decided_at", "decided_by_id").iterator():
        if person_id is not None:
            seen.add((utc_day(cast(datetime, when)), teams.get(person_id), person_id))
    order = sorted(seen, key=lambda b: (b[0], b[1] or 0, b[2] or 0))
    for day, team_id, person_id in order:
        with transaction.atomic():
            kpi_bucket_refresh(day=day, team_id=team_id, person_id=person_id, month=False)
    for month, team_id, person_id in {(d.replace(day=1), t, p) for d, t, p in order}:
        with transaction.atomic():
            kpi_month_refresh(month=month, team_id=team_id, person_id=person_id)
    return len(seen)
