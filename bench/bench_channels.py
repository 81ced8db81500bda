"""Channels benchmark: `python bench/bench_channels.py --db sqlite|postgres [--rows N]
[--messages M]`.

1. `amends import cfpb` of the CFPB dev file (../shared/data/cfpb_complaints_dev.csv, or
   BENCH_CFPB) and, with --rows N [N …], of synthetic files of N rows in the same format (the dev
   rows repeated with fresh Complaint IDs, written to a temporary file). Each import runs as its
   own `manage.py import_cfpb` process on a fresh database; we print rows/s of wall time and
   of the child's CPU time (the machine is shared), its peak resident memory and the load.
   Then the dev file is imported a second time (all skipped). With --compiled, the imports run
   with compiled modules cached (PYTHONDONTWRITEBYTECODE unset, a cache directory of our own,
   warmed first), as an installed copy runs: pip compiles the modules when it installs them;
   the Maildir run below too.
2. Mail ingest: M generated messages (new complaints, half of them a second complaint of the
   same sender) through `mail_ingest` one by one in one process (messages/s of wall and of CPU
   time, SQL statements a message), the same messages as a Maildir through one
   `amends mail ingest PATH` process, and the pipe: `amends mail ingest` with one message on
   stdin, one process per message (median wall and CPU of --pipe-runs processes, as this
   environment runs Python and with compiled modules cached).

A fresh SQLite file in a temporary directory, or the PostgreSQL database
`amends_channels_bench` (or BENCH_PG_NAME) on BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432), dropped
afterwards. Nothing leaves the machine; the outbox is not sent.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import mailbox
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV = Path(
    os.environ.get("BENCH_CFPB", ROOT.parent / "shared" / "data" / "cfpb_complaints_dev.csv")
)
PG_BASE = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
PG_NAME = os.environ.get("BENCH_PG_NAME", "amends_channels_bench")
PYTHON = sys.executable


def _fresh(db: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.local"
    env["EMAIL_BACKEND"] = "django.core.mail.backends.locmem.EmailBackend"
    env["AMENDS_DATA_DIR"] = tempfile.mkdtemp(prefix="bench_channels_")
    if db == "sqlite":
        env.pop("DATABASE_URL", None)
    else:
        import psycopg

        with psycopg.connect(
            f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{PG_NAME}"')
        env["DATABASE_URL"] = f"{PG_BASE}/{PG_NAME}"
    subprocess.run([PYTHON, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    return env


def _drop(db: str, env: dict[str, str]) -> None:
    shutil.rmtree(env["AMENDS_DATA_DIR"], ignore_errors=True)
    if db == "postgres":
        import psycopg

        with psycopg.connect(
            f"{PG_BASE.replace('postgres://', 'postgresql://')}/postgres", autocommit=True
        ) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{PG_NAME}" WITH (FORCE)')


LAST_CPU = 0.0
LAST_SERVER_CPU: float | None = None


class ServerCpu:
    """CPU seconds (user + system) of the PostgreSQL backends serving one database, while a
    child process works: the server's part of an import. Polls /proc (the server must run on
    this machine) for processes titled `postgres: … <database> …` and keeps each one's last
    reading, so a backend's last poll interval (0.1 s) at most is missed when it exits."""

    def __init__(self, database: str) -> None:
        self.needle = f" {database} "
        self.seen: dict[int, float] = {}
        self.tick = os.sysconf("SC_CLK_TCK")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _read(self) -> None:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                title = (
                    (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                )
                if not title.startswith("postgres:") or self.needle not in title:
                    continue
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            self.seen[int(entry.name)] = (int(fields[11]) + int(fields[12])) / self.tick

    def _poll(self) -> None:
        while not self._stop.wait(0.1):
            self._read()

    def __enter__(self) -> ServerCpu:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values())


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _run(args: list[str], env: dict[str, str]) -> tuple[float, int, str]:
    """Wall seconds, peak RSS (MB) of the child, and its last output line; the child's CPU
    seconds (user + system, process start included) are left in LAST_CPU."""
    global LAST_CPU, LAST_SERVER_CPU
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    server = ServerCpu(PG_NAME) if "DATABASE_URL" in env else None
    # `time -f %M` reports this child's own peak RSS (ru_maxrss of children is the largest
    # child so far, which hides a smaller later run).
    with server or contextlib.nullcontext():
        done = subprocess.run(
            ["/usr/bin/time", "-f", "%M", PYTHON, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
    seconds = time.perf_counter() - start
    LAST_SERVER_CPU = server.seconds if server is not None and server.seen else None
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr[-2000:]}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_CPU = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak_kb = int(done.stderr.strip().splitlines()[-1])
    lines = done.stdout.strip().splitlines()
    return seconds, peak_kb // 1024, lines[-1] if lines else ""


def _records(path: Path) -> int:
    """The file's rows (CSV records: a narrative may span several lines)."""
    with path.open(encoding="utf-8", newline="") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def _server_cpu(count: int) -> str:
    if LAST_SERVER_CPU is None:
        return ""
    return (
        f"server CPU {LAST_SERVER_CPU:.1f} s = {LAST_SERVER_CPU * 1000 / count:.3f} ms a row, "
        f"client + server {count / (LAST_CPU + LAST_SERVER_CPU):,.0f} rows/s of CPU; "
    )


def _synthetic(rows: int, folder: Path) -> Path:
    path = folder / f"cfpb_{rows}.csv"
    with DEV.open(encoding="utf-8", newline="") as src:
        reader = csv.reader(src)
        header = next(reader)
        template = list(reader)
    index = header.index("Complaint ID")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for n in range(rows):
            row = list(template[n % len(template)])
            row[index] = str(10_000_000 + n)
            writer.writerow(row)
    return path


def _compiled(env: dict[str, str], tmp: Path, command: str = "import_cfpb") -> dict[str, str]:
    """`env` with compiled modules cached in a directory of our own, warmed by one start of
    `command`."""
    cached = dict(env)
    cached.pop("PYTHONDONTWRITEBYTECODE", None)
    cached["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    subprocess.run(
        [PYTHON, "manage.py", command, "--help"],
        cwd=ROOT,
        env=cached,
        check=True,
        capture_output=True,
    )
    return cached


def bench_import(db: str, sizes: list[int], skip_dev: bool = False, compiled: bool = False) -> None:
    files = [] if skip_dev else [("dev file", DEV)]
    tmp = Path(tempfile.mkdtemp(prefix="bench_cfpb_"))
    how = " (compiled modules cached)" if compiled else ""
    for rows in sizes:
        files.append((f"{rows:,} rows", _synthetic(rows, tmp)))
    try:
        for label, path in files:
            env = _fresh(db)
            if compiled:
                env = _compiled(env, tmp)
            try:
                count = _records(path)
                seconds, peak, last = _run(
                    ["import_cfpb", str(path), "--no-progress", "--rejects", str(tmp / "r.csv")],
                    env,
                )
                print(
                    f"[{db}] import {label}{how}: {last} in {seconds:.1f} s = "
                    f"{count / seconds:,.0f} rows/s wall; CPU {LAST_CPU:.1f} s = "
                    f"{count / LAST_CPU:,.0f} rows/s of CPU (process start included); "
                    f"{_server_cpu(count)}peak RSS {peak} MB; load {_load()}",
                    flush=True,
                )
                if path == DEV:
                    seconds2, _, last2 = _run(
                        [
                            "import_cfpb",
                            str(path),
                            "--no-progress",
                            "--rejects",
                            str(tmp / "r.csv"),
                        ],
                        env,
                    )
                    print(
                        f"[{db}] import {label} again{how}: {last2} in {seconds2:.1f} s = "
                        f"{count / seconds2:,.0f} rows/s wall; CPU {LAST_CPU:.1f} s; "
                        f"load {_load()}",
                        flush=True,
                    )
            finally:
                _drop(db, env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _messages(count: int) -> list[bytes]:
    out = []
    for n in range(count):
        sender = f"customer{n % max(1, count // 2)}@example.com"
        out.append(
            (
                f"From: Customer {n} <{sender}>\r\nTo: help@amends.test\r\n"
                f"Subject: Problem number {n}\r\nMessage-ID: <bench-{n}@example.com>\r\n"
                "Date: Mon, 30 Nov 2026 09:00:00 +0000\r\nContent-Type: text/plain; charset=utf-8\r\n"
                "\r\n"
                f"My order {n} arrived broken and nobody answers the phone.\r\n\r\n"
                "On Sun, 29 Nov 2026, Shop <shop@example.com> wrote:\r\n> Your order shipped.\r\n"
            ).encode()
        )
    return out


_INGEST = """
import pickle, sys, time
import django
django.setup()
from django.db import connection
from amends.core import hooks
from amends.channels.services.inbound import mail_ingest
if sys.argv[2] == "channels":
    for h in hooks.all_hooks():
        h._subscribers[:] = [f for f in h._subscribers if f.__module__.startswith("amends.channels")]
msgs = pickle.load(open(sys.argv[1], "rb"))
statements = 0
def count(execute, sql, params, many, context):
    global statements
    statements += 1
    return execute(sql, params, many, context)
with connection.execute_wrapper(count):
    wall, cpu = time.perf_counter(), time.process_time()
    for m in msgs:
        mail_ingest(raw=m)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
print(len(msgs) / wall, len(msgs) / cpu, statements / len(msgs))
"""


def _pipe(env: dict[str, str], sample: list[bytes]) -> tuple[float, float]:
    """Median wall and CPU seconds (user + system of the child) of `amends mail ingest` with
    one message on stdin, one process per message, as a mail server runs it."""
    amends = Path(PYTHON).with_name("amends")
    command = [str(amends)] if amends.exists() else [PYTHON, "-m", "amends.cli"]
    walls, cpus = [], []
    for raw in sample:
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(
            [*command, "mail", "ingest"],
            cwd=ROOT,
            env=env,
            input=raw,
            capture_output=True,
            check=True,
        )
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))
    return statistics.median(walls), statistics.median(cpus)


