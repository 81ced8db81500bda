from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("web/commitments/_case_panel.html", takes_context=True)
def case_commitments_panel(context: dict[str, Any], case: Any) -> dict[str, Any]:
    """The promises and escalations panel on the case page (filled in by the commitments app)."""
    return {"case": case, "request": context.get("request")}
