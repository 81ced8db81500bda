from __future__ import annotations

from django.db.models import Q, QuerySet

from amends.customers.models import Customer


def customer_search(*, query: str = "") -> QuerySet[Customer]:
    """Customers matching a reference, an email, a phone or the start of a name.

    Prefix matches use the indexes; a full substring match on every row would not scale.
    """
    qs = Customer.objects.all()
    q = query.strip()
    if not q:
        return qs.order_by("-created_at", "-id")
    condition = Q(external_ref=q) | Q(name__istartswith=q) | Q(phone__startswith=q)
    if "@" in q:
        condition |= Q(email__iexact=q)
    return qs.filter(condition).order_by("name", "id")


def customer_get(*, customer_id: int) -> Customer:
    return Customer.objects.get(pk=customer_id)
