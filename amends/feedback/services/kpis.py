"""KPI facts and their daily sums.

When a case is resolved its measures are written once to `CaseKpi` (business-hours times
counted in the case's calendar, steps, promises, remedies). `KpiDay` holds the sums per
organisation day (the calendar day in the organisation's time zone), team and person, and
`KpiMonth` per organisation month: a bucket is recomputed from the facts whenever one of them
changes, so it is always exactly the sum of its facts. `kpi_sums_rebuild` replaces every bucket
set-based (after the organisation's time zone changes), `kpi_rebuild` redoes the facts too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Min, Q, Sum
from django.db.models.functions import TruncDate

from amends.accounts.models import StaffProfile
from amends.cases.choices import StepState
from amends.cases.models import Case
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.core.organisation import organisation, organisation_days
from amends.feedback.models import CaseKpi, Compliment, KpiDay, KpiMonth, Survey
from amends.feedback.selectors import SUM_FIELDS
from amends.policies.business_hours import business_time_between
from amends.policies.selectors import business_calendar_for
from amends.remedies.choices import COUNTED_STATUSES
from amends.remedies.models import Remedy


def bucket_key(day: date, team_id: int | None, person_id: int | None) -> str:
    return f"{day.isoformat()}:{team_id or 0}:{person_id or 0}"


def kpi_day(at: datetime) -> date:
    """The organisation's calendar day of a moment: the day its sums count it on."""
    return at.astimezone(organisation().zone).date()


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
        kpi_day(previous.resolved_at) != kpi_day(fact.resolved_at)
        or previous.team_id != fact.team_id
        or previous.person_id != fact.person_id
    ):
        kpi_bucket_refresh(
            day=kpi_day(previous.resolved_at),
            team_id=previous.team_id,
            person_id=previous.person_id,
        )
    kpi_bucket_refresh(
        day=kpi_day(fact.resolved_at), team_id=fact.team_id, person_id=fact.person_id
    )
    return fact


def _who(field_team: str, field_person: str, team_id: int | None, person_id: int | None) -> Q:
    return Q(**{field_team: team_id} if team_id else {f"{field_team}__isnull": True}) & Q(
        **{field_person: person_id} if person_id else {f"{field_person}__isnull": True}
    )


def _fact_sums() -> dict[str, Any]:
    return {
        "resolved": Count("pk"),
        "ack_count": Count("ack_seconds"),
        "ack_seconds": Sum("ack_seconds"),
        "resolve_count": Count("resolve_seconds"),
        "resolve_seconds": Sum("resolve_seconds"),
        "steps_all_done": Count("pk", filter=Q(steps_all_done=True)),
        "promises_due": Sum("promises_due"),
        "promises_kept_on_time": Sum("promises_kept_on_time"),
        "remedies": Sum("remedies"),
        "remedies_within_authority": Sum("remedies_within_authority"),
    }


def _answer_sums() -> dict[str, Any]:
    return {
        "answered": Count("pk"),
        "csat_count": Count("csat"),
        "csat_sum": Sum("csat"),
        "csat_satisfied": Count("pk", filter=Q(csat__gte=4)),
        "fair_outcome_count": Count("fair_outcome"),
        "fair_outcome_sum": Sum("fair_outcome"),
        "fair_process_count": Count("fair_process"),
        "fair_process_sum": Sum("fair_process"),
        "fair_treatment_count": Count("fair_treatment"),
        "fair_treatment_sum": Sum("fair_treatment"),
    }


def _approval_sums() -> dict[str, Any]:
    return {"approvals_decided": Count("pk"), "approval_seconds": Sum("decision_seconds")}


def _decisions() -> Any:
    """Approval decisions that count: timed, by someone. They count for the decider, in the
    team the decider is in now."""
    return Remedy.objects.filter(
        decided_at__isnull=False, decision_seconds__isnull=False, decided_by__isnull=False
    )


def _sums(day: date, team_id: int | None, person_id: int | None) -> dict[str, int]:
    start, end = organisation_days(day, day)
    facts = CaseKpi.objects.filter(
        _who("team_id", "person_id", team_id, person_id),
        resolved_at__gte=start,
        resolved_at__lt=end,
    ).aggregate(**_fact_sums())
    answers = Survey.objects.filter(
        _who("team_id", "staff_id", team_id, person_id),
        answered_at__gte=start,
        answered_at__lt=end,
    ).aggregate(**_answer_sums())
    compliments = Compliment.objects.filter(
        _who("team_id", "staff_id", team_id, person_id), created_at__gte=start, created_at__lt=end
    ).count()
    approvals: dict[str, Any] = {"approvals_decided": 0, "approval_seconds": 0}
    if person_id is not None:
        person_team = (
            StaffProfile.objects.filter(user_id=person_id).values_list("team_id", flat=True).first()
        )
        if person_team == team_id:
            approvals = (
                _decisions()
                .filter(decided_by_id=person_id, decided_at__gte=start, decided_at__lt=end)
                .aggregate(**_approval_sums())
            )
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
        day=kpi_day(fact.resolved_at), team_id=fact.team_id, person_id=fact.person_id
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
        day=kpi_day(cast(datetime, row["decided_at"])),
        team_id=team_id,
        person_id=row["decided_by_id"],
    )


def kpi_rebuild(*, since: datetime | None = None, batch: int = 2000) -> dict[str, int]:
    """Recompute every resolved case's facts (since a moment) and then the sums (from the
    first of that moment's organisation month). Re-runnable; used after an upgrade or an
    import."""
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
    sums = kpi_sums_rebuild(since=kpi_day(since) if since is not None else None)
    return {"facts": facts, "buckets": sums["days"], "months": sums["months"]}


