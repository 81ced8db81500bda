"""`amends restore` refuses what it cannot restore, and changes nothing then."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="No backup file"):
        call_command("restore", str(tmp_path / "nope"), interactive=False)


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    junk = tmp_path / "junk.backup"
    junk.write_bytes(b"not a database at all")
    with pytest.raises(CommandError):
        call_command("restore", str(junk), interactive=False)


@pytest.mark.django_db
def test_backup_and_restore_refuse_to_run_inside_a_transaction(tmp_path: Path) -> None:
    backup = tmp_path / "a.backup"
    with pytest.raises(CommandError, match="inside a transaction"):
        call_command("backup", str(backup))
    backup.write_bytes(b"SQLite format 3\x00")
    with pytest.raises(CommandError, match="inside a transaction"):
        call_command("restore", str(backup), interactive=False)
