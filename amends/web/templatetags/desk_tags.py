"""The case page's desk panel (tags, merge, who else has it open) and the canned-reply picker
of the reply box."""

from __future__ import annotations

from typing import Any

from django import template

from amends.cases.models import Case
from amends.customers.choices import CustomerTier
from amends.customers.models import Customer
from amends.customers.selectors import customer_history
from amends.customers.services import HANDLING_ROLES
from amends.web.views.desk import canned_replies_offered, desk_panel_context

register = template.Library()


@register.inclusion_tag("web/desk/_case_panel.html", takes_context=True)
def case_desk_panel(context: dict[str, Any], case: Case) -> dict[str, Any]:
    request = context.get("request")
    out = desk_panel_context(case=case, user=getattr(request, "user", None))
    out.update(request=request, csrf_token=context.get("csrf_token"))
    return out


@register.inclusion_tag("web/desk/_canned_picker.html")
def canned_reply_picker(case: Case) -> dict[str, Any]:
    return {"case": case, "replies": canned_replies_offered(case=case)}


@register.inclusion_tag("web/desk/_customer_handling.html", takes_context=True)
def customer_handling_panel(context: dict[str, Any], customer: Customer) -> dict[str, Any]:
    """The tier and special-handling form (supervisors and above) and the change history."""
    request = context.get("request")
    user = getattr(request, "user", None)
    staff = getattr(user, "staff", None)
    can_edit = bool(
        user is not None and (user.is_superuser or (staff and staff.role in HANDLING_ROLES))
    )
    return {
        "customer": customer,
        "can_edit": can_edit,
        "history": customer_history(customer=customer, limit=10),
        "tiers": CustomerTier.choices,
        "csrf_token": context.get("csrf_token"),
    }
