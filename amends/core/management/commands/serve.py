from __future__ import annotations

import os
import shutil
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from amends.core.gunicorn_workers import REQUEST_LINE_MAX


class Command(BaseCommand):
    help = "Serve Amends with gunicorn (production-grade), on 127.0.0.1:8000 by default."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default=os.environ.get("AMENDS_BIND", "127.0.0.1:8000"))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("WEB_CONCURRENCY", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("AMENDS_THREADS", "1"))
        )
        parser.add_argument("--timeout", type=int, default=30)
        parser.add_argument(
            "--limit-request-line",
            type=int,
            default=int(os.environ.get("AMENDS_LIMIT_REQUEST_LINE", str(REQUEST_LINE_MAX))),
            help=f"Longest request line gunicorn takes, 1 to {REQUEST_LINE_MAX} bytes (longer: "
            "414 JSON); query strings over AMENDS_MAX_QUERY_STRING get Amends' own 414",
        )
        parser.add_argument("--no-collectstatic", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if not opts["no_collectstatic"] and not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = shutil.which("gunicorn", path=os.path.dirname(sys.executable)) or shutil.which(
            "gunicorn"
        )
        line = opts["limit_request_line"]
        if not 1 <= line <= REQUEST_LINE_MAX:  # 0 would lift gunicorn's limit altogether
            raise CommandError(f"--limit-request-line must be between 1 and {REQUEST_LINE_MAX}.")
        # Workers that answer an oversized request line or headers in the JSON error shape.
        worker = "AmendsThreadWorker" if opts["threads"] > 1 else "AmendsSyncWorker"
        argv = [
            gunicorn or "gunicorn",
            "config.wsgi:application",
            "--worker-class",
            f"amends.core.gunicorn_workers.{worker}",
            "--limit-request-line",
            str(line),
            "--bind",
            opts["bind"],
            "--workers",
            str(opts["workers"]),
            "--threads",
            str(opts["threads"]),
            "--timeout",
            str(opts["timeout"]),
            "--access-logfile",
            os.environ.get("AMENDS_ACCESS_LOG", "-"),
            "--max-requests",
            "5000",
            "--max-requests-jitter",
            "500",
        ]
        self.stdout.write(
            f"Amends is serving on http://{opts['bind']}/ (workers: {opts['workers']})"
        )
        self.stdout.flush()
        os.execv(argv[0], argv)  # noqa: S606  # replace this process: signals go straight to gunicorn
