from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group

from amends.core.exceptions import ApplicationError
from amends.core.pagination import paginate

pytestmark = pytest.mark.django_db


def test_paginate_pages_without_counting(django_assert_num_queries: Any) -> None:
    # core imports no Amends app: any table will do, Django's own groups here.
    customers = [Group.objects.create(name=f"group {i}") for i in range(5)]
    qs = Group.objects.order_by("id")
    with django_assert_num_queries(1):
        first = paginate(qs, page=1, size=2)
    assert (first.items, first.page, first.size, first.has_next) == (customers[:2], 1, 2, True)
    assert not first.has_previous
    last = paginate(qs, page=3, size=2)
    assert (last.items, last.has_next, last.has_previous) == (customers[4:], False, True)
    assert paginate(qs, page=4, size=2).items == []


def test_paginate_default_size() -> None:
    assert paginate(Group.objects.all()).size == 25


@pytest.mark.parametrize(
    ("page", "size", "code"),
    [
        (1, 0, "invalid_page_size"),
        (1, 201, "invalid_page_size"),
        (0, 10, "invalid_page"),
        (100_001, 10, "invalid_page"),
    ],
)
def test_paginate_refuses_out_of_range(page: int, size: int, code: str) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        paginate(Group.objects.all(), page=page, size=size)
    assert (excinfo.value.code, excinfo.value.status) == (code, 422)
