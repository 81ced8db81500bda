"""Benchmark proposing a remedy: `python bench/bench_remedies.py [--database-url postgres://…]`.

Issue 3: with 1,000,000 cases and 200,000 remedies, `POST /api/v1/cases/{ref}/remedies` must
answer in under 50 ms at p95, on SQLite and on PostgreSQL.

For one database (SQLite in --data-dir, or PostgreSQL with --database-url) it:

1. tops the cases up to --cases with bench/load_cases.py (as bench/run_bench.py does);
2. tops the remedies up to --remedies by writing rows directly (COPY on PostgreSQL,
   executemany on SQLite, through load_cases' `Table`), in the shape `remedy_propose` and the
   decision services write: the customer denormalised from the case, a kind and (for monetary
   kinds) an amount and currency, statuses spread over granted / pending_approval / approved /
   issued / rejected / cancelled with the approver, decision, issue and cancel fields each
   status carries, created_at spread over the last 90 days (so the rolling per-customer sums
   have data), and one timeline event per remedy;
3. sets the authority matrix with `amends authority set` (management command authority_set):
   agents may grant small refunds, service credits and vouchers and repairs, and may not waive
   fees; the supervisor and manager go further. The request mix therefore exercises both
   outcomes: granted at once, and routed to the Billing care supervisor for approval;
4. measures one proposal in-process (Django's test client, rolled back): its query count, its
   wall and CPU time, and the plans of its two sums (per case, rolling per customer), and a
   case write (`POST /api/v1/cases`) the same way;
5. starts `amends serve` on 127.0.0.1 (bench/run_bench.py's serve/stop), creates a bearer token
   for agent `alex`, and times --requests proposals on distinct random open cases `alex` can
   see, with 1 client and then with 4 concurrent clients; then, as the yardstick the issue
   names, --case-writes `POST /api/v1/cases` with 1 and with 4 clients on the same server.

All traffic goes to 127.0.0.1, every loop is bounded, the server is stopped at the end. Prints
a table and writes JSON to bench/results/remedies-<database>-<cases>-<time>.json. Each figure
is stored with the load average it was taken under.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run_bench import (  # noqa: E402
    HOST,
    PYTHON,
    Client,
    case_count,
    create_throughput,
    free_port,
    manage,
    percentile,
    serve,
    stop,
)

AGENT = "alex"  # Billing care agent of the demo organisation that load_cases builds
SUPERVISOR = "sky"  # Billing care supervisor: the nearest approver for alex
MANAGER = "morgan"

# (role, kind, options for `amends authority set`)
AUTHORITY: list[tuple[str, str, list[str]]] = [
    ("agent", "refund", ["--max-per-remedy", "50", "--max-per-case", "150",
                         "--max-per-customer", "300", "--period-days", "30"]),
    ("agent", "service_credit", ["--max-per-remedy", "25",
                                 "--max-per-customer", "100", "--period-days", "30"]),
    ("agent", "voucher", ["--max-per-remedy", "100"]),
    ("agent", "repair", []),
    ("agent", "fee_waiver", ["--deny"]),
    ("supervisor", "refund", ["--max-per-remedy", "500", "--max-per-case", "1500",
                              "--max-per-customer", "3000", "--period-days", "30"]),
    ("supervisor", "service_credit", ["--max-per-remedy", "250",
                                      "--max-per-customer", "1000", "--period-days", "30"]),
    ("supervisor", "voucher", ["--max-per-remedy", "500"]),
    ("supervisor", "repair", []),
    ("supervisor", "fee_waiver", ["--max-per-remedy", "200"]),
    ("manager", "refund", []),
    ("manager", "service_credit", []),
    ("manager", "voucher", []),
    ("manager", "repair", []),
    ("manager", "fee_waiver", []),
]  # fmt: skip

# What the agent proposes, in turn: half within authority, half above it.
PROPOSALS: list[dict[str, str]] = [
    {"kind": "refund", "amount": "20.00", "currency": "USD"},  # within (50 per remedy)
    {"kind": "refund", "amount": "80.00", "currency": "USD"},  # above → supervisor
    {"kind": "service_credit", "amount": "10.00", "currency": "USD"},  # within
    {"kind": "voucher", "amount": "150.00", "currency": "USD"},  # above → supervisor
    {"kind": "repair"},  # within (no amount)
    {"kind": "fee_waiver", "amount": "30.00", "currency": "USD"},  # denied → supervisor
]

# Status mix of the preloaded remedies (weights).
STATUS_MIX = [
    ("granted", 35),
    ("pending_approval", 5),
    ("approved", 15),
    ("issued", 30),
    ("rejected", 8),
    ("cancelled", 7),
]
MONETARY_AMOUNTS = [5, 10, 15, 20, 25, 30, 40, 50, 60, 75, 100, 150, 250]


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def ensure_cases(env: dict[str, str], count: int) -> int:
    have = case_count(env)
    if have < count:
        print(f"loading {count - have:,} cases with bench/load_cases.py …", flush=True)
        subprocess.run(
            [PYTHON, str(ROOT / "bench" / "load_cases.py"), "--count", str(count - have)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=6 * 3600,
        )
    return case_count(env)


def django_setup(env: dict[str, str]) -> None:
    """Django in this process, on the same database as the server (settings from env)."""
    for key in ("DATABASE_URL", "AMENDS_DATA_DIR", "DJANGO_SETTINGS_MODULE"):
        os.environ.pop(key, None)
        if key in env:
            os.environ[key] = env[key]
    import django

    django.setup()


def ensure_remedies(count: int, seed: int, batch: int) -> dict[str, Any]:
    """Top remedies up to `count`, with the rows and events the remedies services write."""
    from django.contrib.auth.models import User
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.db.models import Max, Min
    from django.utils import timezone

    from amends.accounts.choices import Role
    from amends.accounts.models import StaffProfile
    from amends.cases.models import Case, CaseEvent
    from amends.remedies.choices import RemedyEventKind
    from amends.remedies.models import Remedy, RemedyKind
    from bench.load_cases import Table

    have = Remedy.objects.count()
    if have >= count:
        return {"remedies": have, "loaded": 0, "seconds": 0.0}
    started = time.monotonic()
    rng = random.Random(seed)
    now = timezone.now()
    kinds = {k.code: k for k in RemedyKind.objects.all()}
    monetary = [k for k in kinds.values() if k.monetary]
    other = [k for k in kinds.values() if not k.monetary]
    agents_by_team: dict[int, list[int]] = {}
    for p in StaffProfile.objects.filter(role=Role.AGENT, team__isnull=False):
        agents_by_team.setdefault(p.team_id, []).append(p.user_id)  # type: ignore[arg-type]
    supervisor = User.objects.get(username=SUPERVISOR)
    manager = User.objects.get(username=MANAGER)
    sup_team = supervisor.staff.team_id
    # Remedies sit on the newest third of the cases (the last ~8 months of a two-year spread).
    bounds = Case.objects.aggregate(lo=Min("id"), hi=Max("id"))
    lo = bounds["hi"] - (bounds["hi"] - bounds["lo"]) // 3
    cases = list(
        Case.objects.filter(id__gte=lo).values_list("id", "customer_id", "team_id", "assignee_id")
    )
    statuses = [s for s, _ in STATUS_MIX]
    weights = [w for _, w in STATUS_MIX]
    next_id = (Remedy.objects.aggregate(m=Max("id"))["m"] or 0) + 1
    remedy_table, event_table = Table(Remedy), Table(CaseEvent)
    event_kind = {
        "granted": RemedyEventKind.GRANTED,
        "pending_approval": RemedyEventKind.APPROVAL_REQUESTED,
        "approved": RemedyEventKind.APPROVED,
        "issued": RemedyEventKind.ISSUED,
        "rejected": RemedyEventKind.REJECTED,
        "cancelled": RemedyEventKind.CANCELLED,
    }
    todo = count - have
    done = 0
    while done < todo:
        rows, events = [], []
        for _ in range(min(batch, todo - done)):
            pk = next_id
            next_id += 1
            case_id, customer_id, team_id, assignee_id = rng.choice(cases)
            status = rng.choices(statuses, weights=weights)[0]
            if status == "pending_approval":  # still waiting: asked within the last day
                created = now - timedelta(seconds=rng.uniform(60, 86_400))
            else:
                created = now - timedelta(seconds=rng.uniform(3_600, 90 * 86_400))
            kind = rng.choice(monetary) if rng.random() < 0.8 else rng.choice(other)
            amount = currency = None
            if kind.monetary:
                amount = Decimal(rng.choice(MONETARY_AMOUNTS)) + Decimal(rng.randint(0, 99)) / 100
                currency = rng.choices(("USD", "EUR", "GBP"), weights=(80, 10, 10))[0]
            proposer = assignee_id or rng.choice(agents_by_team.get(team_id, [supervisor.pk]))
            approver = supervisor.pk if team_id == sup_team else manager.pk
            row: dict[str, Any] = {
                "id": pk,
                "created_at": created,
                "updated_at": created,
                "case_id": case_id,
                "customer_id": customer_id,
                "kind_id": kind.pk,
                "amount": amount,
                "currency": currency or "",
                "description": f"{kind.name} for the outage",
                "reason": "Service failure acknowledged; making it right.",
                "status": status,
                "proposed_by_id": proposer,
            }
            routed = status in ("pending_approval", "approved", "rejected") or (
                status in ("issued", "cancelled") and rng.random() < 0.3
            )
            if routed:
                row.update(
                    approver_id=approver,
                    approval_requested_at=created,
                    decision_due_at=created + timedelta(hours=4),
                )
                if status == "pending_approval":
                    row["decision_due_at"] = now + timedelta(seconds=rng.uniform(600, 4 * 3600))
                else:
                    seconds = rng.randint(300, 6 * 3600)
                    row.update(
                        decided_by_id=approver,
                        decided_at=created + timedelta(seconds=seconds),
                        decision_seconds=seconds,
                        decision_reason="Fair given the outage."
                        if status != "rejected"
                        else "Already compensated.",
                    )
            if status == "issued":
                issued = min(now, created + timedelta(hours=rng.uniform(1, 72)))
                row.update(
                    issue_reference=f"CN-{pk:08d}",
                    issued_at=issued,
                    issued_by_id=proposer,
                    updated_at=issued,
                )
            if status == "cancelled":
                row["cancel_reason"] = "The customer declined it."
            rows.append(row)
            data: dict[str, Any] = {
                "remedy_id": pk,
                "kind": kind.code,
                "amount": None if amount is None else str(amount),
                "currency": row["currency"],
                "status": status,
            }
            events.append(
                {
                    "case_id": case_id,
                    "kind": event_kind[status],
                    "actor_id": proposer,
                    "data": data,
                    "created_at": row["updated_at"],
                }
            )
        with transaction.atomic():
            remedy_table.insert(rows)
            event_table.insert(events)
        done += len(rows)
        print(f"  {have + done:>9,} remedies", flush=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for sql in connection.ops.sequence_reset_sql(no_style(), [Remedy, CaseEvent]):
                cursor.execute(sql)
            cursor.execute("ANALYZE remedies_remedy")
        else:
            cursor.execute("ANALYZE remedies_remedy")
    took = round(time.monotonic() - started, 1)
    print(f"loaded {todo:,} remedies in {took}s", flush=True)
    return {"remedies": Remedy.objects.count(), "loaded": todo, "seconds": took}


def authority_configure() -> list[str]:
    """The matrix through the CLI command (`amends authority set`), idempotent."""
    from io import StringIO

    from django.core.management import call_command

    lines = []
    for role, kind, options in AUTHORITY:
        out = StringIO()
        call_command("authority_set", "--role", role, "--kind", kind, *options, stdout=out)
        lines.append(f"{role} {kind} {' '.join(options)}".strip())
    return lines


def open_refs(count: int, seed: int) -> list[str]:
    """`count` distinct random open cases the agent can see."""
    from django.contrib.auth.models import User

    from amends.cases.choices import DONE_STATUSES
    from amends.cases.models import case_ref
    from amends.cases.selectors import case_visible_to

    agent = User.objects.get(username=AGENT)
    ids = list(
        case_visible_to(user=agent).exclude(status__in=DONE_STATUSES).values_list("id", flat=True)
    )
    rng = random.Random(seed)
    return [case_ref(pk) for pk in rng.sample(ids, min(count, len(ids)))]


def explain(sql: str) -> list[str]:
    from django.db import connection

    prefix = (
        "EXPLAIN (ANALYZE, BUFFERS) "
        if connection.vendor == "postgresql"
        else "EXPLAIN QUERY PLAN "
    )
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql)
        return [" ".join(str(c) for c in row) for row in cursor.fetchall()]


def in_process(token: str, refs: list[str], runs: int) -> dict[str, Any]:
    """Query count, wall time and the sums' plans of one proposal, each rolled back."""
    from django.db import connection, transaction
    from django.test import Client as DjangoClient
    from django.test.utils import CaptureQueriesContext

    client = DjangoClient(HTTP_HOST=HOST, HTTP_AUTHORIZATION=f"Bearer {token}")
    out: dict[str, Any] = {}
    with transaction.atomic():  # warm-up: imports, URL resolver, first connection
        client.post(
            f"/api/v1/cases/{refs[0]}/remedies",
            {**PROPOSALS[0], "reason": "warm-up"},
            content_type="application/json",
        )
        transaction.set_rollback(True)
    for label, proposal in (("granted", PROPOSALS[0]), ("pending_approval", PROPOSALS[1])):
        times: list[float] = []
        cpu: list[float] = []
        counts: list[int] = []
        statuses: Counter[str] = Counter()
        sums: list[str] = []
        for n in range(runs):
            ref = refs[n % len(refs)]
            body: dict[str, Any] = {**proposal, "reason": "Broadband down for three days."}
            with transaction.atomic():
                with CaptureQueriesContext(connection) as queries:
                    started, cpu_started = time.perf_counter(), time.process_time()
                    response = client.post(
                        f"/api/v1/cases/{ref}/remedies", body, content_type="application/json"
                    )
                    times.append((time.perf_counter() - started) * 1000)
                    cpu.append((time.process_time() - cpu_started) * 1000)
                counts.append(len(queries))
                if response.status_code == 201:
                    statuses[response.json()["status"]] += 1
                else:
                    statuses[str(response.status_code)] += 1
                if n == 0:
                    out.setdefault("queries", {})[label] = [q["sql"] for q in queries]
                    sums = [q["sql"] for q in queries if "SUM(" in q["sql"].upper()]
                    out.setdefault("explain", {})[label] = {sql: explain(sql) for sql in sums}
                transaction.set_rollback(True)
        out[label] = {
            "runs": runs,
            "outcomes": dict(statuses),
            "queries": statistics.median(counts),
            "median_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1),
            "median_cpu_ms": round(statistics.median(cpu), 1),
        }
    # The yardstick: one case write (POST /api/v1/cases, as bench/run_bench.py sends it).
    times, cpu, counts = [], [], []
    for n in range(runs):
        case_body: dict[str, Any] = {
            "customer": {"external_ref": f"BENCH-{n:07d}", "name": "Bench Customer"},
            "title": "Broadband down again",
            "description": "No connection since this morning.",
            "expected": "A working connection",
            "delivered": "No service",
            "channel": "api",
            "severity": 2,
        }
        with transaction.atomic():
            with CaptureQueriesContext(connection) as queries:
                started, cpu_started = time.perf_counter(), time.process_time()
                response = client.post("/api/v1/cases", case_body, content_type="application/json")
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
            counts.append(len(queries))
            transaction.set_rollback(True)
    out["case_write"] = {
        "runs": runs,
        "outcomes": {str(response.status_code): runs},
        "queries": statistics.median(counts),
        "median_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "median_cpu_ms": round(statistics.median(cpu), 1),
    }
    out["load_average"] = load_avg()
    return out


