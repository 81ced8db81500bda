"""Guard-rail overhead: `python bench/bench_guard.py [--requests N]`.

On a fresh SQLite file in a temporary directory, one process, Django's test client:

1. `POST /api/v1/customers` N times without an Idempotency-Key, then N times each with a new
   key, then N retries of one key (replayed): requests/s of each (the key costs one lookup,
   one insert and one update; a replay runs no view).
2. `GET /api/v1/me` N times: requests/s with every middleware (request guard, CSP, axes).
3. `amends backup` and `amends restore` of that database: seconds and file size.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    n = parser.parse_args().requests
    data_dir = tempfile.mkdtemp(prefix="bench_guard_")
    os.environ["AMENDS_DATA_DIR"] = data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    os.environ["ALLOWED_HOSTS"] = "testserver"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from amends.accounts.services import api_token_create, staff_create

    call_command("migrate", verbosity=0)
    user = staff_create(username="bench", role="agent", team_name="Bench")
    _, token = api_token_create(user=user, name="bench")
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = json.dumps({"name": "Ann Example"})

    # Each call's headers as WSGI environ keys (HTTP_...), passed to the test client as **extra.
    def rate(label: str, calls: list[dict[str, Any]], path: str = "/api/v1/customers") -> None:
        start = time.perf_counter()
        for headers in calls:
            if path.endswith("/me"):
                response = client.get(path)
            else:
                response = client.post(path, body, content_type="application/json", **headers)
            assert response.status_code in (200, 201), response.content
        seconds = time.perf_counter() - start
        print(f"{label:<40} {len(calls) / seconds:8.0f} requests/s")

    rate("POST customers, no key", [{}] * n)
    rate("POST customers, a new key each", [{"HTTP_IDEMPOTENCY_KEY": f"k{i}"} for i in range(n)])
    rate("POST customers, one key retried (replay)", [{"HTTP_IDEMPOTENCY_KEY": "same"}] * n)
    rate("GET me", [{}] * n, "/api/v1/me")

    backup = Path(data_dir) / "amends.backup"
    start = time.perf_counter()
    call_command("backup", str(backup), verbosity=0)
    middle = time.perf_counter()
    call_command("restore", str(backup), interactive=False, verbosity=0)
    end = time.perf_counter()
    size = backup.stat().st_size / 1e6
    print(f"backup {middle - start:.2f} s, restore {end - middle:.2f} s, file {size:.1f} MB")


if __name__ == "__main__":
    main()
