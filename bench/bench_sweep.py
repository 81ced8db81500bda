"""Sweep benchmark: `python bench/bench_sweep.py --db sqlite|postgres [--cases N --commitments M]`.

Builds a fresh database (SQLite file in a temporary directory, or the PostgreSQL database
BENCH_PG_NAME, default `amends_promises_bench`, on BENCH_PG_URL, default
postgres://postgres@127.0.0.1:5432; both are removed afterwards unless --keep), loads N open cases and M open promises with
INSERT … SELECT over a generated series (seconds for a million rows; each row copies every
column of a template case / promise made through the real services, so the shape is exactly
what the services write), makes 1% of each newly due, then times one full `sweep` run (every
sweep in settings.AMENDS_SWEEPS) and a second, idle run.

Data: cases are in recovery with a team and an assignee; every 100th case's SLA ran out a
moment ago (to be escalated by the SLA sweep, amends.cases.sweeps.sla_sweep, through
commitments' reaction to `cases_sla_breached`), every 1000th is at risk; the rest are due in
1–30 days. Promise
j sits on case j; every 100th is past due (to be broken: a second failure with a severity rise,
an escalation and two notifications each); the rest are due in 2–3 days.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_NAME = os.environ.get("BENCH_PG_NAME", "amends_promises_bench")


def _prepare(db: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    if db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ["AMENDS_DATA_DIR"] = tempfile.mkdtemp(prefix="bench_sweep_")
    else:
        import psycopg

        with psycopg.connect(
            f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{PG_NAME}"')
        os.environ["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--commitments", type=int, default=300_000)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    _prepare(args.db)

    import django

    django.setup()
    from datetime import timedelta

    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from amends.accounts.choices import Role
    from amends.accounts.models import StaffProfile, Team
    from amends.cases.models import Case
    from amends.cases.services.intake import case_create
    from amends.cases.services.workflow import case_acknowledge
    from amends.commitments.models import Commitment, Escalation, Notification
    from amends.core.sweeps import sweeps_run
    from amends.customers.models import Customer

    t0 = time.perf_counter()
    call_command("migrate", verbosity=0)
    team = Team.objects.create(name="Bench team")
    sup = User.objects.create_user("bench_sup", email="sup@example.com")
    StaffProfile.objects.create(user=sup, team=team, role=Role.SUPERVISOR)
    agent = User.objects.create_user("bench_agent", email="agent@example.com")
    StaffProfile.objects.create(user=agent, team=team, role=Role.AGENT)
    customer = Customer.objects.create(name="Bench customer")
    template = case_create(
        customer=customer, title="Bench case", actor=None, team=team, assignee=agent
    )
    template = case_acknowledge(case=template, version=None, actor=agent)
    now = timezone.now()
    pg = connection.vendor == "postgresql"

    def at(offset_sql: str) -> str:
        """SQL for `now + offset_sql seconds`, in each database's datetime representation."""
        if pg:
            return f"(%s::timestamptz + make_interval(secs => ({offset_sql})))"
        return f"strftime('%%Y-%%m-%%d %%H:%%M:%%f', %s, ({offset_sql}) || ' seconds')"

    now_param = now if pg else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    due = "CASE WHEN i %% 100 = 0 THEN -60 - (i %% 3600) WHEN i %% 1000 = 1 THEN 1800 ELSE 86400 + (i %% 2592000) END"
    risk = "CASE WHEN i %% 100 = 0 THEN -7200 WHEN i %% 1000 = 1 THEN -1800 ELSE 86400 + (i %% 2592000) - 3600 END"
    base_case = Case.objects.order_by("-id").values_list("id", flat=True).first() or 0
    _fill_case(template, args.cases, due, risk, at, now_param, base_case)
    promise = Commitment.objects.create(
        case=template,
        kind="rebate",
        description="Bench promise",
        owner=agent,
        due_at=now + timedelta(days=5),
    )
    cdue = "CASE WHEN i %% 100 = 0 THEN -120 ELSE 172800 + (i %% 86400) END"
    _fill_commitment(promise, args.commitments, cdue, at, now_param, base_case, promise.pk)
    if pg:
        with connection.cursor() as c:
            for table in ("cases_case", "commitments_commitment"):
                c.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608  # constant names
                )
            c.execute("ANALYZE")
    else:
        with connection.cursor() as c:
            c.execute("ANALYZE")
    load = time.perf_counter() - t0
    open_cases = Case.objects.filter(sla_due_at__isnull=False).count()
    open_promises = Commitment.objects.filter(status="open").count()
    print(
        f"[{args.db}] loaded {open_cases:,} open cases and {open_promises:,} open promises in {load:.1f}s"
    )

    t1, c1 = time.perf_counter(), time.process_time()
    results = sweeps_run(now=timezone.now())
    first, first_cpu = time.perf_counter() - t1, time.process_time() - c1
    t2, c2 = time.perf_counter(), time.process_time()
    again = sweeps_run(now=timezone.now())
    second, second_cpu = time.perf_counter() - t2, time.process_time() - c2
    for path, count in results.items():
        print(f"  {path.rsplit('.', 1)[-1]:18} {count:>8,}")
    print(
        f"[{args.db}] full sweep: {first:.2f}s (CPU {first_cpu:.2f}s); idle sweep right after: "
        f"{second:.2f}s (CPU {second_cpu:.2f}s, {sum(again.values())} items)"
    )
    print(f"[{args.db}] load average: {Path('/proc/loadavg').read_text().split()[:3]}")
    print(
        f"[{args.db}] escalations {Escalation.objects.count():,}, broken promises "
        f"{Commitment.objects.filter(status='broken').count():,}, notifications {Notification.objects.count():,}"
    )
    if not args.keep:
        _cleanup(args.db)