Bucket = tuple[date, int | None, int | None]


def _grouped(
    rows: Iterable[dict[str, Any]], person: str, into: dict[Bucket, dict[str, int]]
) -> None:
    for row in rows:
        slot = into[(row.pop("day"), row.pop("team_id"), row.pop(person))]
        for name, value in row.items():
            slot[name] += int(value or 0)


def _sources() -> list[tuple[Any, str, str, dict[str, Any]]]:
    return [
        (CaseKpi.objects.all(), "resolved_at", "person_id", _fact_sums()),
        (
            Survey.objects.filter(answered_at__isnull=False),
            "answered_at",
            "staff_id",
            _answer_sums(),
        ),
        (Compliment.objects.all(), "created_at", "staff_id", {"compliments": Count("pk")}),
        (_decisions(), "decided_at", "decided_by_id", _approval_sums()),
    ]


def kpi_day_sums(*, zone: ZoneInfo, first: date, after: date) -> dict[Bucket, dict[str, int]]:
    """Every (organisation day, team, person) bucket's sums for the days from `first` to
    before `after`, read with one GROUP BY per source (facts, answers, compliments, approval
    decisions) over an index range: what `kpi_bucket_refresh` computes one bucket at a time."""
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    end = datetime.combine(after, datetime.min.time(), tzinfo=zone)
    sums: dict[Bucket, dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUM_FIELDS, 0))
    teams: dict[int, int | None] | None = None
    for qs, at, person, aggregates in _sources():
        by = ["day", person] if at == "decided_at" else ["day", "team_id", person]
        rows = (
            qs.filter(**{f"{at}__gte": start, f"{at}__lt": end})
            .annotate(day=TruncDate(at, tzinfo=zone))
            .values(*by)
            .annotate(**aggregates)
            .order_by()
        )
        if at == "decided_at":
            # A decision counts for the decider, in the team the decider is in now.
            found = list(rows)
            if found and teams is None:
                teams = dict(StaffProfile.objects.values_list("user_id", "team_id"))
            rows = [{**row, "team_id": (teams or {}).get(row[person])} for row in found]
        _grouped(rows, person, sums)
    return sums


def _months_span(zone: ZoneInfo, since: date | None) -> tuple[date, date] | None:
    """The first and last organisation month that has a sum or a source row (or, with
    `since`, from that day's month on)."""
    ends: list[date] = []
    for model, field in ((KpiDay, "day"), (KpiMonth, "month")):
        span = model.objects.aggregate(low=Min(field), high=Max(field))
        ends += [d for d in (span["low"], span["high"]) if d is not None]
    for qs, at, _, _ in _sources():
        span = qs.aggregate(low=Min(at), high=Max(at))
        ends += [m.astimezone(zone).date() for m in (span["low"], span["high"]) if m is not None]
    if not ends:
        return None
    low = max(min(ends), since) if since is not None else min(ends)
    high = max(ends)
    if high < low:
        return None
    return low.replace(day=1), high.replace(day=1)


def kpi_sums_rebuild(*, since: date | None = None) -> dict[str, int]:
    """Replace the daily and monthly sums (all of them, or from the month of an organisation day
    on) with the sums of the facts, answers, compliments and decisions by the organisation's
    current calendar: run after changing the organisation's time zone, whose days the rows were
    keyed by. Set-based, one organisation month per transaction (a GROUP BY per source over an
    index range, bulk inserts), so no transaction holds SQLite's write lock for long."""
    zone = organisation().zone
    span = _months_span(zone, since)
    written = {"days": 0, "months": 0}
    if span is None:
        return written
    month, last = span
    while month <= last:
        after = _next_month(month)
        with transaction.atomic():
            days, months = _month_replace(zone, month, after)
        written["days"] += days
        written["months"] += months
        month = after
    return written


def _next_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _month_replace(zone: ZoneInfo, month: date, after: date) -> tuple[int, int]:
    days = {
        bucket: measures
        for bucket, measures in kpi_day_sums(zone=zone, first=month, after=after).items()
        if any(measures.values())
    }
    totals: dict[tuple[int | None, int | None], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(SUM_FIELDS, 0)
    )
    for (_, team_id, person_id), measures in days.items():
        slot = totals[(team_id, person_id)]
        for name, value in measures.items():
            slot[name] += value
    KpiDay.objects.filter(day__gte=month, day__lt=after).delete()
    KpiMonth.objects.filter(month=month).delete()
    KpiDay.objects.bulk_create(
        [
            KpiDay(
                key=bucket_key(day, team_id, person_id),
                day=day,
                team_id=team_id,
                person_id=person_id,
                **measures,
            )
            for (day, team_id, person_id), measures in sorted(days.items(), key=_order)
        ],
        batch_size=1000,
    )
    KpiMonth.objects.bulk_create(
        [
            KpiMonth(
                key=bucket_key(month, team_id, person_id),
                month=month,
                team_id=team_id,
                person_id=person_id,
                **measures,
            )
            for (team_id, person_id), measures in sorted(
                totals.items(), key=lambda item: (item[0][0] or 0, item[0][1] or 0)
            )
        ],
        batch_size=1000,
    )
    return len(days), len(totals)


def _order(item: tuple[Bucket, dict[str, int]]) -> tuple[date, int, int]:
    (day, team_id, person_id), _ = item
    return day, team_id or 0, person_id or 0
