"""The case page's channel panel: how the case came in, its email thread with delivery
state, files, and whether the customer's address bounced."""

from __future__ import annotations

from typing import Any

from django import template

from amends.cases.models import Case
from amends.channels.selectors import case_channel_panel

register = template.Library()


@register.inclusion_tag("web/channels/_case_panel.html")
def case_channels_panel(case: Case) -> dict[str, Any]:
    return {"case": case, "panel": case_channel_panel(case=case)}
