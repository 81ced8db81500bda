from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from amends.accounts.choices import Role
from amends.accounts.tests.factories import UserFactory
from amends.cli import _translate
from amends.remedies.models import AuthorityRule
from amends.remedies.tests.factories import CannotDoItemFactory

pytestmark = pytest.mark.django_db


def test_cli_maps_authority_words_to_commands():
    assert _translate(["authority", "set", "--role", "agent"])[0] == "authority_set"
    assert _translate(["authority", "show"])[0] == "authority_show"


def test_authority_set_command_writes_a_role_rule(capsys):
    call_command(
        "authority_set",
        "--role",
        "agent",
        "--kind",
        "refund",
        "--max-per-remedy",
        "50",
        "--max-per-case",
        "100",
        "--max-per-customer",
        "150",
        "--period-days",
        "30",
    )
    rule = AuthorityRule.objects.get(role="agent", kind__code="refund")
    assert (rule.max_per_remedy, rule.max_per_case, rule.max_per_customer, rule.period_days) == (
        Decimal("50"),
        Decimal("100"),
        Decimal("150"),
        30,
    )
    assert "Set refund for role agent: allowed." in capsys.readouterr().out


def test_authority_set_command_person_rule_with_deny():
    user = UserFactory(username="bob", role=Role.AGENT)
    call_command("authority_set", "--user", "bob", "--kind", "voucher", "--deny")
    rule = AuthorityRule.objects.get(user=user)
    assert rule.allowed is False


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--kind", "refund"], "Give --role"),
        (["--role", "agent", "--kind", "nope"], "Unknown remedy kind"),
        (["--role", "agent", "--kind", "refund", "--max-per-remedy", "-1"], "more than zero"),
        (["--role", "agent", "--kind", "refund", "--max-per-customer", "5"], "period"),
        (["--user", "ghost", "--kind", "refund"], "No staff member"),
    ],
)
def test_authority_set_command_errors(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("authority_set", *args)
    assert not AuthorityRule.objects.exists()


def test_authority_show_command_prints_role_table_and_cannot_do(capsys):
    call_command("authority_set", "--role", "agent", "--kind", "refund", "--max-per-remedy", "50")
    call_command("authority_set", "--role", "supervisor", "--kind", "refund")
    CannotDoItemFactory(role="agent", text="Waive an early-termination fee")
    capsys.readouterr()
    call_command("authority_show", "--role", "agent")
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split() == [
        "who",
        "kind",
        "allowed",
        "per",
        "remedy",
        "per",
        "case",
        "per",
        "customer",
        "period",
    ]
    assert lines[1].split() == ["role", "agent", "refund", "yes", "50.00", "-", "-", "-"]
    assert "supervisor" not in out
    assert "Waive an early-termination fee" in out


def test_authority_show_command_prints_a_persons_effective_limits(capsys):
    user = UserFactory(username="bob", role=Role.AGENT)
    call_command("authority_set", "--role", "agent", "--kind", "refund", "--max-per-remedy", "50")
    call_command("authority_set", "--user", "bob", "--kind", "refund", "--max-per-remedy", "80")
    capsys.readouterr()
    call_command("authority_show", "--user", user.username)
    rows = {line.split()[2]: line.split() for line in capsys.readouterr().out.splitlines()[1:]}
    assert rows["refund"] == ["bob", "(person)", "refund", "yes", "80.00", "-", "-", "-"]
    assert rows["voucher"][1:4] == ["(none)", "voucher", "no"]
