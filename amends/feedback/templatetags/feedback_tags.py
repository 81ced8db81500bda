from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    """`values|get_item:"csat"`: a submitted value (QueryDict or dict), "" when absent."""
    if not mapping or not hasattr(mapping, "get"):
        return ""
    value = mapping.get(key, "")
    return "" if value is None else value
