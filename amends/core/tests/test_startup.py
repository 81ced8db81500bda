"""What a process pays before its first line of work.

A mail server runs `amends mail ingest` once per message, so Django's start is paid per
message. These tests guard it without timing: the heavy libraries (scikit-learn and what it
pulls in, the browser driver, the API's schema machinery) are imported only by the code that
uses them, and the mail pipe does not run the system checks (which import the whole URLconf
and build every API schema).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parents[3]
HEAVY = ("sklearn", "scipy", "numpy", "skops", "joblib", "playwright", "ninja", "pydantic")


def _run(code: str, tmp_path: Path, stdin: bytes = b"") -> list[str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    env["AMENDS_DATA_DIR"] = str(tmp_path)
    env.pop("DATABASE_URL", None)  # a file of its own; neither test reaches the database
    done = subprocess.run(  # noqa: S603  # our own interpreter and code
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        input=stdin,
        capture_output=True,
        timeout=300,
        check=True,
    )
    modules: list[str] = json.loads(done.stdout.decode().strip().splitlines()[-1])
    return modules


_HEAVY_LOADED = (
    "import json, sys\n"
    f"heavy = {HEAVY!r}\n"
    "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(heavy))))\n"
)


def test_django_setup_imports_no_heavy_library(tmp_path: Path) -> None:
    code = "import django\ndjango.setup()\n" + _HEAVY_LOADED
    assert _run(code, tmp_path) == []


def test_django_setup_leaves_the_apology_coach_to_its_first_use(tmp_path: Path) -> None:
    # The coach compiles its phrase patterns at import; only a staff reply needs them.
    code = (
        "import django, json, sys\ndjango.setup()\n"
        "print(json.dumps([m for m in ('amends.insight.apology',) if m in sys.modules]))\n"
    )
    assert _run(code, tmp_path) == []


def test_django_setup_leaves_the_admin_to_the_urlconf(tmp_path: Path) -> None:
    # The apps' admin modules (and the services and forms they import) are discovered where
    # the admin is served, not by every process (config/admin_config.py).
    code = (
        "import django, json, sys\ndjango.setup()\n"
        "print(json.dumps(sorted(m for m in sys.modules"
        " if m.startswith('amends.') and m.endswith('.admin'))))\n"
    )
    assert _run(code, tmp_path) == []


def test_the_admin_check_still_sees_every_model_admin() -> None:
    from django.contrib import admin

    from config.admin_config import check_admin_discovered

    assert check_admin_discovered() == []
    registered = {model._meta.label for model in admin.site._registry}
    assert {"channels.Mailbox", "incidents.Incident", "commitments.EscalationRule"} <= registered


def test_the_mail_pipe_runs_no_system_checks_and_imports_no_api(tmp_path: Path) -> None:
    # Unreadable input is quarantined before the database is touched, so the command's whole
    # start runs here: `amends mail ingest` exactly as the mail server calls it.
    code = (
        "import sys\n"
        "from amends.cli import main\n"
        "try:\n"
        "    main(['mail', 'ingest'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "import json\n"
        "print(json.dumps(sorted(m for m in ('config.urls', 'amends.api.main', 'ninja',"
        " 'amends.channels.admin', 'amends.incidents.admin') if m in sys.modules)))\n"
    )
    assert _run(code, tmp_path, stdin=b"") == []
    assert list((tmp_path / "mail" / "quarantine").rglob("*.eml")), "the input was not taken"


def test_the_start_freezes_what_it_made_and_leaves_the_collector_on(tmp_path: Path) -> None:
    # `amends` and manage.py set Django up with the collector paused, then freeze the objects
    # the start made (modules, classes, the app registry): later collections skip them.
    code = (
        "import gc, json\n"
        "from amends.cli import setup\n"
        "before = gc.get_freeze_count()\n"
        "setup()\n"
        "print(json.dumps([gc.isenabled(), before, gc.get_freeze_count()]))\n"
    )
    enabled, before, frozen = cast(list[Any], _run(code, tmp_path))
    assert enabled is True
    assert before == 0
    assert frozen > 20_000  # Django's and Amends' modules and classes