def _cleanup(db: str) -> None:
    import shutil

    from django.db import connections

    connections.close_all()
    if db == "sqlite":
        shutil.rmtree(os.environ["AMENDS_DATA_DIR"], ignore_errors=True)
        return
    import psycopg

    with psycopg.connect(
        f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def _fill_case(
    template: Model,
    count: int,
    due: str,
    risk: str,
    at: Callable[[str], str],
    now_param: datetime | str,
    base: int,
) -> None:
    from django.db import connection

    model = type(template)
    columns, values = ["id"], [f"{base} + i"]
    params: list[Any] = []  # database parameters, of whatever type each column stores
    overrides = {
        "sla_due_at": at(due),
        "resolve_due_at": at(due),
        "sla_at_risk_at": at(risk),
        "resolve_at_risk_at": at(risk),
    }
    for field in model._meta.concrete_fields:
        column = field.column
        assert column is not None  # a concrete field always has one
        if field.primary_key:
            continue
        columns.append(column)
        if column in overrides:
            values.append(overrides[column])
            params.append(now_param)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    _insert(model._meta.db_table, columns, values, params, count)


def _fill_commitment(
    template: Model,
    count: int,
    due: str,
    at: Callable[[str], str],
    now_param: datetime | str,
    base_case: int,
    base_id: int,
) -> None:
    from django.db import connection

    model = type(template)
    columns, values = ["id"], [f"{base_id} + i"]
    params: list[Any] = []
    for field in model._meta.concrete_fields:
        column = field.column
        assert column is not None  # a concrete field always has one
        if field.primary_key:
            continue
        columns.append(column)
        if column == "due_at":
            values.append(at(due))
            params.append(now_param)
        elif column == "case_id":
            values.append(f"{base_case} + i")
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    _insert(model._meta.db_table, columns, values, params, count)


def _insert(
    table: str, columns: list[str], values: list[str], params: list[Any], count: int
) -> None:
    from django.db import connection, transaction

    if connection.vendor == "postgresql":
        series = f"SELECT generate_series(1, {count}) AS i"
    else:
        series = f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) SELECT i FROM n"  # noqa: S608  # an int
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM ({series}) AS s"  # noqa: S608  # model metadata
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


if __name__ == "__main__":
    main()
