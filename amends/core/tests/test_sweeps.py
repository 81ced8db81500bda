from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from amends.core.sweeps import sweeps_run

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
CALLS: list[datetime] = []


def counting_sweep(*, now: datetime) -> int:
    CALLS.append(now)
    return 3


def failing_sweep(*, now: datetime) -> int:
    raise RuntimeError("boom")


HERE = "amends.core.tests.test_sweeps"


@override_settings(AMENDS_SWEEPS=[f"{HERE}.counting_sweep", f"{HERE}.failing_sweep"])
def test_sweeps_run_runs_each_configured_sweep_and_marks_a_failure() -> None:
    CALLS.clear()
    results = sweeps_run(now=NOW)
    assert results == {f"{HERE}.counting_sweep": 3, f"{HERE}.failing_sweep": -1}
    assert CALLS == [NOW]


@override_settings(AMENDS_SWEEPS=[f"{HERE}.missing_sweep", f"{HERE}.counting_sweep"])
def test_sweeps_run_skips_a_missing_sweep_unless_strict() -> None:
    assert sweeps_run(now=NOW) == {f"{HERE}.counting_sweep": 3}
    with pytest.raises(ImportError):
        sweeps_run(now=NOW, strict=True)


@override_settings(AMENDS_SWEEPS=[f"{HERE}.counting_sweep", f"{HERE}.failing_sweep"])
def test_sweep_command_prints_each_sweep_and_fails_when_one_fails(capsys) -> None:
    with pytest.raises(CommandError, match="1 sweep"):
        call_command("sweep")
    out = capsys.readouterr().out
    assert f"{HERE}.counting_sweep: 3" in out
    assert f"{HERE}.failing_sweep: FAILED" in out