def bench_mail(db: str, count: int, pipe_runs: int = 10, compiled: bool = False) -> None:
    env = _fresh(db)
    tmp = Path(tempfile.mkdtemp(prefix="bench_mail_"))
    try:
        messages = _messages(count)
        # (a) one process, one message at a time through the ingest service.
        import pickle

        blob = tmp / "msgs.pickle"
        blob.write_bytes(pickle.dumps(messages))
        for variant in ("all", "channels"):
            # "channels": the other apps' hook subscribers (insight scoring, loyalty facts)
            # detached, to see what the mail path itself costs.
            done = subprocess.run(
                [PYTHON, "-c", _INGEST, str(blob), variant],
                cwd=ROOT,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                raise SystemExit(done.stderr[-2000:])
            rate, cpu_rate, per = map(float, done.stdout.strip().splitlines()[-1].split())
            print(
                f"[{db}] mail ingest, one process, subscribers={variant}: {rate:,.1f} msgs/s "
                f"wall, {cpu_rate:,.1f} msgs/s of CPU ({1000 / cpu_rate:.1f} ms each), "
                f"{per:.1f} SQL statements a message ({count} messages); load {_load()}",
                flush=True,
            )
            _drop(db, env)
            env = _fresh(db)
        # (b) a Maildir through one `amends mail ingest PATH` process (fresh database).
        box = mailbox.Maildir(tmp / "Maildir")
        for raw in messages:
            box.add(raw)
        box_env = _compiled(env, tmp, "mail_ingest") if compiled else env
        seconds, peak, last = _run(["mail_ingest", str(tmp / "Maildir")], box_env)
        how = " (compiled modules cached)" if compiled else ""
        print(
            f"[{db}] amends mail ingest Maildir{how}: {count / seconds:,.0f} msgs/s wall, "
            f"{count / LAST_CPU:,.0f} msgs/s of CPU (process start included), peak RSS "
            f"{peak} MB, last line {last!r}; load {_load()}",
            flush=True,
        )
        # (c) the pipe: one process per message, as a mail server runs it; new messages not
        # taken by (b). First as this environment runs Python, then with compiled modules
        # cached (PYTHONDONTWRITEBYTECODE unset, a cache directory of our own), as an
        # installed copy runs: pip compiles the modules when it installs them.
        sample = _messages(count + pipe_runs)[count:]
        wall, cpu = _pipe(env, sample[:pipe_runs])
        print(
            f"[{db}] pipe, one process per message, median of {pipe_runs}: {wall * 1000:.0f} ms "
            f"wall, {cpu * 1000:.0f} ms CPU (PYTHONDONTWRITEBYTECODE="
            f"{env.get('PYTHONDONTWRITEBYTECODE', '')!r}); load {_load()}",
            flush=True,
        )
        cached = dict(env)
        cached.pop("PYTHONDONTWRITEBYTECODE", None)
        cached["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
        _pipe(cached, [raw.replace(b"<bench-", b"<bench-warm-") for raw in sample[:1]])
        more = [raw.replace(b"<bench-", b"<bench-cached-") for raw in sample[:pipe_runs]]
        wall, cpu = _pipe(cached, more)
        print(
            f"[{db}] pipe, compiled modules cached, median of {pipe_runs}: {wall * 1000:.0f} ms "
            f"wall, {cpu * 1000:.0f} ms CPU; load {_load()}",
            flush=True,
        )
    finally:
        _drop(db, env)
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument(
        "--rows", type=int, nargs="*", default=[], help="Also synthetic files of N rows each."
    )
    parser.add_argument("--skip-dev", action="store_true", help="Only the synthetic files.")
    parser.add_argument("--messages", type=int, default=500)
    parser.add_argument(
        "--pipe-runs", type=int, default=10, help="Processes for the pipe's median."
    )
    parser.add_argument("--skip-import", action="store_true")
    parser.add_argument("--skip-mail", action="store_true")
    parser.add_argument(
        "--compiled",
        action="store_true",
        help="Imports and the Maildir run with compiled modules cached, as an installed copy runs.",
    )
    args = parser.parse_args()
    if not DEV.exists():
        raise SystemExit(f"{DEV} not found (set BENCH_CFPB)")
    if not args.skip_import:
        bench_import(args.db, args.rows, args.skip_dev, args.compiled)
    if not args.skip_mail:
        bench_mail(args.db, args.messages, args.pipe_runs, args.compiled)


if __name__ == "__main__":
    main()
