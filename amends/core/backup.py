"""Whole-database backup and restore: SQLite's online backup API, pg_dump/pg_restore for
PostgreSQL. `amends backup FILE` and `amends restore FILE` call these."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connections

SQLITE_HEADER = b"SQLite format 3\x00"


class BackupError(Exception):
    """The backup or restore could not be done; the message says why."""


def _vendor(alias: str) -> str:
    vendor = connections[alias].vendor
    if vendor not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {vendor}.")
    return vendor


def _pg_env(alias: str) -> tuple[list[str], dict[str, str]]:
    settings = connections[alias].settings_dict
    args = ["--dbname", str(settings["NAME"])]
    if settings.get("HOST"):
        args += ["--host", str(settings["HOST"])]
    if settings.get("PORT"):
        args += ["--port", str(settings["PORT"])]
    if settings.get("USER"):
        args += ["--username", str(settings["USER"])]
    env = dict(os.environ)
    if settings.get("PASSWORD"):
        env["PGPASSWORD"] = str(settings["PASSWORD"])
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (apt install postgresql-client).")
    return path


def database_backup(*, path: Path, alias: str = "default") -> None:
    """Write a consistent copy of the live database to `path` (others may keep writing)."""
    vendor = _vendor(alias)
    if connections[alias].in_atomic_block:
        # Our own open write transaction would make SQLite's backup wait for itself forever.
        raise BackupError("Cannot back up inside a transaction.")
    path.parent.mkdir(parents=True, exist_ok=True)
    if vendor == "sqlite":
        connection = connections[alias]
        connection.ensure_connection()
        source = connection.connection
        target = sqlite3.connect(str(path))
        try:
            source.backup(target)  # the online backup API: a consistent snapshot
        finally:
            target.close()
        return
    args, env = _pg_env(alias)
    command = [_tool("pg_dump"), "--format=custom", "--no-owner", "--file", str(path), *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")


def database_restore(*, path: Path, alias: str = "default") -> None:
    """Replace every table of the live database with the backup at `path`."""
    if not path.is_file():
        raise BackupError(f"No backup file at {path}.")
    vendor = _vendor(alias)
    connection = connections[alias]
    if connection.in_atomic_block:
        raise BackupError("Cannot restore inside a transaction.")
    if vendor == "sqlite":
        with path.open("rb") as handle:
            if handle.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                raise BackupError(f"{path} is not an SQLite backup.")
        connection.ensure_connection()
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
        return
    connection.close()  # pg_restore drops and recreates tables: hold no locks on them
    args, env = _pg_env(alias)
    command = [
        _tool("pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        *args,
        str(path),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()}")
