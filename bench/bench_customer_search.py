"""Customer search at scale: `python bench/bench_customer_search.py --db sqlite|postgres
[--customers N]`.

Builds a database of its own (a SQLite file in a temporary directory, or the PostgreSQL
database `amends_customer_search_bench` on BENCH_PG_URL, default
postgres://postgres@127.0.0.1:5432; dropped afterwards), migrates it, inserts N synthetic
customers set-based (default 500,000) and times `customers.selectors.customer_search` (the
new-case form's autocomplete and the API's `?q=`), the first page of 25, for a name prefix that
matches nothing, a name prefix, a phone prefix and an email: the median of five runs each.
Nothing leaves the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_NAME = "amends_customer_search_bench"
QUERIES = ("zed", "customer 4711", "07000012", "c99@example.com")


def _pg(sql: str) -> None:
    import psycopg

    url = f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql)


def _load(count: int) -> None:
    from django.db import connection

    columns = (
        "created_at, updated_at, name, email, phone, tier, special_handling, "
        "special_handling_reason, loyalty_status"
    )
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < %s) "  # noqa: S608 - constant text
                f"INSERT INTO customers_customer ({columns}) "
                "SELECT datetime('now'), datetime('now'), 'Customer ' || i, "
                "'c' || i || '@example.com', '0' || (7000000000 + i), 'standard', 0, '', 'active' "
                "FROM s",
                [count],
            )
        else:
            cursor.execute(
                f"INSERT INTO customers_customer ({columns}) "  # noqa: S608 - constant text
                "SELECT now(), now(), 'Customer ' || i, 'c' || i || '@example.com', "
                "'0' || (7000000000 + i), 'standard', false, '', 'active' "
                "FROM generate_series(1, %s) i",
                [count],
            )
            cursor.execute("ANALYZE customers_customer")


def _measure(count: int) -> None:
    import django

    django.setup()
    from django.db import connection

    from amends.customers.selectors import customer_search

    started = time.perf_counter()
    _load(count)
    print(
        f"[{connection.vendor}] {count:,} customers inserted in {time.perf_counter() - started:.1f} s"
    )
    for query in QUERIES:
        times = []
        rows = 0
        for _ in range(5):
            start = time.perf_counter()
            rows = len(list(customer_search(query=query)[:25]))
            times.append(time.perf_counter() - start)
        print(
            f"[{connection.vendor}] customer_search({query!r}): "
            f"{statistics.median(times) * 1000:.2f} ms median of 5, {rows} rows",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--customers", type=int, default=500_000)
    args = parser.parse_args()
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    data_dir = tempfile.mkdtemp(prefix="bench_customer_search_")
    os.environ["AMENDS_DATA_DIR"] = data_dir
    if args.db == "postgres":
        _pg(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        _pg(f'CREATE DATABASE "{PG_NAME}"')
        os.environ["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=os.environ, check=True
        )
        sys.path.insert(0, str(ROOT))
        _measure(args.customers)
    finally:
        if args.db == "postgres":
            from django.db import connections

            connections.close_all()
            _pg(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
        shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
