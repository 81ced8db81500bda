from __future__ import annotations

from typing import Any

import pytest

from amends.remedies.services.menus import menu_create
from amends.remedies.services.remedies import RemedyInput

pytestmark = pytest.mark.django_db


def _offer(org: Any, amounts: tuple[str, ...]) -> None:
    menu_create(
        case=org.case,
        options=[
            RemedyInput(kind="refund", amount=a, currency="USD", description="") for a in amounts
        ],
        actor=org.agent,
    )


def test_menu_list_endpoint_query_count_does_not_grow_with_menus(
    org: Any, api_client_for: Any, django_assert_num_queries: Any
) -> None:
    # Given a case with one menu, then three: their options have proposers and approvers
    api = api_client_for(org.agent)
    url = f"/api/v1/cases/{org.case.ref}/remedy-menus"
    _offer(org, ("10.00", "20.00"))
    api.get(url)  # warm the token and profile caches
    # token with staff profile, case, menus with their people, options with theirs
    with django_assert_num_queries(4):
        assert len(api.get(url).json()) == 1
    _offer(org, ("30.00", "40.00", "60.00"))
    _offer(org, ("15.00", "25.00"))
    # Then three menus cost what one did
    with django_assert_num_queries(4):
        menus = api.get(url).json()
    assert [len(m["options"]) for m in menus] == [2, 3, 2]
    assert all(o["proposed_by"] == org.agent.username for m in menus for o in m["options"])
