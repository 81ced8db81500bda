"""The apology coach on a case: check a draft (or a sent reply) and keep the coaching KPI."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from amends.cases.choices import MessageDirection
from amends.cases.models import Case, Message
from amends.insight.apology import ApologyReport, apology_check
from amends.insight.choices import CheckKind
from amends.insight.models import ApologyCheck


def customer_text_of(*, case: Case) -> str:
    """What the reply answers: the customer's latest message, else their account of the case."""
    latest = (
        Message.objects.filter(case=case, direction=MessageDirection.INBOUND)
        .order_by("-created_at", "-id")
        .values_list("body", flat=True)
        .first()
    )
    return latest or case.description


def _first_draft(case: Case, author: User | None) -> bool:
    """The first check of a reply: nothing checked by this person on this case since their last
    reply was sent."""
    checks = ApologyCheck.objects.filter(case=case, author=author)
    last_sent = (
        checks.filter(kind=CheckKind.SEND)
        .order_by("-created_at", "-id")
        .values_list("id", flat=True)
        .first()
    )
    if last_sent is not None:
        checks = checks.filter(id__gt=last_sent)
    return not checks.exists()


@transaction.atomic
def apology_check_record(
    *,
    case: Case,
    author: User | None,
    draft: str,
    customer_text: str | None = None,
    kind: str = CheckKind.CHECK,
) -> tuple[ApologyReport, ApologyCheck]:
    """Check a reply on a case and record the result (never blocks sending)."""
    if customer_text is None:
        customer_text = customer_text_of(case=case)
    report = apology_check(draft, customer_text)
    check = ApologyCheck.objects.create(
        case=case,
        author=author,
        kind=kind,
        passes=report.passes,
        codes=report.codes,
        first_draft=_first_draft(case, author),
        draft_chars=min(len(draft), 2**31 - 1),
    )
    return report, check
