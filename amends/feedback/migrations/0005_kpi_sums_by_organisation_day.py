"""Re-key the KPI sums by the organisation's days.

Earlier versions kept `KpiDay` per UTC day (and `KpiMonth` per UTC month). This replaces both
with the sums of the facts, answers, compliments and approval decisions by the calendar days of
the organisation's time zone (its saved settings, else TIME_ZONE), set-based: one GROUP BY per
source, bulk inserts, one GROUP BY for the months. Going back re-keys them by UTC days again.
Self-contained on purpose (historical models only), like every migration.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.db import migrations
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncDate, TruncMonth

SUM_FIELDS = (
    "resolved",
    "ack_count",
    "ack_seconds",
    "resolve_count",
    "resolve_seconds",
    "steps_all_done",
    "promises_due",
    "promises_kept_on_time",
    "remedies",
    "remedies_within_authority",
    "answered",
    "csat_count",
    "csat_sum",
    "csat_satisfied",
    "fair_outcome_count",
    "fair_outcome_sum",
    "fair_process_count",
    "fair_process_sum",
    "fair_treatment_count",
    "fair_treatment_sum",
    "approvals_decided",
    "approval_seconds",
    "compliments",
)


def organisation_zone(apps: Any) -> ZoneInfo:
    row = apps.get_model("core", "Organisation").objects.filter(pk=1).first()
    name = row.time_zone if row is not None else str(settings.TIME_ZONE or "UTC")
    return ZoneInfo(name if name in available_timezones() else "UTC")


def _key(day: date, team_id: int | None, person_id: int | None) -> str:
    return f"{day.isoformat()}:{team_id or 0}:{person_id or 0}"


def sums_rebuild(apps: Any, zone: ZoneInfo) -> None:
    feedback = {
        name: apps.get_model("feedback", name)
        for name in ("CaseKpi", "Survey", "Compliment", "KpiDay", "KpiMonth")
    }
    remedy = apps.get_model("remedies", "Remedy")
    profile = apps.get_model("accounts", "StaffProfile")
    days: dict[tuple[Any, ...], dict[str, int]] = defaultdict(lambda: dict.fromkeys(SUM_FIELDS, 0))

    def add(rows: Any, person: str) -> None:
        for row in rows:
            slot = days[(row.pop("day"), row.pop("team_id"), row.pop(person))]
            for name, value in row.items():
                slot[name] += int(value or 0)

    def by_day(qs: Any, at: str, person: str, **aggregates: Any) -> Any:
        return (
            qs.annotate(day=TruncDate(at, tzinfo=zone))
            .values("day", "team_id", person)
            .annotate(**aggregates)
            .order_by()
        )

    add(
        by_day(
            feedback["CaseKpi"].objects.all(),
            "resolved_at",
            "person_id",
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
        ),
        "person_id",
    )
    add(
        by_day(
            feedback["Survey"].objects.filter(answered_at__isnull=False),
            "answered_at",
            "staff_id",
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
        ),
        "staff_id",
    )
    add(
        by_day(
            feedback["Compliment"].objects.all(),
            "created_at",
            "staff_id",
            compliments=Count("pk"),
        ),
        "staff_id",
    )
    # Approval decisions count for the decider, in the team the decider is in now.
    teams = dict(profile.objects.values_list("user_id", "team_id"))
    decisions = (
        remedy.objects.filter(
            decided_at__isnull=False, decision_seconds__isnull=False, decided_by__isnull=False
        )
        .annotate(day=TruncDate("decided_at", tzinfo=zone))
        .values("day", "decided_by_id")
        .annotate(approvals_decided=Count("pk"), approval_seconds=Sum("decision_seconds"))
        .order_by()
    )
    add(({**row, "team_id": teams.get(row["decided_by_id"])} for row in decisions), "decided_by_id")

    kpi_day, kpi_month = feedback["KpiDay"], feedback["KpiMonth"]
    kpi_day.objects.all().delete()
    kpi_month.objects.all().delete()
    kpi_day.objects.bulk_create(
        [
            kpi_day(
                key=_key(*bucket), day=bucket[0], team_id=bucket[1], person_id=bucket[2], **sums
            )
            for bucket, sums in days.items()
            if any(sums.values())
        ],
        batch_size=1000,
    )
    months = (
        kpi_day.objects.annotate(month=TruncMonth("day"))
        .values("month", "team_id", "person_id")
        .annotate(**{name: Sum(name) for name in SUM_FIELDS})
        .order_by()
    )
    kpi_month.objects.bulk_create(
        [
            kpi_month(
                key=_key(row["month"], row["team_id"], row["person_id"]),
                month=row["month"],
                team_id=row["team_id"],
                person_id=row["person_id"],
                **{name: int(row[name] or 0) for name in SUM_FIELDS},
            )
            for row in months
        ],
        batch_size=1000,
    )


def by_organisation_days(apps: Any, schema_editor: Any) -> None:
    sums_rebuild(apps, organisation_zone(apps))


def by_utc_days(apps: Any, schema_editor: Any) -> None:
    sums_rebuild(apps, ZoneInfo("UTC"))


class Migration(migrations.Migration):
    dependencies = [
        ("feedback", "0004_survey_email_portal"),
        ("core", "0002_organisation"),
        ("accounts", "0002_staff_time_zone"),
        ("remedies", "0002_seed_remedy_kinds"),
    ]

    operations = [migrations.RunPython(by_organisation_days, by_utc_days)]
