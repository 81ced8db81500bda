"""Writes to the taxonomy: categories and services created by name (imports, intake).

Each creation is race-safe: `ignore_conflicts` / `get_or_create` on the unique names, then a
read of what is there, so two imports naming the same new category end with one row.
"""

from __future__ import annotations

from collections.abc import Iterable

from amends.taxonomy.models import Category, Service


def categories_ensure(
    *, wanted: Iterable[tuple[str, str]], parents: dict[str, Category]
) -> dict[tuple[str, str], Category]:
    """The category of each (top level, subcategory or "") pair, creating those missing: the
    new top levels in one INSERT, then the new subcategories in another. `parents` holds the
    top levels the caller already knows by name; the new ones are added to it."""
    wanted = set(wanted)
    found: dict[tuple[str, str], Category] = {}
    new_parents = sorted({parent for parent, _ in wanted} - set(parents))
    if new_parents:
        Category.objects.bulk_create(
            [Category(name=n, parent=None) for n in new_parents], ignore_conflicts=True
        )
        for category in Category.objects.filter(parent__isnull=True, name__in=new_parents):
            parents[category.name] = category
    children = sorted((parent, child) for parent, child in wanted if child)
    if children:
        Category.objects.bulk_create(
            [Category(name=c, parent=parents[p]) for p, c in children],
            ignore_conflicts=True,
        )
        parent_ids = {parents[p].pk for p, _ in children}
        by_key = {
            (c.parent_id, c.name): c
            for c in Category.objects.filter(
                parent_id__in=parent_ids, name__in={c for _, c in children}
            )
        }
        for parent, child in children:
            sub = by_key.get((parents[parent].pk, child))
            if sub is not None:
                sub.parent = parents[parent]  # the playbook lookup reads parent_id
                found[(parent, child)] = sub
    for parent, child in wanted:
        if not child:
            found[(parent, child)] = parents[parent]
    return found


def category_ensure(
    *, parent_name: str, child_name: str = "", parent: Category | None = None
) -> Category:
    """One category by name (a top level, or a subcategory of one), created if missing;
    `parent`: the top level named `parent_name`, when the caller already has it."""
    if parent is None:
        parent, _ = Category.objects.get_or_create(name=parent_name, parent=None)
    if not child_name:
        return parent
    category, _ = Category.objects.get_or_create(name=child_name, parent=parent)
    category.parent = parent  # the playbook lookup reads parent_id only; no query
    return category


def services_ensure(*, names: Iterable[str]) -> dict[str, int]:
    """The id of each named service, creating the missing ones in one INSERT."""
    wanted = sorted({n for n in names if n})
    if not wanted:
        return {}
    Service.objects.bulk_create([Service(name=n) for n in wanted], ignore_conflicts=True)
    return dict(Service.objects.filter(name__in=wanted).values_list("name", "pk"))
