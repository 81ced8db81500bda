from __future__ import annotations

from typing import Any

from django import template

from amends.customers.choices import LoyaltyStatus
from amends.customers.models import Customer
from amends.customers.services import LOYALTY_MOVES
from amends.loyalty.selectors import customer_risk_get

register = template.Library()


@register.inclusion_tag("web/loyalty/_risk_panel.html")
def customer_loyalty_panel(customer: Customer) -> dict[str, Any]:
    """The customer page's risk score with the factors behind it, and the status moves."""
    risk = customer_risk_get(customer_id=customer.pk)
    moves = sorted(LOYALTY_MOVES.get(customer.loyalty_status, set()))
    return {
        "customer": customer,
        "score": risk.score if risk else 0,
        "factors": risk.breakdown if risk else [],
        "computed_at": risk.computed_at if risk else None,
        "lost_reason": risk.lost_reason if risk else "",
        "lost_at": risk.lost_at if risk else None,
        "moves": [(m, LoyaltyStatus(m).label) for m in moves],
        "can_change": bool(moves),
    }
