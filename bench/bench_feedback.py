"""KPI and champions pages at scale: `python bench/bench_feedback.py --db sqlite|postgres`.

Issue 19: with 1,000,000 cases and 200,000 survey responses, the KPI and champions pages must
answer in under 300 ms at p95, on SQLite and on PostgreSQL.

Builds a fresh database (SQLite in a temporary directory, or the PostgreSQL database
`amends_feedback_bench` on BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432; both removed
afterwards unless --keep) and loads, with INSERT … SELECT over a generated series (each row
copies every column of a template made through the real services):

- 6 teams of 15 agents and a supervisor, a manager;
- N resolved cases spread evenly over the last two years, case i owned by agent i mod 90 (so
  each team holds 1/6 of them), with their KPI facts (`CaseKpi`: business-hours times, steps,
  promises, remedies varying with i);
- M answered surveys (every (N/M)th case), scores varying over the whole range, and a
  compliment on every 10th answer;
- the daily sums (`KpiDay`) by one GROUP BY over those rows; then 40 random buckets are
  recomputed by the services' own `kpi_bucket_refresh` and must come out identical.

Then it times, in-process through Django's test client (the whole view: session, permission
check, queries, template), --runs requests of each page: the KPI page for a manager over
everyone for two years, a year, 30 days; a supervisor's team over a year; an agent's own
figures over a year; `GET /api/v1/kpis`; the champions page of a team over a year and over 30
days; the first page of a drill-down. Prints p50/p95/max wall time, the median CPU time of this process per request (on SQLite that
includes the queries; on PostgreSQL the server's share is not in it) and query counts.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "amends_feedback_bench"
TEAMS = 6
AGENTS_PER_TEAM = 15
SPAN_SECONDS = 2 * 365 * 86400


def _prepare(db: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    if db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ["AMENDS_DATA_DIR"] = tempfile.mkdtemp(prefix="bench_feedback_")
    else:
        import psycopg

        with psycopg.connect(
            f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{PG_NAME}"')
        os.environ["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"


def _series(count: int) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"SELECT generate_series(1, {count}) AS i"
    return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) SELECT i FROM n"  # noqa: S608  # an int


def _ts(expr: str) -> str:
    """SQL for `%s - expr seconds` (a datetime parameter), per database."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(%s::timestamptz - make_interval(secs => ({expr})))"
    return f"strftime('%Y-%m-%d %H:%M:%f', %s, '-' || ({expr}) || ' seconds')"


