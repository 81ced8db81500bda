from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from amends.core.exceptions import PermissionDeniedError
from amends.core.rows import instances_where
from amends.customers.models import ByteOrder, Customer, CustomerEvent


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

    Every branch is served by an index, so a search that matches nothing reads next to
    nothing at a million customers: a prefix is asked as a range on a byte-ordered key
    (`ByteOrder`: LOWER(name), phone), with the prefix test itself kept as an exact filter.
    (`name__istartswith` is UPPER … LIKE on PostgreSQL and `phone__startswith` a LIKE under
    the database's collation: neither could use an index, and each search walked the whole
    name index.)
    """
    qs = Customer.objects.all() if user is None else customer_visible_to(user=user)
    q = query.strip()
    if not q:
        return qs.order_by("-created_at", "-id")
    lowered = _lower(q)
    condition = (
        Q(external_ref=q)
        | (_prefix_range("name_key", lowered) & Q(name__istartswith=q))
        | (_prefix_range("phone_key", q) & Q(phone__startswith=q))
    )
    if "@" in q:
        condition |= Q(email_lower=lowered)
    return (
        qs.alias(
            name_key=ByteOrder(Lower("name")),
            phone_key=ByteOrder("phone"),
            email_lower=Lower("email"),
        )
        .filter(condition)
        .order_by("name", "id")
    )


def _lower(text: str) -> str:
    """`text` as the database's LOWER() makes it, which the indexed keys are made with (SQLite's
    lowers ASCII letters only; PostgreSQL's follows its character type): Python's for ASCII,
    the database's own otherwise."""
    if text.isascii():
        return text.lower()
    with connection.cursor() as cursor:
        cursor.execute("SELECT LOWER(%s)", [text])
        return str(cursor.fetchone()[0])


def _prefix_range(key: str, prefix: str) -> Q:
    """`key` starts with `prefix`, as a range an index serves: at least the prefix, and below
    it with its last character raised by one (code point order; `ByteOrder`)."""
    head, last = prefix[:-1], ord(prefix[-1])
    above = last + 1
    if 0xD800 <= above <= 0xDFFF:  # no text holds a lone surrogate
        above = 0xE000
    if above > 0x10FFFF:
        return Q(**{f"{key}__gte": prefix})
    return Q(**{f"{key}__gte": prefix, f"{key}__lt": head + chr(above)})


def customers_with_email(*, address: str) -> QuerySet[Customer]:
    """The customers with this email address, compared without regard to case, through the
    index on LOWER(email) (`email__iexact` compares UPPER(email) on PostgreSQL and LIKE on
    SQLite, which no index serves: every new sender cost a scan of all customers)."""
    return Customer.objects.alias(email_lower=Lower("email")).filter(
        email_lower=_lower(address.strip())
    )


def customer_newest_with_email(*, address: str) -> Customer | None:
    """The newest customer with this address (`customers_with_email`), by one fixed statement
    (`core.rows.instances_where`): every mail from a new thread looks its sender up, and the
    ORM's compiling of the query cost more than running it."""
    found = instances_where(
        Customer, 'LOWER("email") = %s', [_lower(address.strip())], ["-created_at", "-id"]
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