def propose(port: int, token: str, refs: list[str], clients: int) -> dict[str, Any]:
    """One proposal per ref (distinct cases), split over `clients` threads."""
    times: list[float] = []
    by_outcome: dict[str, list[float]] = {}
    errors: list[str] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        client = Client(port, token)
        for n, ref in enumerate(refs[worker::clients]):
            proposal = PROPOSALS[(worker + n * clients) % len(PROPOSALS)]
            body = json.dumps({**proposal, "reason": "Broadband down for three days."}).encode()
            status, data, elapsed = client.request(
                "POST",
                f"/api/v1/cases/{ref}/remedies",
                body=body,
                headers={"Content-Type": "application/json"},
            )
            outcome = str(status)
            if status == 201:
                answer = json.loads(data)
                outcome = answer.get("status", "?")
                if answer.get("approver"):  # who decides: the nearest approver
                    outcome += f" -> {answer['approver']}"
            with lock:
                times.append(elapsed * 1000)
                by_outcome.setdefault(outcome, []).append(elapsed * 1000)
                if status != 201:
                    errors.append(f"{ref}: {status} {data[:200]!r}")

    before = load_avg()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=900)
    wall = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(times),
        "errors": len(errors),
        "error_samples": errors[:5],
        "per_second": round(len(times) / wall, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "outcomes": {
            k: {
                "count": len(v),
                "p50_ms": round(statistics.median(v), 1),
                "p95_ms": round(percentile(v, 0.95), 1),
            }
            for k, v in sorted(by_outcome.items())
        },
        "load_average_before": before,
        "load_average_after": load_avg(),
    }


