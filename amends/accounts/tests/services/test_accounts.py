from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User

from amends.accounts.choices import Role
from amends.accounts.models import ApiToken, Team
from amends.accounts.services import (
    api_token_authenticate,
    api_token_create,
    api_token_revoke,
    staff_create,
    team_get_or_create,
    token_hash,
)
from amends.accounts.tests.factories import UserFactory
from amends.core.exceptions import ApplicationError

pytestmark = pytest.mark.django_db


def test_staff_create_makes_user_with_role_and_team() -> None:
    user = staff_create(
        username="ann", role=Role.SUPERVISOR, team_name=" Billing ", password="Billing-desk-2026"
    )
    user.refresh_from_db()
    assert user.staff.role == Role.SUPERVISOR
    assert user.staff.team.name == "Billing"
    assert user.check_password("Billing-desk-2026")
    assert not user.is_staff
    assert not user.is_superuser


def test_staff_create_admin_gets_django_admin() -> None:
    user = staff_create(username="root", role=Role.ADMIN)
    assert user.is_staff
    assert user.is_superuser
    assert not user.has_usable_password()
    assert user.staff.team is None


def test_staff_create_reuses_existing_team() -> None:
    staff_create(username="a", role=Role.AGENT, team_name="Billing")
    staff_create(username="b", role=Role.AGENT, team_name="Billing")
    assert Team.objects.count() == 1


def test_staff_create_refused_for_unknown_role() -> None:
    with pytest.raises(ApplicationError) as excinfo:
        staff_create(username="x", role="overlord")
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_role", 422)
    assert not User.objects.filter(username="x").exists()


def test_staff_create_refused_for_existing_username() -> None:
    staff_create(username="x", role=Role.AGENT)
    with pytest.raises(ApplicationError) as excinfo:
        staff_create(username="x", role=Role.MANAGER)
    assert (excinfo.value.code, excinfo.value.status) == ("user_exists", 409)


def test_staff_create_refused_for_invalid_username() -> None:
    with pytest.raises(ApplicationError) as excinfo:
        staff_create(username="no spaces allowed", role=Role.AGENT, team_name="Billing")
    assert (excinfo.value.code, excinfo.value.status) == ("invalid_user", 422)
    assert "username" in excinfo.value.detail
    assert not User.objects.exists()
    assert not Team.objects.exists()


@pytest.mark.parametrize("name", ["  ", "x" * 101])
def test_team_get_or_create_needs_a_sensible_name(name: str) -> None:
    with pytest.raises(ApplicationError) as excinfo:
        team_get_or_create(name=name)
    assert excinfo.value.code == "invalid_team"
    assert not Team.objects.exists()


def test_api_token_create_stores_only_a_hash() -> None:
    user = UserFactory()
    token, raw = api_token_create(user=user, name="zapier")
    assert raw.startswith("amd_")
    assert token.key_hash == token_hash(raw) != raw
    assert token.prefix == raw[:12]
    assert not ApiToken.objects.filter(key_hash=raw).exists()


def test_api_token_authenticate_returns_user_and_touches_last_used() -> None:
    user = UserFactory()
    token, raw = api_token_create(user=user)
    now = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        assert api_token_authenticate(raw=raw) == user
    token.refresh_from_db()
    assert token.last_used_at == now
    # Within a minute, no write; after it, the time moves on
    with time_machine.travel(now + timedelta(seconds=30), tick=False):
        api_token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at == now
    with time_machine.travel(now + timedelta(minutes=2), tick=False):
        api_token_authenticate(raw=raw)
    token.refresh_from_db()
    assert token.last_used_at == now + timedelta(minutes=2)


def test_api_token_authenticate_refuses_wrong_revoked_and_inactive() -> None:
    user = UserFactory()
    token, raw = api_token_create(user=user)
    assert api_token_authenticate(raw=raw + "x") is None
    assert api_token_authenticate(raw="") is None
    api_token_revoke(token=token)
    assert token.revoked_at is not None
    assert api_token_authenticate(raw=raw) is None
    _, other = api_token_create(user=user)
    user.is_active = False
    user.save()
    assert api_token_authenticate(raw=other) is None
