"""Upgrading an existing SQLite database: migrations that rebuild cases_case must not trip over
the search triggers (one of them, on customers_customer, names cases_case), and the triggers
are back afterwards."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]


def _migrate(data_dir: Path, *target: str) -> subprocess.CompletedProcess[str]:
    """`manage.py migrate` in a process of its own on a SQLite database in data_dir."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "AMENDS_DATA_DIR": str(data_dir),
        "SECRET_KEY": "test",
    }
    env.pop("DATABASE_URL", None)
    return subprocess.run(  # noqa: S603  # our own interpreter and manage.py
        [sys.executable, "manage.py", "migrate", "-v0", *target],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the trigger problem is SQLite's table rebuild",
)
def test_sqlite_database_from_an_earlier_release_upgrades_with_its_search_triggers(
    tmp_path: Path,
) -> None:
    def migrate(*target: str) -> subprocess.CompletedProcess[str]:
        return _migrate(tmp_path, *target)

    def triggers() -> set[str]:
        with sqlite3.connect(tmp_path / "amends.sqlite3") as db:
            rows = db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall()
        return {name for (name,) in rows if name.startswith("cases_casesearch")}

    expected = {f"cases_casesearch_{t}" for t in ("ai", "au", "ad", "customer_au")}
    first = migrate("cases", "0005")
    assert first.returncode == 0, first.stderr
    assert triggers() == expected

    upgrade = migrate()
    assert upgrade.returncode == 0, upgrade.stderr
    assert triggers() == expected


@pytest.mark.skipif(
    not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"),
    reason="the triggers are dropped on SQLite only",
)
def test_upgrading_other_apps_alone_keeps_the_search_index(tmp_path: Path) -> None:
    """A plan without cases or customers migrations leaves the triggers and the index alone: no
    rebuild of every case for an upgrade that cannot touch them."""

    def migrate(*target: str) -> subprocess.CompletedProcess[str]:
        return _migrate(tmp_path, *target)

    for app in ("customers", "cases"):  # every migration the search index depends on
        first = migrate(app)
        assert first.returncode == 0, first.stderr
    with sqlite3.connect(tmp_path / "amends.sqlite3") as db:
        db.execute(
            "INSERT INTO cases_casesearch (rowid, ref, title, customer, document)"
            " VALUES (987654, 'AM-987654', 'sentinel', '', '')"
        )

    rest = migrate()
    assert rest.returncode == 0, rest.stderr
    with sqlite3.connect(tmp_path / "amends.sqlite3") as db:
        kept = db.execute("SELECT count(*) FROM cases_casesearch WHERE rowid = 987654").fetchone()
    assert kept == (1,)
