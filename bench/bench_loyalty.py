"""Loyalty dashboards, reports and risk updates at scale: `python bench/bench_loyalty.py`.

Issue 21: with 1,000,000 cases, 300,000 customers and 200,000 survey answers, the dashboard
answers under 300 ms at p95, the operations report under 1 s, and a risk update for one customer
under 10 ms, on SQLite and on PostgreSQL.

With `--fresh sqlite|postgres` it builds its own database (SQLite in a temporary directory, or
the PostgreSQL database `amends_loyalty_bench` on BENCH_PG_URL) and loads it with INSERT … SELECT
over a generated series, each row copying every column of a template made through the real
services: --customers customers, --cases cases over the last two years (the newest 10% open,
the rest closed; five teams, ten categories, four services, six root causes on two thirds of
them, severities 1-4). Without --fresh it uses the database configured like `amends` itself
(e.g. one loaded by `bench/load_cases.py`). Then:

1. `amends loyalty backfill` builds the failure facts, daily and weekly rollups and risk scores
   (timed); a database kept from an earlier run is migrated first, and its rollups rebuilt if it
   predates the weekly rollup (`--load-only` stops here: measure later without `--fresh`);
2. survey answers are put on every (cases / --surveys)th fact (CSAT, NPS and would-use-again
   varying with the id), 3% of customers are marked lost with a date, and the rollups rebuilt;
3. through Django's test client, in-process (session, permission check, queries, template),
   --runs requests of each page and API: the dashboard for 90 days, a year and one team's
   90 days, `GET /api/v1/analytics/overview`, the operations report for 90 days and a year,
   the paradox report, MTBF, the at-risk list and a drill-down page;
4. `customer_risk_refresh` for --runs random customers with cases, and `case_fact_refresh`
   (the per-event hook path) for --runs random cases, each in its own rolled-back transaction.

Prints p50 / p95 / max in ms and writes bench/results/loyalty-<db>-<time>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")

PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_NAME = os.environ.get("BENCH_PG_NAME", "amends_loyalty_bench")


def fresh(db: str) -> None:
    if db == "sqlite":
        import tempfile

        os.environ.pop("DATABASE_URL", None)
        os.environ["AMENDS_DATA_DIR"] = os.environ.get("BENCH_SQLITE_DIR") or tempfile.mkdtemp(
            prefix="bench_loyalty_"
        )
        print(f"SQLite database in {os.environ['AMENDS_DATA_DIR']}", flush=True)
        return
    import psycopg

    with psycopg.connect(
        f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{PG_NAME}"')
    os.environ["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"


if "--fresh" in sys.argv[:-1]:  # the database must be chosen before Django starts
    fresh(sys.argv[sys.argv.index("--fresh") + 1])

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F, Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from amends.accounts.choices import Role  # noqa: E402
from amends.accounts.models import StaffProfile, Team  # noqa: E402
from amends.cases.models import Case  # noqa: E402
from amends.loyalty.models import CaseFact, CustomerRisk, DailyRollup, WeeklyRollup  # noqa: E402
from amends.loyalty.services.backfill import (  # noqa: E402
    facts_backfill,
    risks_backfill,
    rollups_rebuild,
)
from amends.loyalty.services.facts import case_fact_refresh  # noqa: E402
from amends.loyalty.services.risk import customer_risk_refresh  # noqa: E402


class RollbackError(Exception):
    pass


def timed(fn: Any, runs: int) -> dict[str, float]:
    """Wall-clock p50 / p95 / max, and the process's own CPU time per run (p50), which a
    shared, loaded machine inflates much less than the wall clock."""
    fn()  # warm-up
    fn()
    samples, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    samples.sort()
    return {
        "p50": round(statistics.median(samples), 1),
        "p95": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max": round(samples[-1], 1),
        "cpu_p50": round(statistics.median(cpu), 1),
        "runs": runs,
    }


def prepare(surveys: int, rebuild: bool) -> dict[str, Any]:
    info: dict[str, Any] = {}
    from django.core.management import call_command

    call_command("migrate", verbosity=0)  # a database kept from an earlier run
    cases = Case.objects.count()
    info["cases"] = cases
    info["customers"] = CustomerRisk._meta.apps.get_model("customers", "Customer").objects.count()
    if rebuild or CaseFact.objects.count() < cases:
        start = time.monotonic()
        facts_backfill(batch=10_000, progress=lambda m: print(m, end="\r", flush=True))
        info["backfill_facts_s"] = round(time.monotonic() - start, 1)
        print()
        every = max(1, cases // surveys) if surveys else 0
        if every:
            with transaction.atomic():
                CaseFact.objects.annotate(m=F("case_id") % every).filter(m=0).update(
                    csat=F("case_id") % 5 + 1,
                    nps=F("case_id") % 11,
                    would_use_again=(F("case_id") / 7) % 5 + 1,
                )
        start = time.monotonic()
        rows = rollups_rebuild()
        info["rollup_rows"] = rows
        info["rollups_rebuild_s"] = round(time.monotonic() - start, 1)
        # Signals the insight app would have sent: every 40th customer said they may leave.
        customer_model = CustomerRisk._meta.apps.get_model("customers", "Customer")
        churned = (
            customer_model.objects.annotate(m=F("pk") % 40).filter(m=0).values_list("pk", flat=True)
        )
        CustomerRisk.objects.bulk_create(
            [CustomerRisk(customer_id=pk, last_churn_intent_at=timezone.now()) for pk in churned],
            batch_size=2000,
            ignore_conflicts=True,
        )
        start = time.monotonic()
        risks_backfill(batch=10_000, progress=lambda m: print(m, end="\r", flush=True))
        print()
        info["backfill_risk_s"] = round(time.monotonic() - start, 1)
        now = timezone.now()
        with transaction.atomic():
            CustomerRisk.objects.annotate(m=F("customer_id") % 33).filter(m=0).update(
                status="lost", lost_at=now - timedelta(days=200), lost_reason="Price"
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        else:
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
    elif not WeeklyRollup.objects.exists() and DailyRollup.objects.exists():
        # loaded before the weekly rollup existed: rebuild both (by the organisation's days)
        start = time.monotonic()
        info["rollup_rows"] = rollups_rebuild()
        info["rollups_rebuild_s"] = round(time.monotonic() - start, 1)
    info["facts"] = CaseFact.objects.count()
    info["surveyed_facts"] = CaseFact.objects.filter(csat__isnull=False).count()
    info["rollup_rows"] = DailyRollup.objects.count()
    info["weekly_rollup_rows"] = WeeklyRollup.objects.count()
    info["at_risk"] = CustomerRisk.objects.filter(status="at_risk").count()
    return info


SPAN_SECONDS = 2 * 365 * 86400


def _series(count: int) -> str:
    if connection.vendor == "postgresql":
        return f"SELECT generate_series(1, {count}) AS i"
    return f"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count}) SELECT i FROM n"  # noqa: S608  # an int


def _ts(expr: str) -> str:
    """SQL for `%s - expr seconds` (a datetime parameter), per database."""
    if connection.vendor == "postgresql":
        return f"(%s::timestamptz - make_interval(secs => ({expr})))"
    return f"strftime('%Y-%m-%d %H:%M:%f', %s, '-' || ({expr}) || ' seconds')"


def _copy(template: Any, overrides: dict[str, tuple[str, list[Any]]], source: str) -> None:
    """INSERT every column of `template`'s row, `overrides` as SQL, for each row of `source`."""
    model = type(template)
    columns, values, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in overrides:
            continue
        columns.append(field.column)
        if field.column in overrides:
            sql, extra = overrides[field.column]
            values.append(sql)
            params.extend(extra)
        else:
            values.append("%s")
            params.append(field.get_db_prep_save(getattr(template, field.attname), connection))
    table = model._meta.db_table
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(values)} FROM ({source}) AS s"  # noqa: S608  # model metadata
    sql = sql.replace("%", "%%").replace("%%s", "%s")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def load(cases: int, customers: int) -> dict[str, Any]:
    """A fresh organisation and `cases` cases for `customers` customers, set-based."""
    from django.contrib.auth.models import User
    from django.core.management import call_command

    from amends.accounts.models import Team
    from amends.cases.tests.factories import case_in_status
    from amends.customers.models import Customer
    from amends.taxonomy.models import Category, RootCause, Service

    call_command("migrate", verbosity=0)
    teams = [Team.objects.create(name=f"Team {t + 1}") for t in range(5)]
    manager = User.objects.create_user("manager")
    StaffProfile.objects.create(user=manager, team=None, role=Role.MANAGER)
    parents = [Category.objects.create(name=f"Area {p + 1}") for p in range(5)]
    categories = [
        Category.objects.create(name=f"Kind {c + 1}", parent=parents[c % 5]) for c in range(10)
    ]
    services = [Service.objects.create(name=f"Service {s + 1}") for s in range(4)]
    causes = [RootCause.objects.create(name=f"Cause {r + 1}") for r in range(6)]
    now = timezone.now()
    stamp: Any = now if connection.vendor == "postgresql" else now.strftime("%Y-%m-%d %H:%M:%S.%f")
    t0 = time.perf_counter()
    first = Customer.objects.create(name="Bench customer 0", external_ref="LB-0")
    _copy(
        first,
        {
            "name": ("'Bench customer ' || i", []),
            "external_ref": ("'LB-' || i", []),
            "email": ("'bench' || i || '@example.com'", []),
        },
        _series(customers - 1),
    )
    template = case_in_status(
        "closed", actor=manager, customer=first, team=teams[0], category=categories[0]
    )
    base = template.pk
    step = SPAN_SECONDS // cases
    cid0, cat0, svc0, rc0, team0 = (
        first.pk,
        categories[0].pk,
        services[0].pk,
        causes[0].pk,
        teams[0].pk,
    )
    created = (
        f"(i * {step} + 345600)"  # at least four days ago, so every offset below stays positive
    )
    common = {
        "id": (f"{base} + i", []),
        "customer_id": (f"{cid0} + ((i * 211) % {customers})", []),
        "category_id": (f"{cat0} + (i % 10)", []),
        "team_id": (f"{team0} + (i % 5)", []),
        "service_id": (f"{svc0} + ((i / 10) % 4)", []),
        "severity": ("1 + ((i / 3) % 4)", []),
        "created_at": (_ts(created), [stamp]),
        "updated_at": (_ts(created), [stamp]),
    }
    open_rows = cases // 10
    _copy(
        template,
        {
            **common,
            "status": ("'in_recovery'", []),
            "outcome": ("''", []),
            "root_cause_id": ("NULL", []),
            "resolved_at": ("NULL", []),
            "closed_at": ("NULL", []),
            "resolve_due_at": (_ts(f"{created} - 172800"), [stamp]),
            "sla_due_at": (_ts(f"{created} - 172800"), [stamp]),
            "sla_at_risk_at": (_ts(f"{created} - 129600"), [stamp]),
        },
        f"SELECT i FROM ({_series(open_rows)}) AS o",  # noqa: S608  # ints
    )
    _copy(
        template,
        {
            **common,
            "root_cause_id": (f"CASE WHEN i % 3 = 0 THEN NULL ELSE {rc0} + (i % 6) END", []),
            "resolve_due_at": (_ts(f"{created} - 172800"), [stamp]),
            "resolved_at": (_ts(f"{created} - (i % 259200)"), [stamp]),
            "closed_at": (_ts(f"{created} - (i % 259200) - 3600"), [stamp]),
        },
        f"SELECT i FROM ({_series(cases)}) AS c WHERE i > {open_rows}",  # noqa: S608  # ints
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"load_s": round(time.perf_counter() - t0, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--surveys", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--rebuild", action="store_true", help="Backfill even if facts exist")
    parser.add_argument("--fresh", choices=["sqlite", "postgres"], help="Build a new database")
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=300_000)
    parser.add_argument(
        "--load-only", action="store_true", help="Load and backfill, then stop (measure later)"
    )
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    loaded = load(args.cases, args.customers) if args.fresh else {}
    if loaded:
        print(f"loaded {args.cases:,} cases for {args.customers:,} customers: {loaded}")
    info = {**loaded, **prepare(args.surveys, args.rebuild)}
    print(json.dumps(info), flush=True)
    if args.load_only:
        return
    load_before = os.getloadavg()
    manager = StaffProfile.objects.filter(role=Role.MANAGER).select_related("user").first()
    assert manager is not None, "load the data with bench/load_cases.py first"
    team_id = Team.objects.order_by("pk").values_list("pk", flat=True)[0]
    client = Client()
    client.force_login(manager.user)
    from amends.accounts.services import api_token_create

    _, token = api_token_create(user=manager.user, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    today = timezone.now().date()
    year = {"since": (today - timedelta(days=364)).isoformat()}

    def get(c: Client, path: str, params: dict[str, Any] | None = None) -> Any:
        def run() -> None:
            response = c.get(path, params or {})
            assert response.status_code == 200, (path, response.status_code)

        return run

    results: dict[str, Any] = {}
    pages = {
        "dashboard 90 days": get(client, "/loyalty/"),
        "dashboard 1 year": get(client, "/loyalty/", year),
        "dashboard 1 team 90 days": get(client, "/loyalty/", {"team": team_id}),
        "API overview 90 days": get(api, "/api/v1/analytics/overview"),
        "operations report 90 days": get(client, "/loyalty/operations/"),
        "operations report 1 year": get(client, "/loyalty/operations/", year),
        "API operations CSV 1 year": get(
            api, "/api/v1/analytics/operations", {**year, "format": "csv"}
        ),
        "API MTBF 90 days": get(api, "/api/v1/analytics/mtbf"),
        "paradox 90 days": get(client, "/loyalty/paradox/"),
        "API at-risk first page": get(api, "/api/v1/analytics/at-risk"),
        "drill-down first page": get(client, "/loyalty/cases/", {"metric": "opened"}),
    }
    heavy = ("operations", "paradox", "MTBF")  # reports: fewer runs, they are slower
    for name, fn in pages.items():
        runs = max(5, args.runs // 6) if any(h in name for h in heavy) else args.runs
        results[name] = timed(fn, runs)
        print(f"{name:32} {results[name]}")

    max_case = Case.objects.aggregate(m=Max("pk"))["m"]
    rng = random.Random(7)
    customer_ids = list(
        CaseFact.objects.filter(
            case_id__in=[rng.randint(1, max_case) for _ in range(args.runs * 3)]
        ).values_list("customer_id", flat=True)[: args.runs + 2]
    )
    case_ids = [rng.randint(max_case - 90_000, max_case) for _ in range(args.runs + 2)]

    def each(ids: list[int], fn: Any) -> Any:
        it = iter(ids)

        def run() -> None:
            try:
                with transaction.atomic():
                    fn(next(it))
                    raise RollbackError
            except RollbackError:
                pass

        return run

    results["risk update, one customer"] = timed(
        each(customer_ids, lambda pk: customer_risk_refresh(customer_id=pk)), args.runs
    )
    results["fact refresh, one case (hook)"] = timed(
        each(case_ids, lambda pk: case_fact_refresh(case_id=pk)), args.runs
    )
    from amends.core import hooks
    from amends.loyalty.subscribers import on_case_opened
    from amends.loyalty.sweeps import fact_refresh_sweep

    def opened(pk: int) -> None:
        on_case_opened(hooks.CaseOpened(case_id=pk, customer_id=0, channel="email", actor_id=None))

    def opened_then_swept(pk: int) -> None:
        opened(pk)
        fact_refresh_sweep(now=timezone.now())

    results["case opened hook (queued)"] = timed(each(list(case_ids), opened), args.runs)
    results["queued case refreshed by the sweep"] = timed(
        each(list(case_ids), opened_then_swept), args.runs
    )
    names = (
        "risk update, one customer",
        "fact refresh, one case (hook)",
        "case opened hook (queued)",
        "queued case refreshed by the sweep",
    )
    for name in names:
        print(f"{name:32} {results[name]}")

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = out / f"loyalty-{connection.vendor}-{info['cases']}-{stamp}.json"
    loadavg = os.getloadavg()
    path.write_text(
        json.dumps({"info": info, "results": results, "loadavg": [load_before, loadavg]}, indent=2)
    )
    print(f"load average {load_before[0]:.1f} / {loadavg[0]:.1f}; written {path}")


if __name__ == "__main__":
    main()
