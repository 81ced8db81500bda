"""Loyalty dashboards, reports and risk updates at scale: `python bench/bench_loyalty.py`.

Issue 21: with 1,000,000 cases, 300,000 customers and 200,000 survey answers, the dashboard
answers under 300 ms at p95, the operations report under 1 s, and a risk update for one customer
under 10 ms, on SQLite and on PostgreSQL.

Uses the database configured like `amends` itself (DATABASE_URL, else SQLite in
AMENDS_DATA_DIR), loaded first with `bench/load_cases.py --count 1000000 --customers 300000`
(cases with their steps, clocks and events, written without the services, so no hook ran):

1. `amends loyalty backfill` builds the failure facts, daily rollups and risk scores (timed);
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

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import F, Max  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from amends.accounts.choices import Role  # noqa: E402
from amends.accounts.models import StaffProfile  # noqa: E402
from amends.cases.models import Case  # noqa: E402
from amends.loyalty.models import CaseFact, CustomerRisk, DailyRollup  # noqa: E402
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
    fn()  # warm-up
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return {
        "p50": round(statistics.median(samples), 1),
        "p95": round(samples[max(0, int(len(samples) * 0.95) - 1)], 1),
        "max": round(samples[-1], 1),
        "runs": runs,
    }


def prepare(surveys: int, rebuild: bool) -> dict[str, Any]:
    info: dict[str, Any] = {}
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
    info["facts"] = CaseFact.objects.count()
    info["surveyed_facts"] = CaseFact.objects.filter(csat__isnull=False).count()
    info["rollup_rows"] = DailyRollup.objects.count()
    info["at_risk"] = CustomerRisk.objects.filter(status="at_risk").count()
    return info


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--surveys", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--rebuild", action="store_true", help="Backfill even if facts exist")
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]

    info = prepare(args.surveys, args.rebuild)
    print(json.dumps(info))
    manager = StaffProfile.objects.filter(role=Role.MANAGER).select_related("user").first()
    assert manager is not None, "load the data with bench/load_cases.py first"
    team_id = StaffProfile.objects.filter(team__isnull=False).values_list("team_id", flat=True)[0]
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
    for name, fn in pages.items():
        runs = (
            args.runs
            if "report 1 year" not in name and "paradox" not in name
            else max(10, args.runs // 4)
        )
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
    for name in ("risk update, one customer", "fact refresh, one case (hook)"):
        print(f"{name:32} {results[name]}")

    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = out / f"loyalty-{connection.vendor}-{info['cases']}-{stamp}.json"
    loadavg = os.getloadavg()
    path.write_text(json.dumps({"info": info, "results": results, "loadavg": loadavg}, indent=2))
    print(f"load average {loadavg[0]:.1f}; written {path}")


if __name__ == "__main__":
    main()