def show(result: dict[str, Any]) -> None:
    print(
        f"\n== POST /api/v1/cases/{{ref}}/remedies · {result['database']} · "
        f"{result['cases']:,} cases · {result['remedies']:,} remedies =="
    )
    print(f"{'clients':>7} {'requests':>8} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} "
          f"{'req/s':>7} {'errors':>6}  outcomes (p95 ms)  load avg before/after")  # fmt: skip
    for m in result["http"]:
        outcomes = ", ".join(f"{k} {v['count']} ({v['p95_ms']})" for k, v in m["outcomes"].items())
        print(
            f"{m['clients']:>7} {m['requests']:>8} {m['p50_ms']:>8} {m['p95_ms']:>8} "
            f"{m['max_ms']:>8} {m['per_second']:>7} {m['errors']:>6}  {outcomes}  "
            f"{m['load_average_before']} / {m['load_average_after']}"
        )
    for key in ("case_write_http", "case_write_http_4"):
        if key in result:
            c = result[key]
            print(
                f"yardstick POST /api/v1/cases, {c['clients']} client(s): {c['requests']} "
                f"requests, p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms, errors {c['errors']}, "
                f"load avg after {c['load_average_after']}"
            )
    ip = result["in_process"]
    for label in ("granted", "pending_approval", "case_write"):
        m = ip[label]
        what = "a case write" if label == "case_write" else f"one proposal ending {label}"
        print(
            f"in-process, {what}: {m.get('queries', '-')} queries, "
            f"median {m['median_ms']} ms (CPU {m['median_cpu_ms']} ms), p95 {m['p95_ms']} ms "
            f"over {m['runs']} "
            f"(outcomes {m['outcomes']})"
        )
    print(f"load average in-process: {ip['load_average']}")
    for label, plans in ip.get("explain", {}).items():
        for sql, plan in plans.items():
            print(f"\n[{label}] {sql[:300]}")
            for line in plan:
                print(f"    {line}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--remedies", type=int, default=200_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--data-dir", default=str(ROOT / "var" / "bench"), help="where the SQLite database lives"
    )
    parser.add_argument("--requests", type=int, default=300, help="proposals per client setting")
    parser.add_argument("--in-process-runs", type=int, default=20)
    parser.add_argument(
        "--case-writes", type=int, default=100, help="POST /api/v1/cases for comparison"
    )
    parser.add_argument("--batch", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument(
        "--pause-pid", type=int, default=0, help="SIGSTOP this pid of yours while measuring"
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "AMENDS_DATA_DIR": args.data_dir,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
    label = "postgresql" if args.database_url else "sqlite"
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "-v0")
    cases = ensure_cases(env, args.cases)
    django_setup(env)
    from django.db import connections

    from amends.remedies.models import Remedy

    loaded = ensure_remedies(args.remedies, args.seed, args.batch)
    matrix = authority_configure()
    # Distinct cases for every request: warm-up, 1 client, 4 clients, in-process.
    refs = open_refs(2 * args.requests + 10 + args.in_process_runs, args.seed)
    token = manage(env, "token_create", AGENT, "--name", "bench_remedies").strip().splitlines()[-1]
    if args.pause_pid:  # keep a background job (e.g. another load) off the CPUs meanwhile
        os.kill(args.pause_pid, signal.SIGSTOP)
    try:
        in_proc = in_process(token, refs[-args.in_process_runs :], args.in_process_runs)
    except BaseException:
        if args.pause_pid:
            os.kill(args.pause_pid, signal.SIGCONT)
        raise
    result: dict[str, Any] = {
        "database": label,
        "cases": cases,
        "remedies": Remedy.objects.count(),
        "remedy_load": loaded,
        "authority": matrix,
        "cpus": os.cpu_count(),
        "in_process": in_proc,
    }
    connections.close_all()  # the server has the database to itself while we measure
    port = free_port()
    server = serve(env, port)
    try:
        warm = Client(port, token)
        for ref in refs[:10]:
            warm.request(
                "POST",
                f"/api/v1/cases/{ref}/remedies",
                body=json.dumps({**PROPOSALS[0], "reason": "warm-up"}).encode(),
                headers={"Content-Type": "application/json"},
            )
        n = args.requests
        result["http"] = [
            propose(port, token, refs[10 : 10 + n], 1),
            propose(port, token, refs[10 + n : 10 + 2 * n], 4),
        ]
        if args.case_writes:  # the yardstick, same server, same moment: POST /api/v1/cases
            for clients, key in ((1, "case_write_http"), (4, "case_write_http_4")):
                result[key] = create_throughput(port, token, clients, args.case_writes)
                result[key]["load_average_after"] = load_avg()
    finally:
        stop(server)
        if args.pause_pid:
            os.kill(args.pause_pid, signal.SIGCONT)
    result["remedies_after"] = Remedy.objects.count()
    show(result)
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    path = results_dir / f"remedies-{label}-{cases}-{stamp}.json"
    path.write_text(json.dumps(result, indent=2, default=str))
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
