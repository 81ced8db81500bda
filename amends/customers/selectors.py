from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from amends.core.exceptions import PermissionDeniedError
from amends.core.rows import instances_where
from amends.customers.models import Customer, CustomerEvent


def customer_visible_to(*, user: User) -> QuerySet[Customer]:
    """The customers this user may read: every one, for every staff member (customers are
    shared across teams by decision, docs/security.md); a user without a staff role is
    refused with `PermissionDeniedError` (as `accounts.selectors.staff_profile_of` does; a
    superuser counts as an admin; `accounts` is a sibling floor, so the check reads the
    profile through the user's `staff` relation)."""
    if not (user.is_superuser or hasattr(user, "staff")):
        raise PermissionDeniedError("This account has no staff role in Amends.")
    return Customer.objects.all()


def customer_search(*, query: str = "", user: User | None = None) -> QuerySet[Customer]:
    """Customers matching a reference, an email, a phone or the start of a name; with `user`,
    only those `customer_visible_to` them (leave it out only where no one asks, e.g. a form's
    choices that a view has already narrowed).

    Prefix matches use the indexes; a full substring match on every row would not scale.
    """
    qs = Customer.objects.all() if user is None else customer_visible_to(user=user)
    q = query.strip()
    if not q:
        return qs.order_by("-created_at", "-id")
    condition = Q(external_ref=q) | Q(name__istartswith=q) | Q(phone__startswith=q)
    if "@" in q:
        condition |= Q(email__iexact=q)
    return qs.filter(condition).order_by("name", "id")


def customers_with_email(*, address: str) -> QuerySet[Customer]:
    """The customers with this email address, compared without regard to case, through the
    index on LOWER(email) (`email__iexact` compares UPPER(email) on PostgreSQL and LIKE on
    SQLite, which no index serves: every new sender cost a scan of all customers)."""
    return Customer.objects.alias(email_lower=Lower("email")).filter(
        email_lower=address.strip().lower()
    )


def customer_newest_with_email(*, address: str) -> Customer | None:
    """The newest customer with this address (`customers_with_email`), by one fixed statement
    (`core.rows.instances_where`): every mail from a new thread looks its sender up, and the
    ORM's compiling of the query cost more than running it."""
    found = instances_where(
        Customer, 'LOWER("email") = %s', [address.strip().lower()], ["-created_at", "-id"]
    )
    return found[0] if found else None


def customer_get(*, customer_id: int) -> Customer:
    return Customer.objects.get(pk=customer_id)


def customers_by_external_ref(*, refs: Iterable[str], chunk: int = 500) -> dict[str, Customer]:
    """The customers with these references, by reference (set-based: one indexed read per
    `chunk` references); references with no customer are simply absent."""
    wanted = sorted({ref for ref in refs if ref})
    found: dict[str, Customer] = {}
    for start in range(0, len(wanted), chunk):
        for customer in Customer.objects.filter(external_ref__in=wanted[start : start + chunk]):
            found[customer.external_ref or ""] = customer
    return found


def customer_get_for_user(*, customer_id: int, user: User) -> Customer:
    """The customer if this user may see them; missing raises `Customer.DoesNotExist`."""
    return customer_visible_to(user=user).get(pk=customer_id)


def customer_history(*, customer: Customer, limit: int = 100) -> list[CustomerEvent]:
    """Changes to the customer's handling (tier, special handling), newest first."""
    return list(
        CustomerEvent.objects.filter(customer=customer)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
