"""Case export to CSV or JSON Lines, streamed (flat memory), with the API's filters."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import datetime
from typing import IO, Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from amends.cases.models import Case, case_ref
from amends.cases.selectors import CaseFilters, case_list

EXPORT_FIELDS = (
    "id",
    "status",
    "channel",
    "title",
    "description",
    "expected",
    "delivered",
    "severity",
    "fault",
    "outcome",
    "customer_id",
    "customer__name",
    "customer__email",
    "customer__external_ref",
    "category__name",
    "category__parent__name",
    "service__name",
    "team__name",
    "assignee__username",
    "created_at",
    "acknowledged_at",
    "resolved_at",
    "closed_at",
    "ack_due_at",
    "resolve_due_at",
    "sla_due_at",
)
HEADER = ("ref", *EXPORT_FIELDS)


def cases_for_export(*, user: User | None, filters: CaseFilters) -> QuerySet[Case]:
    """With a user: what they may see (the API's rules). Without: every case (operators)."""
    if user is not None:
        return case_list(user=user, filters=filters)
    qs = Case.objects.all()
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.team_id is not None:
        qs = qs.filter(team_id=filters.team_id)
    if filters.category_id is not None:
        qs = qs.filter(category_id=filters.category_id)
    if filters.severity is not None:
        qs = qs.filter(severity=filters.severity)
    if filters.customer_id is not None:
        qs = qs.filter(customer_id=filters.customer_id)
    if filters.open_only:
        qs = qs.filter(sla_due_at__isnull=False)
    return qs


def _rows(qs: QuerySet[Case]) -> Iterator[dict[str, Any]]:
    for row in qs.order_by("id").values(*EXPORT_FIELDS).iterator(chunk_size=2000):
        yield {"ref": case_ref(row["id"]), **row}


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def cases_export(*, qs: QuerySet[Case], out: IO[str], fmt: str) -> int:
    count = 0
    if fmt == "csv":
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for row in _rows(qs):
            writer.writerow([_plain(row[name]) if row[name] is not None else "" for name in HEADER])
            count += 1
    elif fmt == "jsonl":
        for row in _rows(qs):
            out.write(json.dumps({k: _plain(v) for k, v in row.items()}, ensure_ascii=False))
            out.write("\n")
            count += 1
    else:
        raise ValueError(f"unknown format {fmt!r}")
    return count
