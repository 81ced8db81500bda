from __future__ import annotations

import io
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from config.env import BASE_DIR


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


def test_serve_raises_gunicorns_request_line_limit_and_uses_json_refusing_workers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[list[str]] = []
    monkeypatch.delenv("AMENDS_LIMIT_REQUEST_LINE", raising=False)
    monkeypatch.setattr("os.execv", lambda path, argv: calls.append(argv))
    call_command("serve", "--no-collectstatic", stdout=io.StringIO())
    call_command("serve", "--no-collectstatic", "--threads", "4", stdout=io.StringIO())
    sync, threaded = calls
    assert sync[sync.index("--limit-request-line") + 1] == "8190"
    assert sync[sync.index("--worker-class") + 1].endswith(".AmendsSyncWorker")
    assert threaded[threaded.index("--worker-class") + 1].endswith(".AmendsThreadWorker")
    with pytest.raises(CommandError, match="between 1 and 8190"):
        call_command("serve", "--no-collectstatic", "--limit-request-line", "0")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(port: int, target: str) -> tuple[int, str, bytes]:
    """A raw HTTP/1.1 GET (no client library that would refuse a long URL itself)."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(
            f"GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    content_type = next(
        (
            line.split(":", 1)[1].strip()
            for line in lines
            if line.lower().startswith("content-type")
        ),
        "",
    )
    return int(lines[0].split()[1]), content_type, body


@pytest.fixture
def served(tmp_path: Path) -> Iterator[int]:
    """`amends serve` for real: gunicorn on a free loopback port, one worker."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    # Its own data directory and gunicorn control socket (other servers may run alongside).
    env.update(
        AMENDS_DATA_DIR=str(tmp_path),
        XDG_RUNTIME_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="config.settings.test",
    )
    amends = shutil.which("amends", path=os.path.dirname(sys.executable))
    command = [amends] if amends else [sys.executable, "manage.py"]
    process = subprocess.Popen(  # noqa: S603  # our own command line
        [*command, "serve", "--no-collectstatic", "--workers", "1", "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("amends serve did not start")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_long_urls_reach_amends_and_longer_ones_get_a_json_414(served: int) -> None:
    # 6 KB of query (over gunicorn's default 4 KB line): answered by Amends itself. (The
    # first answer may wait for the worker to load Django: the timeout is generous.)
    status, content_type, body = _get(served, "/api/v1/me?x=" + "a" * 6000)
    assert status == 401
    assert content_type.startswith("application/json")
    assert json.loads(body)["code"] == "unauthenticated"
    # Past gunicorn's own maximum: the same JSON error shape, never an HTML page.
    for target in ("/api/v1/cases?q=" + "a" * 100_000, "/cases/?q=" + "a" * 9000):
        status, content_type, body = _get(served, target)
        assert status == 414
        assert content_type == "application/json"
        assert json.loads(body) == {
            "code": "uri_too_long",
            "message": "The request line is too long.",
            "detail": {},
        }
