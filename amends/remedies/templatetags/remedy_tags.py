from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("web/remedies/_case_panel.html", takes_context=True)
def case_remedies_panel(context: dict[str, Any], case: Any) -> dict[str, Any]:
    """The remedies panel on the case page (filled in by the remedies app)."""
    return {"case": case, "request": context.get("request")}
