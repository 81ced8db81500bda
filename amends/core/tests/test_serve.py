from __future__ import annotations

import io

import pytest
from django.core.management import call_command


def test_serve_execs_gunicorn_on_loopback_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.delenv("AMENDS_BIND", raising=False)
    monkeypatch.setattr("os.execv", lambda path, argv: calls.append(argv))
    out = io.StringIO()
    call_command("serve", "--no-collectstatic", "--workers", "3", stdout=out)
    (argv,) = calls
    assert argv[0].endswith("gunicorn")
    assert argv[1] == "config.wsgi:application"
    assert argv[argv.index("--bind") + 1] == "127.0.0.1:8000"
    assert argv[argv.index("--workers") + 1] == "3"
    assert "http://127.0.0.1:8000/" in out.getvalue()


def test_serve_binds_where_told(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[list[str]] = []
    monkeypatch.setattr("os.execv", lambda path, argv: calls.append(argv))
    call_command("serve", "--no-collectstatic", "--bind", "0.0.0.0:9000", stdout=io.StringIO())
    assert calls[0][calls[0].index("--bind") + 1] == "0.0.0.0:9000"
