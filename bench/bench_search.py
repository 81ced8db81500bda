"""Case search and the sorted queue at a million cases: `python bench/bench_search.py`.

    .venv/bin/python bench/bench_search.py --count 1000000                # SQLite, var/bench-search
    .venv/bin/python bench/bench_search.py --count 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/amends_bench_search

It migrates a database of its own, tops it up to `--count` cases (customers and cases written
in batches straight into the tables, so the search triggers fire exactly as they do for the
services; steps, events and messages are left out: search and the queue do not read them),
then times, in this process, what `GET /api/v1/cases?q=` and the queue page run: the selector
with its visibility rule, the first page of 25 and the capped total. Each query kind is run
`--repeat` times after a warm-up, as an agent (team visibility) and as a manager (sees all);
wall p50 and p95 in milliseconds are printed with this process's CPU per request and, on
PostgreSQL, the server's time for the same statements (EXPLAIN ANALYZE). Run again with the
same `--count`, it loads nothing and only measures. Nothing here talks to anything but the
database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST = [
    "Poppy",
    "Oliver",
    "Amelia",
    "George",
    "Isla",
    "Harry",
    "Ava",
    "Noah",
    "Mia",
    "Jack",
    "Sophia",
    "Leo",
    "Grace",
    "Arthur",
    "Lily",
    "Oscar",
    "Freya",
    "Charlie",
    "Evie",
    "Henry",
    "Ivy",
    "Theo",
    "Ella",
    "Finley",
    "Ruby",
    "Alfie",
    "Chloe",
    "Jacob",
    "Rosie",
    "Thomas",
    "Aisha",
    "Mohammed",
    "Priya",
    "Ravi",
    "Wei",
    "Mei",
    "Olu",
    "Ade",
    "Kofi",
    "Zara",
    "Hana",
    "Yusuf",
    "Maria",
    "Jose",
    "Ana",
    "Lucas",
    "Sara",
    "Omar",
]
LAST = [
    "Smith",
    "Jones",
    "Taylor",
    "Brown",
    "Williams",
    "Wilson",
    "Johnson",
    "Davies",
    "Patel",
    "Wright",
    "Walsh",
    "Evans",
    "Thomas",
    "Roberts",
    "Khan",
    "Lewis",
    "Hughes",
    "Clarke",
    "Walker",
    "Wood",
    "Hall",
    "Green",
    "Edwards",
    "Turner",
    "Shah",
    "Murphy",
    "Kelly",
    "O'Brien",
    "Campbell",
    "Stewart",
    "Scott",
    "Morris",
    "Cooper",
    "Ward",
    "Price",
    "Bennett",
    "Gray",
    "Okafor",
    "Nguyen",
    "Chen",
    "Kowalski",
    "Novak",
    "Rossi",
    "Silva",
    "Haddad",
    "Mensah",
    "Osei",
    "Ahmed",
    "Ali",
    "Begum",
]
TITLES = (
    "Broadband outage for {n} days",
    "Charged twice for {month} bill",
    "Engineer did not arrive for visit",
    "Refund not received after cancellation",
    "Router keeps dropping connection",
    "Wrong tariff applied since {month}",
    "Rude agent on the phone",
    "Parcel lost in delivery",
    "Direct debit taken early",
    "Contract ended but still billed",
    "Mobile signal gone in {town}",
    "Promised callback never came",
    "Late fee added in error",
    "Account closed without notice",
    "TV channels missing after upgrade",
    "Speed far below what was sold",
)
TOWNS = [
    "Leeds",
    "York",
    "Bristol",
    "Cardiff",
    "Glasgow",
    "Belfast",
    "Norwich",
    "Exeter",
    "Derby",
    "Hull",
    "Bath",
    "Oxford",
    "Luton",
    "Swansea",
    "Aberdeen",
    "Dundee",
    "Preston",
    "Bolton",
    "Wigan",
    "Reading",
]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
]
SENTENCES = (
    "I have called {k} times and nobody has fixed it.",
    "The agent promised a callback on {day} that never came.",
    "My {thing} stopped working on {day} and I work from home.",
    "You took {amount} pounds twice from my account.",
    "I was told an engineer would come between 8 and 12 but nobody turned up.",
    "This is the {ord} time this year and I am thinking of leaving.",
    "My elderly mother relies on the {thing} for her alarm.",
    "The chat said it was fixed but it is not.",
    "I want compensation for the days without service.",
    "Please sort this out before the end of the month.",
)
DOMAINS = [
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "btinternet.com",
    "hotmail.co.uk",
    "icloud.com",
]
THINGS = ["broadband", "landline", "router", "phone", "line", "internet", "TV", "box", "mobile"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
ORDS = ["second", "third", "fourth", "fifth"]


def _words(rng: random.Random, vocabulary: list[str], n: int) -> str:
    # Zipf-like: a few words very common, most rare, like real text.
    return " ".join(
        vocabulary[min(int(rng.paretovariate(1.1)) - 1, len(vocabulary) - 1)] for _ in range(n)
    )


def _vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    syllables = [
        "ka",
        "lo",
        "mi",
        "ne",
        "ra",
        "tu",
        "pe",
        "so",
        "vi",
        "da",
        "ge",
        "ho",
        "ju",
        "ze",
        "ba",
        "fi",
        "wo",
        "xu",
        "ly",
        "qi",
    ]
    seen: set[str] = set()
    words: list[str] = []
    while len(words) < size:
        w = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 4)))
        if w not in seen:
            seen.add(w)
            words.append(w)
    return words


def setup(database_url: str | None, data_dir: Path) -> None:
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    data_dir.mkdir(parents=True, exist_ok=True)
    os.environ["AMENDS_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
    """Plain multi-row INSERT / COPY with the model's defaults for fields not given."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    pg = connection.vendor == "postgresql"
    data = []
    for row in rows:
        values = []
        for f in fields:
            if f.attname in row:
                value = row[f.attname]
            elif f.has_default() or f.null or f.empty_strings_allowed:
                value = None if f.null and not f.has_default() else f.get_default()
            else:
                raise SystemExit(f"{model.__name__}.{f.attname}: no value; teach the bench.")
            if isinstance(value, datetime) and not pg:
                value = value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
            elif isinstance(value, dict | list):
                import json

                value = json.dumps(value)
            values.append(value)
        data.append(tuple(values))
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with connection.cursor() as cursor:
        if pg:
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row_values in data:
                    copy.write_row(row_values)
        else:
            marks = ", ".join("?" for _ in fields)
            cursor.connection.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
                data,
            )


