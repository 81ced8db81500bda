from __future__ import annotations

from typing import Any

from django import template
from django.contrib.auth.models import User
from django.utils import timezone

from amends.accounts.selectors import staff_list
from amends.cases.models import Case
from amends.commitments.choices import CommitmentKind, EscalationLevel
from amends.commitments.selectors import commitment_list_for_case, escalation_list_for_case

register = template.Library()


def case_panel_context(*, case: Case, user: User | None) -> dict[str, Any]:
    """What the promises & escalations panel on the case page shows."""
    now = timezone.now()
    commitments = commitment_list_for_case(case=case)
    for c in commitments:
        c.light_now = c.light_at(now)  # type: ignore[attr-defined]  # for the template
    return {
        "case": case,
        "commitments": commitments,
        "escalations": escalation_list_for_case(case=case),
        "staff": list(staff_list()),
        "me": user,
        "kinds": CommitmentKind.choices,
        "levels": EscalationLevel.choices,
        "now": now,
    }


@register.inclusion_tag("web/commitments/_case_panel.html", takes_context=True)
def case_commitments_panel(context: dict[str, Any], case: Case) -> dict[str, Any]:
    """The promises and escalations panel on the case page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {
        **case_panel_context(case=case, user=user if user and user.is_authenticated else None),
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }
