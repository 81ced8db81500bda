"""Keyset-free page/size pagination with a cheap "has next" check (no COUNT on big tables)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.conf import settings
from django.db.models import Model, QuerySet

from amends.core.exceptions import ApplicationError

M = TypeVar("M", bound=Model)


@dataclass
class Page(Generic[M]):
    items: list[M]
    page: int
    size: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def page_size_clamp(size: int | None) -> int:
    limits = settings.AMENDS
    if size is None:
        return int(limits["DEFAULT_PAGE_SIZE"])
    if size < 1 or size > int(limits["MAX_PAGE_SIZE"]):
        raise ApplicationError(
            f"Page size must be between 1 and {limits['MAX_PAGE_SIZE']}.",
            code="invalid_page_size",
            status=422,
        )
    return size


def paginate(queryset: QuerySet[M], *, page: int = 1, size: int | None = None) -> Page[M]:
    """Fetch one page plus one row to learn whether another page exists."""
    size = page_size_clamp(size)
    if page < 1 or page > 100_000:
        raise ApplicationError(
            "Page must be between 1 and 100000.", code="invalid_page", status=422
        )
    offset = (page - 1) * size
    rows = list(queryset[offset : offset + size + 1])
    return Page(items=rows[:size], page=page, size=size, has_next=len(rows) > size)
