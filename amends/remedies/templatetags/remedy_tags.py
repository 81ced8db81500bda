from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template

from amends.accounts.models import StaffProfile
from amends.core.exceptions import PermissionDeniedError
from amends.core.formats import format_money
from amends.remedies.selectors import (
    approval_pending_count,
    case_remedy_panel,
    remedy_report_allowed,
)

register = template.Library()


@register.inclusion_tag("web/remedies/_case_panel.html", takes_context=True)
def case_remedies_panel(context: dict[str, Any], case: Any) -> dict[str, Any]:
    """The remedies panel on the case page: remedies, open menus and the propose form."""
    request = context.get("request")
    user = getattr(request, "user", None)
    panel = case_remedy_panel(case=case, user=user) if user is not None else None
    return {
        "case": case,
        "panel": panel,
        "request": request,
        "csrf_token": context.get("csrf_token"),
    }


@register.simple_tag(takes_context=True)
def approvals_pending_for_me(context: dict[str, Any]) -> int:
    """How many approvals wait for the signed-in staff member (the nav badge)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    try:
        user.staff  # noqa: B018  # only staff approve
    except StaffProfile.DoesNotExist:
        return 0
    return approval_pending_count(user=user)


@register.filter
def money(amount: Any, currency: str = "") -> str:
    """`£240.00`, `1,240.00 CHF` (amends.core.formats, one way everywhere)."""
    if amount is None or amount == "":
        return "—"
    return format_money(Decimal(str(amount)), str(currency or ""))


@register.simple_tag(takes_context=True)
def remedy_report_allowed_for_me(context: dict[str, Any]) -> bool:
    """Whether the nav shows the remedy report (remedies.selectors.remedy_report_allowed)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    try:
        return remedy_report_allowed(user=user)
    except PermissionDeniedError:
        return False
