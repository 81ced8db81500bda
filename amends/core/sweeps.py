"""The sweep runner: every periodic sweep listed in settings.AMENDS_SWEEPS, run once.

A sweep is a function `fn(*, now: datetime) -> int` (how many rows it handled), idempotent, in
the app that owns the rows it changes. The runner imports each by its dotted path, so it knows
no domain app; `amends sweep` runs it once, `amends worker` on a schedule.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from django.utils.module_loading import import_string

from amends.core.conf import amends_setting

logger = logging.getLogger("amends.sweeps")


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
