"""The sweep runner: every periodic sweep listed in settings.AMENDS_SWEEPS, run once.

A sweep is a function `fn(*, now: datetime) -> int` (how many rows it handled), idempotent, in
the app that owns the rows it changes. The runner imports each by its dotted path, so it knows
no domain app; `amends sweep` runs it once, `amends worker` on a schedule.

The helpers below are the shape every set-based sweep shares: find newly-due ids with one index
range scan, then handle them in batches, each batch one transaction that first takes its rows
(PostgreSQL: FOR UPDATE SKIP LOCKED, so workers running at once split the work; SQLite: the
connection's BEGIN IMMEDIATE makes one writer at a time) and re-checks them in a fresh statement.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils.module_loading import import_string

from amends.core.conf import amends_setting

logger = logging.getLogger("amends.sweeps")

# One sweep run handles at most this many rows of a kind; the rest wait for the next run.
MAX_PER_RUN = 200_000


def sweep_batch_size() -> int:
    value = amends_setting("SWEEP_BATCH_SIZE", 1000)
    return int(value) if isinstance(value, int | str) else 1000


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def sweep_locked_ids(qs: QuerySet[Any]) -> list[int]:
    """Take these rows for this transaction; rows another worker holds are skipped."""
    return list(qs.select_for_update(skip_locked=True, of=("self",)).values_list("pk", flat=True))


def sweep_in_batches(ids: list[int], handle: Callable[[list[int]], int]) -> int:
    """Call `handle` on each batch of ids in its own transaction; returns the sum of its counts."""
    done = 0
    for chunk in _chunks(ids, sweep_batch_size()):
        with transaction.atomic():
            done += handle(chunk)
    return done


def sweeps_run(*, now: datetime, strict: bool = False) -> dict[str, int]:
    """Run every sweep in settings.AMENDS_SWEEPS once; a sweep that fails is logged and the
    others still run. A sweep that cannot be imported is skipped with a warning unless strict."""
    results: dict[str, int] = {}
    for path in amends_setting("SWEEPS", []):
        try:
            sweep = import_string(path)
        except ImportError:
            if strict:
                raise
            logger.warning("Sweep %s is not available; skipped.", path)
            continue
        started = time.perf_counter()
        try:
            results[path] = int(sweep(now=now))
            logger.info("%s: %d in %.2fs", path, results[path], time.perf_counter() - started)
        except Exception:
            logger.exception("Sweep %s failed; the next run retries.", path)
            results[path] = -1
    return results
