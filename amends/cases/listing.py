"""Search, sort and totals for case lists (the queues and `GET /api/v1/cases`).

Search narrows `cases.selectors.case_list`, so it sees exactly what the list would show this
user (the same visibility rule, the same filters); see amends/cases/search.py for the index.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import connections
from django.db.models import Case, QuerySet, Value, When
from django.db.models.expressions import RawSQL

from amends.cases.models import Case as CaseModel
from amends.cases.models import case_pk_from_ref
from amends.cases.search import (
    SEARCH_WINDOW,
    search_candidates_sql,
    search_strong_sql,
    search_terms,
)
from amends.cases.selectors import CaseFilters, case_list
from amends.core.conf import amends_setting
from amends.core.exceptions import ApplicationError

# Sort keys people can choose; each is served by an index on (field, sla_due_at, id) or
# created_at (see Case.Meta.indexes).
SORTS: dict[str, tuple[str, ...]] = {
    "due": ("sla_due_at", "id"),
    "-due": ("-sla_due_at", "-id"),
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "severity": ("severity", "sla_due_at", "id"),
    "-severity": ("-severity", "sla_due_at", "id"),
    # Most upset first: the attention the floors above read in the customer's words
    # (configurable weights; see insight), then the nearest due.
    "attention": ("-attention", "sla_due_at", "id"),
}
SORT_LABELS: dict[str, str] = {
    "relevance": "Best match",
    "due": "Due soonest",
    "-due": "Due latest",
    "newest": "Newest",
    "oldest": "Oldest",
    "severity": "Most severe",
    "-severity": "Least severe",
    "attention": "Most upset first",
}
MAX_QUERY_LENGTH = 200
REF_TEXT = re.compile(r"^\s*AM-0*\d{1,12}\s*$", re.IGNORECASE)
EMAIL_TEXT = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
# Totals are exact up to this many rows; above, the list says "more than …" (a full COUNT
# over a million cases costs more than the page itself).
COUNT_CAP = 1_000


def _sort_clean(sort: str | None, *, searching: bool) -> str | None:
    if not sort:
        return None
    if sort == "relevance":  # without search text there is nothing to rank: the default order
        return sort if searching else None
    if sort not in SORTS:
        allowed = ", ".join(["relevance", *SORTS]) if searching else ", ".join(SORTS)
        raise ApplicationError(
            f"Unknown sort {sort!r}; use one of {allowed}.",
            code="invalid_filter",
            status=422,
            detail={"sort": [f"Use one of {allowed}."]},
        )
    return sort


def case_list_search(
    *,
    user: User,
    filters: CaseFilters | None = None,
    text: str | None = None,
    sort: str | None = None,
) -> QuerySet[CaseModel]:
    """`case_list` narrowed to cases matching every word of `text` (reference, title,
    customer's name, email or phone, the customer's account), best match first unless `sort`
    says otherwise: matches in the reference, title or customer before matches only in the
    account, newest first within each. A common word considers the newest SEARCH_WINDOW
    matching cases."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_LENGTH:
        raise ApplicationError(
            f"Search text is limited to {MAX_QUERY_LENGTH} characters.",
            code="invalid_filter",
            status=422,
            detail={"q": [f"At most {MAX_QUERY_LENGTH} characters."]},
        )
    searching = bool(text)
    chosen = _sort_clean(sort, searching=searching)
    qs = case_list(user=user, filters=filters)
    if searching and REF_TEXT.match(text):
        # A reference ("AM-000123"): the case itself, no index needed.
        return qs.filter(pk=case_pk_from_ref(text) or 0)
    if searching:
        if not search_terms(text):
            return qs.none()
        vendor = connections[qs.db].vendor
        relevance = chosen in (None, "relevance")
        # The index is read here, once: the page, its total and the ranking then filter on
        # these ids (at most SEARCH_WINDOW) instead of each evaluating the search again.
        candidates, strong = _search_ids(qs.db, vendor, text, with_strong=relevance)
        if not candidates:
            return qs.none()
        qs = qs.filter(pk__in=_ids_sql(vendor, candidates))
        if relevance:
            rank = Case(When(pk__in=_ids_sql(vendor, strong), then=Value(0)), default=Value(1))
            return qs.annotate(search_rank=rank).order_by("search_rank", "-id")
    if chosen is not None:
        qs = qs.order_by(*SORTS[chosen])
    return qs


def _ids_sql(vendor: str, ids: list[int]) -> RawSQL:
    """A list of ids as one bound parameter (not a placeholder per id)."""
    if vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", [ids])
    return RawSQL("SELECT value FROM json_each(%s)", [json.dumps(ids)])


def _search_ids(
    db: str, vendor: str, text: str, *, with_strong: bool
) -> tuple[list[int], list[int]]:
    """The ids of the newest SEARCH_WINDOW cases matching `text`, and (`with_strong`) those
    matching it in the reference, title or customer. An email address that is a customer's
    goes straight to that customer's cases through the email index: the index of words would
    intersect "com" and the domain, words in nearly every case, to find the same cases."""
    if EMAIL_TEXT.match(text):
        emails = list({text, text.lower()})
        ids = list(
            CaseModel.objects.using(db)
            .filter(customer__email__in=emails)
            .order_by("-id")
            .values_list("pk", flat=True)[:SEARCH_WINDOW]
        )
        if ids:
            return ids, ids
    with connections[db].cursor() as cursor:
        # The SQL is constant; the search words are bound parameters.
        cursor.execute(*search_candidates_sql(vendor, text))
        candidates = [row[0] for row in cursor.fetchall()]
        strong: list[int] = []
        if with_strong and candidates:
            cursor.execute(*search_strong_sql(vendor, text, candidates))
            strong = [row[0] for row in cursor.fetchall()]
    return candidates, strong


@dataclass(frozen=True)
class Total:
    count: int
    capped: bool

    def __str__(self) -> str:
        return f"more than {self.count:,}" if self.capped else f"{self.count:,}"


def case_count(queryset: QuerySet[CaseModel], *, cap: int = COUNT_CAP) -> Total:
    """How many rows `queryset` has, counting at most `cap` + 1 of them."""
    # The list's own order stays: it is what lets the database walk an index (a queue's
    # (…, sla_due_at) index) instead of scanning the table for the rows to count.
    counted = queryset.values("pk")[: cap + 1].count()
    return Total(count=min(counted, cap), capped=counted > cap)


def case_queue_search(
    *,
    user: User,
    team_id: int | None = None,
    mine: bool = False,
    unrouted: bool = False,
    filters: CaseFilters | None = None,
    text: str | None = None,
    sort: str | None = None,
) -> QuerySet[CaseModel]:
    """A queue (open cases, see `case_queue`) searched and sorted like `case_list_search`.
    Without a sort (and without search text) the organisation's QUEUE_DEFAULT_SORT applies:
    "attention" raises upset and at-risk customers above the nearest due."""
    if not sort and not (text or "").strip():
        default = amends_setting("QUEUE_DEFAULT_SORT", "")
        sort = default if default in SORTS else None
    f = filters or CaseFilters()
    f.open_only = True
    if unrouted:
        f.unrouted = True
    if mine:
        f.assignee_id = user.pk
    if team_id is not None:
        f.team_id = team_id
    return case_list_search(user=user, filters=f, text=text, sort=sort)
