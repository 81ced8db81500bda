from __future__ import annotations

from typing import Any

from django import template

from amends.insight.selectors import case_insight_panel, repeat_links_for_customer

register = template.Library()


@register.inclusion_tag(
    "web/insight/_case_panel.html", takes_context=True, name="case_insight_panel"
)
def case_insight_panel_tag(context: dict[str, Any], case: Any) -> dict[str, Any]:
    """The insight panel on the case page: feeling, why, suggested category, repeats."""
    return {
        "case": case,
        "panel": case_insight_panel(case=case),
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("web/insight/_customer_repeats.html", takes_context=True)
def customer_repeats(context: dict[str, Any], customer: Any) -> dict[str, Any]:
    """The customer's repeat failures (on cases the viewer may see), for the customer page."""
    request = context.get("request")
    user = getattr(request, "user", None)
    links = (
        repeat_links_for_customer(customer_id=customer.pk, user=user, limit=10)
        if user is not None and user.is_authenticated
        else []
    )
    return {"links": links}