def load(count: int, seed: int) -> dict[str, Any]:
    from django.contrib.auth.models import User
    from django.db import transaction

    from amends.accounts.models import StaffProfile, Team
    from amends.accounts.services import staff_create
    from amends.cases.models import Case
    from amends.customers.models import Customer

    if not User.objects.filter(username="bench-agent").exists():
        for name in ("Billing", "Network", "Care", "Retail"):
            Team.objects.get_or_create(name=name)
        staff_create(username="bench-agent", role="agent", team_name="Billing")
        staff_create(username="bench-manager", role="manager")
    teams = list(Team.objects.order_by("id").values_list("id", flat=True))
    have = Case.objects.count()
    rng = random.Random(seed + have)
    vocabulary = _vocabulary(random.Random(seed))
    now = datetime.now(UTC)
    start = time.perf_counter()
    batch = 10_000
    customers_per_batch = batch // 5
    while have < count:
        n = min(batch, count - have)
        customers = []
        for i in range(max(1, n // 5)):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            k = have + i
            customers.append(
                {
                    "name": f"{first} {last}",
                    "email": (f"{first}.{last}{'' if k % 3 else k % 100}@{rng.choice(DOMAINS)}")
                    .lower()
                    .replace("'", ""),
                    "phone": f"+44 7700 {k % 1_000_000:06d}",
                    "created_at": now,
                    "updated_at": now,
                }
            )
        with transaction.atomic():
            _insert(Customer, customers)
            last_customer = Customer.objects.order_by("-id").values_list("id", flat=True)[0]
            first_customer = last_customer - len(customers) + 1
            rows = []
            for i in range(n):
                position = (have + i) / count  # ids rise with time over two years
                created = now - timedelta(days=730 * (1 - position))
                open_case = position > 0.9
                due = created + timedelta(hours=rng.randint(4, 120))
                title = rng.choice(TITLES).format(
                    n=rng.randint(2, 9), month=rng.choice(MONTHS), town=rng.choice(TOWNS)
                )
                text = " ".join(
                    rng.choice(SENTENCES).format(
                        k=rng.randint(2, 9),
                        day=rng.choice(DAYS),
                        thing=rng.choice(THINGS),
                        amount=rng.randint(5, 90),
                        ord=rng.choice(ORDS),
                    )
                    for _ in range(rng.randint(2, 4))
                )
                rows.append(
                    {
                        "customer_id": rng.randint(first_customer, last_customer),
                        "channel": rng.choice(["phone", "email", "web", "api"]),
                        "title": title,
                        "description": f"{text} {_words(rng, vocabulary, rng.randint(5, 40))}",
                        "severity": rng.choice([1, 2, 2, 3, 3, 3, 4]),
                        "status": rng.choice(["new", "acknowledged", "in_recovery"])
                        if open_case
                        else "closed",
                        "outcome": "" if open_case else "upheld",
                        "team_id": rng.choice(teams),
                        "created_at": created,
                        "updated_at": created,
                        "ack_due_at": due,
                        "ack_at_risk_at": due - timedelta(hours=1),
                        "resolve_clock_started_at": created,
                        "resolve_due_at": due + timedelta(days=3),
                        "resolve_at_risk_at": due + timedelta(days=2),
                        "sla_due_at": due if open_case else None,
                        "sla_at_risk_at": due - timedelta(hours=1) if open_case else None,
                        "resolved_at": None if open_case else due,
                        "closed_at": None if open_case else due,
                    }
                )
            _insert(Case, rows)
        have += n
        rate = have / max(time.perf_counter() - start, 1e-9)
        print(f"  {have:,} cases ({rate:,.0f}/s)", flush=True)
    del customers_per_batch
    return {
        "agent": User.objects.get(username="bench-agent"),
        "manager": User.objects.get(username="bench-manager"),
        "profiles": StaffProfile.objects.count(),
    }


CPU_P50: list[float] = []
SERVER_MS: list[float | None] = []


def _server_ms(fn: Any, runs: int = 5) -> float | None:
    """PostgreSQL only: the server's execution time for one call of `fn`, in ms (median over
    `runs`): every statement `fn` sends, run again under EXPLAIN (ANALYZE) and the planning
    and execution times summed. The client's CPU figure does not include this work."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    statements: list[tuple[str, Any]] = []

    def capture(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        fn()
    totals = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            total = 0.0
            for sql, params in statements:
                cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0][0]
                total += plan["Planning Time"] + plan["Execution Time"]
            totals.append(total)
    return statistics.median(totals)


def _time(fn: Any, repeat: int) -> tuple[float, float]:
    """Wall p50 and p95 in ms; the CPU p50 of this process (on SQLite that includes the
    database's own work; on PostgreSQL only the client's) goes to CPU_P50."""
    for _ in range(3):
        fn()
    samples = []
    cpu = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        c0 = time.process_time()
        fn()
        cpu.append((time.process_time() - c0) * 1000)
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    CPU_P50.append(statistics.median(cpu))
    SERVER_MS.append(_server_ms(fn))
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def measure(users: dict[str, Any], repeat: int) -> list[tuple[str, str, float, float, int]]:
    from amends.cases.listing import case_count, case_list_search, case_queue_search
    from amends.cases.models import Case
    from amends.core.pagination import paginate

    sample = Case.objects.order_by("-id").select_related("customer").first()
    assert sample is not None
    mid = Case.objects.filter(pk__lte=sample.pk // 2).order_by("-id").select_related("customer")[0]
    searches = {
        "reference": mid.ref,
        "surname (common)": "smith",
        "full name": mid.customer.name,
        "email": mid.customer.email,
        "phone digits": mid.customer.phone.replace(" ", "").lstrip("+"),
        "prefix 'wa'": "wa",
        "prefix 'wal'": "wal",
        "two title words": "engineer visit",
        "word in ~1/3 of cases": "callback",
        "rare word": "kalomi",
    }
    out = []
    for who in ("agent", "manager"):
        user = users[who]
        for label, text in searches.items():

            def run(text: str = text, user: Any = user) -> int:
                qs = case_list_search(user=user, text=text)
                page = paginate(qs, page=1, size=25)
                return len(page.items) + case_count(qs).count

            found = run()
            p50, p95 = _time(run, repeat)
            out.append((who, f"search: {label}", p50, p95, found))
        for sort in ("due", "newest", "severity"):

            def queue(sort: str = sort, user: Any = user) -> int:
                qs = case_queue_search(user=user, sort=sort)
                page = paginate(qs, page=1, size=25)
                return len(page.items) + case_count(qs).count

            found = queue()
            p50, p95 = _time(queue, repeat)
            out.append((who, f"queue sorted by {sort} + total", p50, p95, found))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--data-dir", default=str(ROOT / "var" / "bench-search"))
    parser.add_argument("--repeat", type=int, default=100)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    setup(args.database_url, Path(args.data_dir))
    from django.db import connection

    print(f"database: {connection.vendor}; loading up to {args.count:,} cases", flush=True)
    users = load(args.count, args.seed)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    load_before = Path("/proc/loadavg").read_text().split()[:3]
    rows = measure(users, args.repeat)
    load_after = Path("/proc/loadavg").read_text().split()[:3]
    print(f"\nload average before {' '.join(load_before)}, after {' '.join(load_after)}")
    print(
        f"{'who':8} {'measurement':36} {'p50 ms':>8} {'p95 ms':>8} {'cpu p50':>8} "
        f"{'server ms':>9} {'rows':>8}"
    )
    for (who, label, p50, p95, found), cpu, server in zip(rows, CPU_P50, SERVER_MS, strict=True):
        shown = "" if server is None else f"{server:.1f}"
        print(f"{who:8} {label:36} {p50:8.1f} {p95:8.1f} {cpu:8.1f} {shown:>9} {found:8,}")


if __name__ == "__main__":
    main()
