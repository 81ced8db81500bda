from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.selectors import (
    staff_get_by_username,
    staff_list,
    staff_profile_of,
    team_list_for_user,
)
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.core.exceptions import ApplicationError, PermissionDeniedError

pytestmark = pytest.mark.django_db


def test_staff_profile_of_refuses_plain_users() -> None:
    plain = User.objects.create_user("plain")
    with pytest.raises(PermissionDeniedError) as excinfo:
        staff_profile_of(user=plain)
    assert excinfo.value.status == 403


def test_staff_profile_of_treats_superuser_as_admin() -> None:
    root = User.objects.create_superuser("root", password="pw")
    assert staff_profile_of(user=root).role == Role.ADMIN


def test_staff_list_lists_active_staff_of_a_team() -> None:
    team, other = TeamFactory(), TeamFactory()
    a = UserFactory(username="a", team=team)
    UserFactory(username="b", team=other)
    UserFactory(username="c", team=team, is_active=False)
    User.objects.create_user("plain")
    assert list(staff_list(team=team)) == [a]
    assert [u.username for u in staff_list()] == ["a", "b"]


def test_team_list_for_user_by_role() -> None:
    team, other = TeamFactory(name="A"), TeamFactory(name="B")
    assert list(team_list_for_user(user=UserFactory(role=Role.AGENT, team=team))) == [team]
    assert list(team_list_for_user(user=UserFactory(role=Role.MANAGER, team=None))) == [
        team,
        other,
    ]
    assert list(team_list_for_user(user=UserFactory(role=Role.AGENT, team=None))) == []


@pytest.mark.parametrize("who", ["nobody", "plain", "gone"])
def test_staff_get_by_username_refuses_anyone_but_active_staff(who: str) -> None:
    User.objects.create_user("plain")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(ApplicationError) as excinfo:
        staff_get_by_username(username=who, field="owner")
    error = excinfo.value
    assert (error.code, error.status, error.detail) == (
        "invalid_owner",
        422,
        {"owner": ["Unknown staff member."]},
    )


def test_staff_get_by_username_finds_active_staff() -> None:
    agent = UserFactory(username="ada")
    assert staff_get_by_username(username="ada") == agent
