"""Incident benchmark: `python bench/bench_incidents.py --db sqlite|postgres [--customers N]`.

Builds a fresh database (SQLite file in a temporary directory, or the PostgreSQL database
`amends_incidents_bench` on BENCH_PG_URL, default postgres://postgres@127.0.0.1:5432; dropped
afterwards unless --keep), declares a 200-minute flight delay under the EU261 policy (owner: a
manager with authority for its remedies), loads N customers (setup, not timed), then times end
to end, through the real services:

1. adding the N affected customers in API-sized batches of 10,000 (set-based insert, each
   evaluated under the policy: compensation menu, meals owed);
2. the first notification round to the end: per customer their own signed link, the notice
   words (filled once per round, per customer only name, choices and link) and an email queued
   in the outbox in one bulk queue per batch (cases open later, when a customer chooses);
3. the outbox drained by the worker's send sweep (`outbound_sweep`) through Django's in-memory
   mail backend (nothing leaves the machine), so every customer has been mailed once.

Each step prints wall time and the CPU time of this Python process (`time.process_time`): the
machine is shared, and the gap between the two is time spent waiting (the database server, other
processes). Then, with a second round being worked off by another process, it requests the
incident page (`/incidents/<id>/`, the Django test client, logged in; 25 impacts a page) and the
progress partial polled by htmx, and prints p50/p95.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
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


def _server_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (same machine), 0 on
    SQLite (the database work is in this process there)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:  # one straight script
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--skip-send", action="store_true", help="Leave the outbox unsent (step 3)."
    )
    args = parser.parse_args()
    _prepare(args.db)

    import django

    django.setup()
    from decimal import Decimal

    from django.core import mail
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
    from amends.channels.services.outbound import outbound_sweep
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
        started_at=timezone.now() - timedelta(hours=5),
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

    print(f"load average before: {Path('/proc/loadavg').read_text().strip()}")
    s0 = _server_cpu()
    t0, c0 = time.perf_counter(), time.process_time()
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
    t_add, c_add = time.perf_counter() - t0, time.process_time() - c0
    s_add = _server_cpu() - s0
    again = impacts_add(
        incident=incident,
        rows=[AffectedRow(external_ref=f"P-{i}") for i in range(min(n, 10_000))],
        actor=analyst,
    )
    assert again.added == 0
    t1, c1 = time.perf_counter(), time.process_time()
    notice = round_start(incident=incident, kind=RoundKind.INITIAL, actor=analyst)
    round_run_to_end(notice=notice)
    t_round, c_round = time.perf_counter() - t1, time.process_time() - c1
    s_round = _server_cpu() - s0 - s_add
    total, c_total = t_add + t_round, c_add + c_round
    mails = NotificationRound.objects.get(pk=notice.pk).sent
    server = " (database server CPU is in the Python figure)"
    if connection.vendor == "postgresql":
        server = f"; PostgreSQL backend CPU: add {s_add:.1f} s, round {s_round:.1f} s"
    print(f"add + evaluate {n}: {t_add:.1f} s wall, {c_add:.1f} s CPU ({n / t_add:.0f}/s)")
    print(
        f"first round (own link, notice, queued in the outbox): {t_round:.1f} s wall, "
        f"{c_round:.1f} s CPU ({n / t_round:.0f}/s)"
    )
    print(
        f"end to end, added and queued: {total:.1f} s wall, {c_total:.1f} s CPU "
        f"(target < 60 s)  emails queued: {mails}{server}"
    )
    if not args.skip_send:
        t2, c2, s2 = time.perf_counter(), time.process_time(), _server_cpu()
        delivered = outbound_sweep(now=timezone.now())
        t_send, c_send = time.perf_counter() - t2, time.process_time() - c2
        s_send = _server_cpu() - s2
        assert delivered == mails == len(mail.outbox) == n, (delivered, mails, len(mail.outbox))
        assert len({m.to[0] for m in mail.outbox}) == n  # each customer mailed exactly once
        mail.outbox.clear()
        print(
            f"outbox sent (in-memory backend): {t_send:.1f} s wall, {c_send:.1f} s CPU "
            f"(backend {s_send:.1f} s); added, queued and sent: {total + t_send:.1f} s wall, "
            f"{c_total + c_send:.1f} s CPU"
        )
    print(f"load average after: {Path('/proc/loadavg').read_text().strip()}")

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
    page: list[float] = []
    partial: list[float] = []
    page_cpu: list[float] = []
    try:
        for i in range(args.requests):
            url = (
                f"/incidents/{incident.pk}/"
                if i % 2 == 0
                else f"/incidents/{incident.pk}/progress/"
            )
            s, cs = time.perf_counter(), time.process_time()
            response = client.get(url)
            elapsed = (time.perf_counter() - s) * 1000
            assert response.status_code == 200, response.status_code
            (page if i % 2 == 0 else partial).append(elapsed)
            if i % 2 == 0:
                page_cpu.append((time.process_time() - cs) * 1000)
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
    print(
        f"incident page CPU time of this process: p50 {statistics.median(page_cpu):.1f} ms, "
        f"p95 {_pct(page_cpu, 0.95):.1f} ms; load average {Path('/proc/loadavg').read_text()}"
    )
    if not args.keep:
        _drop(args.db)


if __name__ == "__main__":
    main()
