"""`amends worker`: execute queued background tasks and run the periodic sweeps, in one process.

With the database task backend (the default) this is django-tasks-db's worker, taking tasks
from the database between sweeps. With REDIS_URL set (TASKS uses django_tasks_rq) it runs an
RQ worker in the foreground and the sweeps on a background thread. SIGTERM/SIGINT stop it
gracefully: a task or sweep in progress finishes first (press Ctrl+C twice to force).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections, connections
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from amends.core.conf import amends_setting
from amends.core.sweeps import sweeps_run

logger = logging.getLogger("amends.worker")


def _run_sweeps() -> None:
    close_old_connections()
    results = sweeps_run(now=timezone.now())
    logger.info("sweeps: %s", ", ".join(f"{k.rsplit('.', 1)[-1]}={v}" for k, v in results.items()))
    close_old_connections()


class SweepingWorker(Worker):
    """The database worker, draining the task queue between periodic sweeps."""

    def __init__(self, *, sweep_interval: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sweep_interval = sweep_interval
        self.next_sweep = 0.0

    def sweep_if_due(self) -> None:
        if time.monotonic() < self.next_sweep:
            return
        # Marked as "running a task" so a SIGTERM lets the sweep finish its batch.
        self.running_task = True
        try:
            _run_sweeps()
        finally:
            self.running_task = False
        self.next_sweep = time.monotonic() + self.sweep_interval

    def run(self) -> None:
        logger.info("worker %s: tasks + sweeps every %ss", self.worker_id, self.sweep_interval)
        while self.running:
            self.sweep_if_due()
            if not self.running:
                break
            # Batch mode: run every task that is ready, then come back here.
            super().run()
            if self.running:
                time.sleep(min(self.interval, max(0.0, self.next_sweep - time.monotonic())))
        logger.info("worker %s stopped", self.worker_id)


class Command(BaseCommand):
    help = "Run queued background tasks and the periodic sweeps (settings.AMENDS_SWEEPS)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=float(amends_setting("SWEEP_INTERVAL_SECONDS", 60)),
            help="Seconds between sweeps (default: AMENDS_SWEEP_INTERVAL_SECONDS).",
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=1.0,
            help="Seconds to wait for new tasks when the queue is empty (database backend).",
        )
        parser.add_argument("--queue-name", default="default", help="Queues, comma-separated.")
        parser.add_argument(
            "--once",
            action="store_true",
            help="Sweep once, run every ready task, then exit (tests and scripts).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # What the worker does is worth a line in the log (the root console handler prints it).
        logging.getLogger("amends").setLevel(logging.INFO)
        backend = str(dict(settings.TASKS["default"])["BACKEND"])
        if backend.startswith("django_tasks_rq"):
            self._run_rq(options)
            return
        worker = SweepingWorker(
            sweep_interval=options["sweep_interval"],
            queue_names=options["queue_name"].split(","),
            interval=options["interval"],
            batch=True,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        if options["once"]:
            worker.sweep_if_due()
            Worker.run(worker)
            return
        worker.configure_signals()
        worker.run()

    def _run_rq(self, options: dict[str, Any]) -> None:
        """RQ executes the tasks (it handles SIGTERM itself); sweeps run on a thread."""
        stop = threading.Event()

        def sweeping() -> None:
            while not stop.is_set():
                try:
                    _run_sweeps()
                except Exception:
                    logger.exception("sweeps failed")
                stop.wait(options["sweep_interval"])
            connections.close_all()

        if options["once"]:
            _run_sweeps()
            call_command(
                "rqworker",
                *options["queue_name"].split(","),
                burst=True,
                job_class="django_tasks_rq.Job",
            )
            return
        thread = threading.Thread(target=sweeping, name="amends-sweeps", daemon=True)
        thread.start()
        try:
            call_command(
                "rqworker", *options["queue_name"].split(","), job_class="django_tasks_rq.Job"
            )
        finally:
            stop.set()
            thread.join(timeout=30)
