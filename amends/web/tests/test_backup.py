"""`amends backup FILE` / `amends restore FILE` round-trip every table (SQLite and PostgreSQL)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.db import connection
from django.test import Client

from amends.core.models import IdempotencyKey
from amends.web.tests.test_permissions_matrix import _world


def _snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, for every table in the database."""
    tables = sorted(connection.introspection.table_names())
    snapshot = {}
    with connection.cursor() as cursor:
        for table in tables:
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")  # noqa: S608  # names from introspection
            rows = sorted(repr(row) for row in cursor.fetchall())
            snapshot[table] = (len(rows), hashlib.sha256("\n".join(rows).encode()).hexdigest())
    return snapshot


@pytest.mark.django_db(transaction=True)
def test_backup_and_restore_round_trip_every_table(tmp_path: Path) -> None:
    world = _world()
    agent = world.users["agent"]
    assert agent is not None
    # Rows in the guard-rail tables too: an idempotency key and a failed login.
    client = Client()
    client.force_login(agent)
    client.post(
        "/api/v1/customers",
        {"name": "Ann"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="backup-test",
    )
    Client().post("/login/", {"username": "alice", "password": "wrong"})
    assert IdempotencyKey.objects.exists()
    assert AccessAttempt.objects.exists()
    before = _snapshot()
    filled = [table for table, (count, _) in before.items() if count]
    assert len(filled) >= 20, filled

    backup = tmp_path / "amends.backup"
    call_command("backup", str(backup))
    assert backup.stat().st_size > 0
    call_command("flush", interactive=False)  # lose everything
    assert _snapshot() != before

    call_command("restore", str(backup), interactive=False)
    after = _snapshot()
    differ = [table for table in before if before[table] != after.get(table)]
    assert differ == []
    assert set(after) == set(before)
