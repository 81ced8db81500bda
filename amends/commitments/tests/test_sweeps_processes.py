"""Sweeps in real processes: two at once, and one killed mid-run then restarted.

Each test migrates its own file database (SQLite in a temporary directory, or a fresh
PostgreSQL database when DATABASE_URL points at PostgreSQL) so several processes share it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from amends.commitments.tests.seed_due import BREACHED

ROOT = Path(__file__).resolve().parents[3]
N = 120

pytestmark = pytest.mark.django_db(transaction=True)


def _is_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture
def proc_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "AMENDS_DATA_DIR": str(tmp_path),
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
        "AMENDS_SWEEP_BATCH_SIZE": "5",
        "SECRET_KEY": "test",
    }
    dbname = None
    if _is_postgres():
        import psycopg

        db = settings.DATABASES["default"]
        dbname = f"amends_sweeptest_{uuid.uuid4().hex[:8]}"
        dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{dbname}"')
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT'] or 5432}/{dbname}"
    else:
        env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    subprocess.run(  # noqa: S603  # our own interpreter and module
        [sys.executable, "-m", "amends.commitments.tests.seed_due", str(N)],
        cwd=ROOT,
        env=env,
        check=True,
    )
    yield env
    if dbname:
        import psycopg

        db = settings.DATABASES["default"]
        dsn = f"host={db['HOST']} port={db['PORT'] or 5432} user={db['USER']} dbname=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def _query(env: dict[str, str], sql: str) -> list[tuple[object, ...]]:
    if "DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["DATABASE_URL"].replace("postgres://", "postgresql://")) as conn:
            return list(conn.execute(sql).fetchall())
    import sqlite3

    lite = sqlite3.connect(Path(env["AMENDS_DATA_DIR"]) / "amends.sqlite3", timeout=30)
    try:
        return list(lite.execute(sql).fetchall())
    finally:
        lite.close()


def _count(env: dict[str, str], sql: str) -> int:
    """The single number a `SELECT COUNT(*) ...` returns."""
    value = _query(env, sql)[0][0]
    assert isinstance(value, int), value
    return value


def _sweep(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "manage.py", "sweep"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _assert_each_processed_once(env: dict[str, str]) -> None:
    assert _query(env, "SELECT status, COUNT(*) FROM commitments_commitment GROUP BY status") == [
        ("broken", N)
    ]
    # One broken-promise escalation per case, one timeline event per promise, one
    # notification per person per promise, one severity rise per case.
    assert _query(
        env,
        "SELECT COUNT(*), COUNT(DISTINCT case_id) FROM commitments_escalation "
        "WHERE reason = 'broken_promise'",
    ) == [(N, N)]
    assert _query(env, "SELECT COUNT(*) FROM cases_caseevent WHERE kind = 'commitment_broken'") == [
        (N,)
    ]
    assert _query(
        env,
        "SELECT COUNT(*) FROM commitments_notification WHERE kind = 'commitment_broken'",
    ) == [(2 * N,)]
    assert _query(env, "SELECT COUNT(*) FROM cases_case WHERE severity = 3") == [(N,)]
    # The breached cases: one SLA escalation each; every escalation announced once.
    assert _query(
        env,
        "SELECT COUNT(*), COUNT(DISTINCT case_id) FROM commitments_escalation "
        "WHERE reason = 'sla_breached'",
    ) == [(BREACHED, BREACHED)]
    assert _query(
        env,
        "SELECT COUNT(*), COUNT(DISTINCT dedupe_key) FROM commitments_notification "
        "WHERE kind = 'escalation_assigned'",
    ) == [(N + BREACHED, N + BREACHED)]


def test_sweep_commands_running_at_once_process_each_promise_once(proc_env) -> None:
    first, second = _sweep(proc_env), _sweep(proc_env)
    _, err1 = first.communicate(timeout=180)
    _, err2 = second.communicate(timeout=180)
    assert first.returncode == 0, err1.decode()
    assert second.returncode == 0, err2.decode()
    _assert_each_processed_once(proc_env)


def test_sweep_command_killed_mid_run_loses_and_duplicates_nothing(proc_env) -> None:
    # Small batches: many commits, so the kill lands between two of them.
    proc = _sweep({**proc_env, "AMENDS_SWEEP_BATCH_SIZE": "2"})
    deadline = time.monotonic() + 120
    broken = 0
    while time.monotonic() < deadline:
        broken = _count(
            proc_env, "SELECT COUNT(*) FROM commitments_commitment WHERE status = 'broken'"
        )
        if broken:  # mid-run: some batches committed
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert 0 < broken < N, "the sweep should have been killed part-way"
    rerun = _sweep(proc_env)
    _, err = rerun.communicate(timeout=180)
    assert rerun.returncode == 0, err.decode()
    _assert_each_processed_once(proc_env)


def test_worker_sweeps_runs_email_tasks_and_stops_on_sigterm(proc_env) -> None:
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "worker", "--sweep-interval", "1", "--interval", "0.2"],
        cwd=ROOT,
        env=proc_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            pending = _query(
                proc_env,
                "SELECT COUNT(*) FROM commitments_notification WHERE emailed_at IS NULL",
            )[0][0]
            broken = _query(
                proc_env, "SELECT COUNT(*) FROM commitments_commitment WHERE status = 'broken'"
            )[0][0]
            if broken == N and pending == 0:
                break
            time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert worker.returncode == 0, output.decode()
    assert "shutting down gracefully" in output.decode()
    _assert_each_processed_once(proc_env)
    # Every notification was emailed by the worker's task runs, once.
    assert _query(
        proc_env, "SELECT COUNT(*) FROM commitments_notification WHERE emailed_at IS NULL"
    ) == [(0,)]
