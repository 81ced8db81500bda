from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from django.core.management import call_command

from amends.accounts.choices import Role
from amends.accounts.tests.factories import TeamFactory, UserFactory
from amends.cases.tests.factories import CaseFactory

pytestmark = pytest.mark.django_db


def test_export_cases_csv_and_jsonl(tmp_path: Path) -> None:
    cases = [CaseFactory(severity=2), CaseFactory(severity=3)]
    out = tmp_path / "cases.csv"
    call_command("export_cases", "--format", "csv", "--output", str(out))
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["ref"] for r in rows] == [c.ref for c in cases]
    assert rows[0]["customer__email"] == cases[0].customer.email
    jsonl = tmp_path / "cases.jsonl"
    call_command("export_cases", "--format", "jsonl", "--severity", "2", "--output", str(jsonl))
    lines = [json.loads(line) for line in jsonl.read_text(encoding="utf-8").splitlines()]
    assert [line["ref"] for line in lines] == [cases[0].ref]


def test_export_cases_for_a_user_only_what_they_see(tmp_path: Path) -> None:
    team, other = TeamFactory(name="Billing"), TeamFactory(name="Network")
    agent = UserFactory(role=Role.AGENT, team=team)
    mine = CaseFactory(team=team)
    CaseFactory(team=other)
    out = tmp_path / "mine.jsonl"
    call_command(
        "export_cases", "--format", "jsonl", "--user", agent.username, "--output", str(out)
    )
    refs = [json.loads(line)["ref"] for line in out.read_text(encoding="utf-8").splitlines()]
    assert refs == [mine.ref]
