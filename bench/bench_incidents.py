"""Incident benchmark: `python bench/bench_incidents.py --db sqlite|postgres [--customers N]`.

Builds a fresh database (SQLite file in a temporary directory, or the PostgreSQL database
`amends_incidents_bench` on BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432; dropped
afterwards unless --keep), declares a 200-minute flight delay under the EU261 policy (owner: a
manager with authority for its remedies), loads N customers (setup, not timed), then times end
to end, through the real services:

1. adding the N affected customers in API-sized batches of 10,000 (set-based insert, each
   evaluated under the policy: compensation menu, meals owed);
2. the first notification round to the end: per customer their own signed link, the notice
   rendered and an email queued in the outbox (cases open later, when a customer chooses).

Then, with a second round being worked off by another process, it requests the incident page
(`/incidents/<id>/`, the Django test client, logged in) and the progress partial polled by
htmx, and prints p50/p95. Nothing leaves the machine; the outbox is not sent.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "amends_incidents_bench"


def _prepare(db: str) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    os.environ["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    if db == "sqlite":
        os.environ.pop("DATABASE_URL", None)
        os.environ["AMENDS_DATA_DIR"] = tempfile.mkdtemp(prefix="bench_incidents_")
    else:
        import psycopg

        with psycopg.connect(
            f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{PG_NAME}"')
        os.environ["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"


def _drop(db: str) -> None:
    if db != "postgres":
        return
    from django.db import connections

    connections.close_all()
    import psycopg

    with psycopg.connect(
        f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
    ) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:  # one straight script
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    args = parser.parse_args()
    _prepare(args.db)

    import django

    django.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import setup_test_environment
    from django.utils import timezone

    call_command("migrate", verbosity=0)
    setup_test_environment()  # the test client needs it; mail stays in memory

    from django.contrib.auth.models import User

    from amends.accounts.choices import Role
    from amends.accounts.models import StaffProfile, Team
    from amends.customers.models import Customer
    from amends.incidents.choices import IncidentStatus, RoundKind
    from amends.incidents.eu261 import EU261_REMEDY_KINDS, eu261_rules
    from amends.incidents.models import Impact, IncidentKind, NotificationRound
    from amends.incidents.services.impacts import AffectedRow, impacts_add
    from amends.incidents.services.incidents import incident_create, incident_status_set
    from amends.incidents.services.notify import round_run_to_end, round_start
    from amends.incidents.services.policies import policy_create
    from amends.remedies.models import AuthorityRule, RemedyKind

    team = Team.objects.create(name="Operations")
    analyst = User.objects.create_user("analyst", password="bench-pass-2026")  # noqa: S106  # throwaway bench database
    StaffProfile.objects.create(user=analyst, role=Role.SUPERVISOR, team=team)
    owner = User.objects.create_user("owner", password="bench-pass-2026")  # noqa: S106
    StaffProfile.objects.create(user=owner, role=Role.MANAGER, team=team)
    for position, (code, name, monetary) in enumerate(EU261_REMEDY_KINDS, start=50):
        kind, _ = RemedyKind.objects.get_or_create(
            code=code, defaults={"name": name, "monetary": monetary, "position": position}
        )
        AuthorityRule.objects.get_or_create(
            role=Role.MANAGER,
            kind=kind,
            user=None,
            defaults={"max_per_remedy": Decimal("1000") if monetary else None},
        )
    policy_create(
        kind=IncidentKind.objects.get(code="flight_delay"),
        name="EU 261/2004",
        rules=eu261_rules(),
        owner=owner,
        actor=owner,
    )
    incident = incident_create(
        title="AB123 Lisbon-Paris delayed",
        kind="flight_delay",
        magnitude=200,
        started_at=timezone.now() - timezone.timedelta(hours=5),
        severity=2,
        public_description="Flight AB123 arrived 3 hours 20 minutes late.",
        actor=analyst,
    )
    n = args.customers
    Customer.objects.bulk_create(
        [
            Customer(name=f"Passenger {i}", email=f"p{i}@example.com", external_ref=f"P-{i}")
            for i in range(n)
        ],
        batch_size=2000,
    )
    print(f"{args.db} ({connection.vendor}), {n} customers loaded")

    t0 = time.perf_counter()
    for start in range(0, n, 10_000):
        rows = [
            AffectedRow(
                external_ref=f"P-{i}",
                inputs={"distance_km": 600 + (i % 900), "intra_eu": True},
            )
            for i in range(start, min(n, start + 10_000))
        ]
        result = impacts_add(incident=incident, rows=rows, actor=analyst)
        assert result.added == len(rows), result
    t_add = time.perf_counter() - t0
    again = impacts_add(
        incident=incident,
        rows=[AffectedRow(external_ref=f"P-{i}") for i in range(min(n, 10_000))],
        actor=analyst,
    )
    assert again.added == 0
    t1 = time.perf_counter()
    notice = round_start(incident=incident, kind=RoundKind.INITIAL, actor=analyst)
    round_run_to_end(notice=notice)
    t_round = time.perf_counter() - t1
    total = t_add + t_round
    mails = NotificationRound.objects.get(pk=notice.pk).sent
    print(f"add + evaluate {n}: {t_add:.1f} s ({n / t_add:.0f}/s)")
    print(f"first round (own link and email each): {t_round:.1f} s ({n / t_round:.0f}/s)")
    print(f"end to end: {total:.1f} s  (target < 60 s)  emails queued: {mails}")

    # Page latency while another process works off a second round.
    incident_status_set(incident=incident, status=IncidentStatus.MONITORING, actor=analyst)
    second = round_start(incident=incident, kind=RoundKind.UPDATE, actor=analyst)
    connection.close()
    worker = subprocess.Popen(  # our own interpreter and script
        [
            sys.executable,
            "-c",
            "import django; django.setup();"
            "from amends.incidents.models import NotificationRound as R;"
            "from amends.incidents.services.notify import round_run_to_end as run;"
            f"run(notice=R.objects.get(pk={second.pk}), limit=500)",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    client = Client()
    client.force_login(analyst)
    page, partial = [], []
    try:
        for i in range(args.requests):
            url = (
                f"/incidents/{incident.pk}/"
                if i % 2 == 0
                else f"/incidents/{incident.pk}/progress/"
            )
            s = time.perf_counter()
            response = client.get(url)
            elapsed = (time.perf_counter() - s) * 1000
            assert response.status_code == 200, response.status_code
            (page if i % 2 == 0 else partial).append(elapsed)
        in_flight = worker.poll() is None
        done = Impact.objects.filter(incident=incident, notified_round__gte=2).count()
    finally:
        worker.wait(timeout=3600)
    print(
        f"incident page during a round: p50 {statistics.median(page):.1f} ms, "
        f"p95 {_pct(page, 0.95):.1f} ms (target < 100 ms); progress partial p50 "
        f"{statistics.median(partial):.1f} ms, p95 {_pct(partial, 0.95):.1f} ms; "
        f"round still sending at the end: {in_flight} ({done} of {n} done by then)"
    )
    if not args.keep:
        _drop(args.db)


if __name__ == "__main__":
    main()
