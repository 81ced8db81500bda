from __future__ import annotations

from typing import Any

from django import template

from amends.insight.selectors import case_insight_panel

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