def _plus(column: str, seconds: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"({column} + make_interval(secs => ({seconds})))"
    return f"strftime('%Y-%m-%d %H:%M:%f', {column}, '+' || ({seconds}) || ' seconds')"


def _day(column: str) -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"(({column}) AT TIME ZONE 'UTC')::date"
    return f"date({column})"


def _copy(template: Model, overrides: dict[str, tuple[str, list[Any]]], source: str) -> None:
    """INSERT every column of `template`'s row, `overrides` as SQL, for each row of `source`."""
    from django.db import connection, transaction

    model = type(template)
    columns: list[str] = []
    values: list[str] = []
    params: list[Any] = []  # database parameters, of whatever type each column stores
    for field in model._meta.concrete_fields:
        column = field.column
        assert column is not None  # a concrete field always has one
        if field.primary_key and column not in overrides:
            continue
        columns.append(column)
        if column in overrides:
            sql, extra = overrides[column]
            values.append(sql)
            params.extend(extra)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    table = model._meta.db_table
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM ({source}) AS s"  # noqa: S608  # model metadata
    # Parameters are "%s"; every other "%" (modulo, strftime) is literal.
    sql = sql.replace("%", "%%").replace("%%s", "%s")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def load(cases: int, surveys: int) -> dict[str, object]:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from amends.accounts.choices import Role
    from amends.accounts.models import StaffProfile, Team
    from amends.cases.models import Case
    from amends.cases.tests.factories import case_in_status
    from amends.customers.models import Customer
    from amends.feedback.models import CaseKpi, Compliment, Survey

    call_command("migrate", verbosity=0)
    teams = [Team.objects.create(name=f"Team {t + 1}") for t in range(TEAMS)]
    agents: list[User] = []
    for t, team in enumerate(teams):
        for a in range(AGENTS_PER_TEAM):
            user = User.objects.create_user(
                f"agent{t + 1}_{a + 1}", first_name=f"Agent{a + 1}", last_name=f"T{t + 1}"
            )
            StaffProfile.objects.create(user=user, team=team, role=Role.AGENT)
            agents.append(user)
    for t, team in enumerate(teams):
        sup = User.objects.create_user(f"sup{t + 1}")
        StaffProfile.objects.create(user=sup, team=team, role=Role.SUPERVISOR)
    manager = User.objects.create_user("manager")
    StaffProfile.objects.create(user=manager, team=None, role=Role.MANAGER)
    customer = Customer.objects.create(name="Bench customer", email="bench@example.com")
    template = case_in_status(
        "resolved", actor=agents[0], customer=customer, team=teams[0], assignee=agents[0]
    )
    survey_template = Survey.objects.get(case=template)
    fact_template = CaseKpi.objects.get(case=template)
    Compliment.objects.all().delete()
    first_agent, first_team = agents[0].pk, teams[0].pk
    n = len(agents)
    now = timezone.now()
    now_param = now if connection.vendor == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    base = template.pk
    step = SPAN_SECONDS // cases
    t0 = time.perf_counter()
    # Cases: id base+i, resolved i*step seconds before now (newest first), opened up to 3 days
    # earlier, owned by agent i mod n of team (i mod n) / 15.
    resolved = f"(i * {step})"
    _copy(
        template,
        {
            "id": (f"{base} + i", []),
            "assignee_id": (f"{first_agent} + (i % {n})", []),
            "team_id": (f"{first_team} + ((i % {n}) / {AGENTS_PER_TEAM})", []),
            "resolved_at": (_ts(resolved), [now_param]),
            "created_at": (_ts(f"{resolved} + 3600 + (i % 259200)"), [now_param]),
            "acknowledged_at": (_ts(f"{resolved} + (i % 259200)"), [now_param]),
            "updated_at": (_ts(resolved), [now_param]),
        },
        _series(cases),
    )
    t_cases = time.perf_counter() - t0
    cases_table = Case._meta.db_table
    src = f"SELECT id AS cid, id - {base} AS i, team_id, assignee_id, resolved_at FROM {cases_table} WHERE id > {base}"  # noqa: S608  # ints
    _copy(
        fact_template,
        {
            "case_id": ("cid", []),
            "team_id": ("team_id", []),
            "person_id": ("assignee_id", []),
            "resolved_at": ("resolved_at", []),
            "ack_seconds": ("(i % 7200)", []),
            "resolve_seconds": ("3600 + (i % 200000)", []),
            "steps_all_done": ("(i % 10 <> 0)", []),
            "promises_due": ("(CASE WHEN i % 3 = 0 THEN 1 ELSE 0 END)", []),
            "promises_kept_on_time": ("(CASE WHEN i % 6 = 0 THEN 1 ELSE 0 END)", []),
            "remedies": ("(CASE WHEN i % 5 = 0 THEN 1 ELSE 0 END)", []),
            "remedies_within_authority": ("(CASE WHEN i % 10 = 0 THEN 1 ELSE 0 END)", []),
        },
        src,
    )
    every = max(1, cases // surveys)
    answered = _plus("resolved_at", "86400")
    _copy(
        survey_template,
        {
            "case_id": ("cid", []),
            "staff_id": ("assignee_id", []),
            "team_id": ("team_id", []),
            "status": ("'answered'", []),
            "send_after": ("resolved_at", []),
            "sent_at": ("resolved_at", []),
            "expires_at": (_plus("resolved_at", "1209600"), []),
            "answered_at": (answered, []),
            "created_at": ("resolved_at", []),
            "updated_at": ("resolved_at", []),
            "csat": ("1 + ((i / 3) % 5)", []),
            "nps": ("(i / 7) % 11", []),
            "would_use_again": ("1 + ((i / 11) % 5)", []),
            "fair_outcome": ("1 + ((i / 13) % 5)", []),
            "fair_process": ("1 + ((i / 17) % 5)", []),
            "fair_treatment": ("1 + ((i / 19) % 5)", []),
            "promises_kept": ("'yes'", []),
        },
        src + f" AND (id - {base}) % {every} = 0",
    )
    compliment = Compliment(
        staff=agents[0],
        team=teams[0],
        case=template,
        source="survey",
        channel="survey",
        text="Thank you, you were kind and quick.",
    )
    survey_src = f"SELECT id AS sid, case_id, staff_id, team_id, answered_at FROM {Survey._meta.db_table} WHERE case_id > {base} AND id % 10 = 0"  # noqa: S608  # ints
    _copy(
        compliment,
        {
            "staff_id": ("staff_id", []),
            "team_id": ("team_id", []),
            "case_id": ("case_id", []),
            "survey_id": ("sid", []),
            "created_at": ("answered_at", []),
            "updated_at": ("answered_at", []),
        },
        survey_src,
    )
    t_rows = time.perf_counter() - t0
    _rollup()
    t_total = time.perf_counter() - t0
    with connection.cursor() as c:
        c.execute("ANALYZE")
    return {
        "teams": teams,
        "manager": manager,
        "agent": agents[1],
        "supervisor": User.objects.get(username="sup1"),
        "load": {"cases_s": t_cases, "rows_s": t_rows, "total_s": t_total},
    }


def _rollup() -> None:
    """KpiDay as one GROUP BY over the facts, answers and compliments."""
    from django.db import connection, transaction

    from amends.feedback.models import CaseKpi, Compliment, KpiDay, KpiMonth, Survey
    from amends.feedback.selectors import SUM_FIELDS

    zero = dict.fromkeys(SUM_FIELDS, "0")

    def part(table: str, at: str, team: str, person: str, values: dict[str, str]) -> str:
        cols = ", ".join(f"{values.get(name, zero[name])} AS {name}" for name in SUM_FIELDS)
        return f"SELECT {_day(at)} AS day, {team} AS team_id, {person} AS person_id, {cols} FROM {table}"  # noqa: S608  # metadata

    facts = part(
        CaseKpi._meta.db_table,
        "resolved_at",
        "team_id",
        "person_id",
        {
            "resolved": "1",
            "ack_count": "(CASE WHEN ack_seconds IS NULL THEN 0 ELSE 1 END)",
            "ack_seconds": "COALESCE(ack_seconds, 0)",
            "resolve_count": "(CASE WHEN resolve_seconds IS NULL THEN 0 ELSE 1 END)",
            "resolve_seconds": "COALESCE(resolve_seconds, 0)",
            "steps_all_done": "(CASE WHEN steps_all_done THEN 1 ELSE 0 END)",
            "promises_due": "promises_due",
            "promises_kept_on_time": "promises_kept_on_time",
            "remedies": "remedies",
            "remedies_within_authority": "remedies_within_authority",
        },
    )
    score = {}
    for name in ("csat", "fair_outcome", "fair_process", "fair_treatment"):
        score[f"{name}_count"] = f"(CASE WHEN {name} IS NULL THEN 0 ELSE 1 END)"
        score[f"{name}_sum"] = f"COALESCE({name}, 0)"
    answers = part(
        f"{Survey._meta.db_table} WHERE answered_at IS NOT NULL",
        "answered_at",
        "team_id",
        "staff_id",
        {"answered": "1", "csat_satisfied": "(CASE WHEN csat >= 4 THEN 1 ELSE 0 END)", **score},
    )
    praise = part(
        Compliment._meta.db_table, "created_at", "team_id", "staff_id", {"compliments": "1"}
    )
    sums = ", ".join(f"SUM({name})" for name in SUM_FIELDS)
    if connection.vendor == "postgresql":
        key = (
            "day::text || ':' || COALESCE(team_id, 0)::text || ':' || COALESCE(person_id, 0)::text"
        )
    else:
        key = "day || ':' || COALESCE(team_id, 0) || ':' || COALESCE(person_id, 0)"
    sql = (
        f"INSERT INTO {KpiDay._meta.db_table} (key, day, team_id, person_id, {', '.join(SUM_FIELDS)}) "  # noqa: S608  # metadata
        f"SELECT {key}, day, team_id, person_id, {sums} FROM ({facts} UNION ALL {answers} UNION ALL {praise}) AS u "
        "GROUP BY day, team_id, person_id"
    )
    if connection.vendor == "postgresql":
        month = "date_trunc('month', day)::date"
        month_key = f"{month}::text || ':' || COALESCE(team_id, 0)::text || ':' || COALESCE(person_id, 0)::text"
    else:
        month = "date(day, 'start of month')"
        month_key = f"{month} || ':' || COALESCE(team_id, 0) || ':' || COALESCE(person_id, 0)"
    months = (
        f"INSERT INTO {KpiMonth._meta.db_table} (key, month, team_id, person_id, {', '.join(SUM_FIELDS)}) "  # noqa: S608  # metadata
        f"SELECT {month_key}, {month}, team_id, person_id, {sums} FROM {KpiDay._meta.db_table} "
        f"GROUP BY {month}, team_id, person_id"
    )
    with transaction.atomic(), connection.cursor() as cursor:
        KpiDay.objects.all().delete()
        KpiMonth.objects.all().delete()
        cursor.execute(sql)
        cursor.execute(months)


def check_rollup(samples: int, seed: int) -> int:
    """Recompute random buckets with the services' own code: the sums must not change."""
    from amends.feedback.models import KpiDay, KpiMonth
    from amends.feedback.selectors import SUM_FIELDS
    from amends.feedback.services.kpis import kpi_bucket_refresh

    rng = random.Random(seed)
    ids = list(KpiDay.objects.values_list("pk", flat=True))
    month_before = {row.pop("key"): row for row in KpiMonth.objects.values("key", *SUM_FIELDS)}
    for pk in rng.sample(ids, min(samples, len(ids))):
        before = (
            KpiDay.objects.filter(pk=pk).values(*SUM_FIELDS, "day", "team_id", "person_id").get()
        )
        kpi_bucket_refresh(
            day=before["day"], team_id=before["team_id"], person_id=before["person_id"]
        )
        after = KpiDay.objects.filter(key=KpiDay.objects.get(pk=pk).key).values(*SUM_FIELDS).get()
        expected = {name: before[name] for name in SUM_FIELDS}
        if after != expected:
            raise SystemExit(f"rollup mismatch in bucket {pk}: {expected} != {after}")
        key = f"{before['day'].replace(day=1).isoformat()}:{before['team_id'] or 0}:{before['person_id'] or 0}"
        if KpiMonth.objects.filter(key=key).values(*SUM_FIELDS).get() != month_before[key]:
            raise SystemExit(f"month rollup mismatch in {key}")
    return len(ids)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def measure(org: dict[str, object], runs: int) -> list[dict[str, object]]:
    from datetime import timedelta

    from django.db import connection
    from django.test import Client
    from django.utils import timezone

    from amends.accounts.services import api_token_create

    today = timezone.now().date()
    two_years = f"from={(today - timedelta(days=730)).isoformat()}&to={today.isoformat()}"
    year = f"from={(today - timedelta(days=365)).isoformat()}&to={today.isoformat()}"
    month = f"from={(today - timedelta(days=29)).isoformat()}&to={today.isoformat()}"
    team = org["teams"][2].pk  # type: ignore[index]
    sup_team = org["teams"][0].pk  # type: ignore[index]
    clients = {}
    for role in ("manager", "supervisor", "agent"):
        client = Client(HTTP_HOST="127.0.0.1")
        client.force_login(org[role])  # type: ignore[arg-type]
        clients[role] = client
    _, token = api_token_create(user=org["manager"], name="bench")  # type: ignore[arg-type]
    api = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Bearer {token}")
    cases = [
        ("KPIs, manager, everyone, 2 years", "manager", f"/feedback/kpis/?{two_years}"),
        ("KPIs, manager, everyone, 1 year", "manager", f"/feedback/kpis/?{year}"),
        ("KPIs, manager, everyone, 30 days", "manager", f"/feedback/kpis/?{month}"),
        ("KPIs, manager, one team, 1 year", "manager", f"/feedback/kpis/?team={team}&{year}"),
        (
            "KPIs, supervisor, own team, 1 year",
            "supervisor",
            f"/feedback/kpis/?team={sup_team}&{year}",
        ),
        ("KPIs, agent, own, 1 year", "agent", f"/feedback/kpis/?{year}"),
        ("API /api/v1/kpis, manager, 2 years", "api", f"/api/v1/kpis?{two_years}"),
        ("Champions, team, 1 year", "agent", f"/feedback/champions/?team={team}&{year}"),
        ("Champions, team, 30 days", "agent", f"/feedback/champions/?team={team}&{month}"),
        (
            "Drill-down cases, team, 1 year, page 1",
            "manager",
            f"/feedback/kpis/cases/?team={team}&{year}",
        ),
        (
            "Drill-down surveys, everyone, 1 year, page 1",
            "manager",
            f"/feedback/kpis/surveys/?{year}",
        ),
    ]
    results = []
    for label, who, url in cases:
        client = api if who == "api" else clients[who]
        response = client.get(url)  # warm-up (and status check)
        assert response.status_code == 200, (url, response.status_code)
        counted: list[str] = []

        def count(execute, sql, params, many, context, counted=counted):  # type: ignore[no-untyped-def]
            counted.append(sql)
            return execute(sql, params, many, context)

        with connection.execute_wrapper(count):
            client.get(url)
        timings, cpu = [], []
        for _ in range(runs):
            t, c = time.perf_counter(), time.process_time()
            client.get(url)
            timings.append((time.perf_counter() - t) * 1000)
            cpu.append((time.process_time() - c) * 1000)
        results.append(
            {
                "page": label,
                "queries": len(counted),
                "p50": statistics.median(timings),
                "p95": percentile(timings, 95),
                "max": max(timings),
                "cpu": statistics.median(cpu),
            }
        )
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--surveys", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    _prepare(args.db)

    import django

    django.setup()
    from amends.cases.models import Case
    from amends.feedback.models import CaseKpi, Compliment, Survey

    org = load(args.cases, args.surveys)
    timing = org["load"]
    buckets = check_rollup(40, args.seed)
    print(
        f"[{args.db}] {Case.objects.count():,} cases, {CaseKpi.objects.count():,} KPI facts, "
        f"{Survey.objects.filter(answered_at__isnull=False).count():,} answered surveys, "
        f"{Compliment.objects.count():,} compliments, {buckets:,} daily sums; loaded in "
        f"{timing['total_s']:.0f}s (cases {timing['cases_s']:.0f}s); 40 sums re-checked"  # type: ignore[index]
    )
    try:
        load_avg = os.getloadavg()
        print(f"[{args.db}] load average before measuring: {load_avg[0]:.1f}")
    except OSError:
        pass
    print(f"{'page':48} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'CPU ms':>7}")
    for row in measure(org, args.runs):
        print(
            f"{row['page']:48} {row['queries']:>7} {row['p50']:>8.1f} {row['p95']:>8.1f} "
            f"{row['max']:>8.1f} {row['cpu']:>7.1f}"
        )
    with contextlib.suppress(OSError):
        print(f"[{args.db}] load average after measuring: {os.getloadavg()[0]:.1f}")
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


if __name__ == "__main__":
    main()
