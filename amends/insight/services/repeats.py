"""Repeat failures: a new case of a customer who failed with us before.

Found through the customer's own cases (the index on (customer, created_at)), never by a scan
of all cases. A repeat raises the new case's severity as configured; a repeat after a broken
promise is a double deviation (marked on the case through the cases service)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import NamedTuple

from django.db import connection, transaction

from amends.cases.models import Case
from amends.cases.services.flags import case_mark_double_deviation
from amends.cases.services.workflow import case_update
from amends.commitments.choices import CommitmentStatus
from amends.commitments.models import Commitment
from amends.core import hooks
from amends.core.conf import amends_setting
from amends.insight.choices import RepeatReason
from amends.insight.models import RepeatLink
from amends.insight.services.scoring import case_insight_apply

# A customer with hundreds of cases is checked against their most recent ones only.
MAX_EARLIER = 100
_WORD = re.compile(r"[a-z][a-z'-]{2,}")
STOPWORDS = frozenset(
    [
        "the",
        "and",
        "for",
        "you",
        "your",
        "our",
        "with",
        "that",
        "this",
        "have",
        "has",
        "had",
        "was",
        "were",
        "are",
        "not",
        "but",
        "from",
        "they",
        "them",
        "been",
        "will",
        "would",
        "could",
        "should",
        "there",
        "their",
        "what",
        "when",
        "which",
        "who",
        "about",
        "into",
        "than",
        "then",
        "also",
        "just",
        "very",
        "some",
        "any",
        "all",
        "can",
        "cannot",
        "can't",
        "don't",
        "didn't",
        "its",
        "it's",
        "i'm",
        "i've",
        "my",
        "me",
        "we",
        "us",
        "his",
        "her",
        "she",
        "him",
        "he",
    ]
)


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text[:4000].lower()) if w not in STOPWORDS}


def _dice(left: set[str], right: set[str]) -> float:
    if not left or not right:
        return 0.0
    return 2 * len(left & right) / (len(left) + len(right))


def text_similarity(a: str, b: str) -> float:
    """Overlap of two texts' content words (Dice coefficient, 0-1)."""
    return _dice(_words(a), _words(b))


@transaction.atomic
def repeat_detect(*, case: Case) -> list[RepeatLink]:
    """Link a new case to the customer's earlier failures and mark it a repeat."""
    return repeat_links_write(case=case)


class _Earlier(NamedTuple):
    id: int
    category_id: int | None
    service_id: int | None
    title: str
    description: str
    double_deviation: bool


_EARLIER_COLUMNS = ("id", "category_id", "service_id", "title", "description", "double_deviation")


def _earlier_cases(
    *, customer_id: int, since: datetime, until: datetime, exclude_case_id: int | None
) -> list[_Earlier]:
    """The customer's cases opened in [since, until], newest first, at most MAX_EARLIER: one
    fixed statement on the (customer, created_at) index. Every case opens with this read, and
    the ORM's compiling of the same query cost ten times its running (0.9 against 0.07 ms)."""
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in _EARLIER_COLUMNS)
    sql = (
        f"SELECT {columns} FROM {quote(Case._meta.db_table)}"  # noqa: S608 - names from metadata
        " WHERE customer_id = %s AND created_at >= %s AND created_at <= %s AND id <> %s"
        " ORDER BY created_at DESC, id DESC LIMIT %s"
    )
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            sql,
            [customer_id, adapt(since), adapt(until), exclude_case_id or 0, MAX_EARLIER],
        )
        return [
            _Earlier(pk, category, service, title, description, bool(double))
            for pk, category, service, title, description, double in cursor.fetchall()
        ]


