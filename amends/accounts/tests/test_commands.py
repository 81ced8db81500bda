from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.test import Client

from amends.accounts.choices import Role
from amends.cli import _translate, main

pytestmark = pytest.mark.django_db


def test_cli_translates_two_word_commands() -> None:
    assert _translate(["user", "create", "ann"]) == ["user_create", "ann"]
    assert _translate(["token", "create", "ann"]) == ["token_create", "ann"]
    assert _translate(["seed-demo"]) == ["seed_demo"]
    assert _translate([]) == ["help"]


def test_user_create_and_token_create_through_the_cli(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Django closes every connection after a command run from argv; the test's transaction
    # lives on that connection.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    main(
        [
            "user",
            "create",
            "ann",
            "--role",
            "agent",
            "--team",
            "Billing",
            "--password",
            "Quiet-harbour-71",
        ]
    )
    out = capsys.readouterr().out
    assert "Created agent ann in team Billing." in out
    user = User.objects.get(username="ann")
    assert (user.staff.role, user.staff.team.name) == (Role.AGENT, "Billing")
    assert user.check_password("Quiet-harbour-71")

    main(["token", "create", "ann"])
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("amd_")
    response = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert response.json() == {"username": "ann", "role": "agent", "team": "Billing"}


def test_user_create_command_refuses_duplicates() -> None:
    call_command("user_create", "ann", role="agent", stdout=io.StringIO())
    with pytest.raises(CommandError, match="already exists"):
        call_command("user_create", "ann", role="agent", stdout=io.StringIO())


def test_token_create_command_refuses_unknown_user() -> None:
    with pytest.raises(CommandError, match="No active user"):
        call_command("token_create", "nobody", stdout=io.StringIO(), stderr=io.StringIO())


def test_user_create_command_refuses_unknown_role() -> None:
    with pytest.raises(CommandError, match="invalid choice"):
        call_command("user_create", "ann", role="overlord", stdout=io.StringIO())
    assert not User.objects.filter(username="ann").exists()


def test_user_create_command_reports_invalid_username_cleanly() -> None:
    with pytest.raises(CommandError, match=r"not valid.*username: Enter a valid username"):
        call_command("user_create", "bad name!", role="agent", stdout=io.StringIO())


@pytest.mark.parametrize("password", ["a", "password123", "12345678901", "annsmith-ann"])
def test_user_create_refuses_a_password_the_validators_reject(password: str) -> None:
    # Issue 15: `amends user create x --password a` succeeded; the four Django validators
    # (similarity, length, common, numeric) now apply as they do in the admin.
    with pytest.raises(CommandError, match="password is too weak"):
        call_command("user_create", "annsmith", "--role", "agent", "--password", password)
    assert not User.objects.filter(username="annsmith").exists()