def repeat_links_find(
    *,
    customer_id: int,
    category_id: int | None,
    service_id: int | None,
    text: str,
    now: datetime,
    exclude_case_id: int | None = None,
) -> tuple[list[RepeatLink], bool]:
    """The customer's earlier cases a new one repeats, as unsaved links without their case,
    and whether it is a double deviation (a promise broken on one of them, or one already was).
    Usable before the new case is saved (intake review). Two queries at most."""
    window = int(amends_setting("REPEAT_WINDOW_DAYS", 180))
    threshold = float(amends_setting("REPEAT_TEXT_SIMILARITY", 0.35))
    earlier = _earlier_cases(
        customer_id=customer_id,
        since=now - timedelta(days=window),
        until=now,
        exclude_case_id=exclude_case_id,
    )
    if not earlier:
        return [], False
    words = _words(text)
    links: list[RepeatLink] = []
    for old in earlier:
        reasons: list[str] = []
        if category_id is not None and old.category_id == category_id:
            reasons.append(RepeatReason.SAME_CATEGORY)
        if service_id is not None and old.service_id == service_id:
            reasons.append(RepeatReason.SAME_SERVICE)
        similarity = _dice(words, _words(old.description or old.title))
        if similarity >= threshold:
            reasons.append(RepeatReason.SIMILAR_TEXT)
        if reasons:
            links.append(
                RepeatLink(
                    earlier_case_id=old.id,
                    reasons=[str(r) for r in reasons],
                    similarity=round(similarity, 3),
                )
            )
    if not links:
        return [], False
    earlier_ids = [link.earlier_case_id for link in links]
    broken = set(
        Commitment.objects.filter(
            case_id__in=earlier_ids, status=CommitmentStatus.BROKEN
        ).values_list("case_id", flat=True)
    )
    flagged = {old.id for old in earlier if old.double_deviation}
    for link in links:
        link.broken_promise = link.earlier_case_id in broken or link.earlier_case_id in flagged
    return links, any(link.broken_promise for link in links)


def repeat_links_save(
    *,
    case: Case,
    links: list[RepeatLink],
    double: bool,
    raise_severity: bool,
    sync_case: bool = True,
    at_intake: bool = False,
    insight_row: bool = True,
) -> Case:
    """Write found links for a saved case: the links, the severity raised (unless the intake
    already raised it), a double deviation marked, the case's insight row, and the
    `repeat_failure_detected` hook (`at_intake`: from the `case_opened` reaction). The caller
    holds a transaction. `insight_row=False`: the caller writes the insight row itself (the
    intake, with the description's score: one INSERT instead of an INSERT, a read and an
    UPDATE)."""
    for link in links:
        link.case = case
    RepeatLink.objects.bulk_create(links, ignore_conflicts=True)
    step = int(amends_setting("REPEAT_SEVERITY_STEP", 1))
    if raise_severity and step > 0 and case.severity > 1:
        case = case_update(
            case=case, version=None, actor=None, severity=max(1, case.severity - step)
        )
    if double and not case.double_deviation:
        case = case_mark_double_deviation(
            case=case, cause="repeat_after_broken_promise", actor=None
        )
    if insight_row:
        case_insight_apply(
            case_id=case.pk, repeat=True, double_deviation=double, sync_case=sync_case
        )
    hooks.repeat_failure_detected.emit(
        hooks.RepeatFailureDetected(
            case_id=case.pk,
            customer_id=case.customer_id,
            earlier_case_ids=tuple(link.earlier_case_id for link in links),
            double_deviation=double,
            at_intake=at_intake,
        )
    )
    return case


def repeat_links_write(*, case: Case, at_intake: bool = False) -> list[RepeatLink]:
    """repeat_detect's work, for a caller that already holds a transaction."""
    # The customer's account, not the title (staff titles are often generic: "Service failure").
    links, double = repeat_links_find(
        customer_id=case.customer_id,
        category_id=case.category_id,
        service_id=case.service_id,
        text=case.description or case.title,
        now=case.created_at,
        exclude_case_id=case.pk,
    )
    if links:
        repeat_links_save(
            case=case, links=links, double=double, raise_severity=True, at_intake=at_intake
        )
    return links
