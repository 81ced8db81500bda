"""Benchmark Amends as served by `amends serve` on loopback.

    python bench/run_bench.py --sizes 10000,100000 [--database-url postgres://…]

For each size it tops the database up to that many cases with bench/load_cases.py, starts
`amends serve --bind 127.0.0.1:<port> --workers 2`, and measures:

- POST /api/v1/cases throughput with 1 and with 4 concurrent clients;
- p50/p95 latency of the first page of GET /api/v1/cases?status=new and ?status=in_recovery
  (as an agent, whose visibility rules add conditions, and as a manager, who sees everything),
  of GET /api/v1/cases/<ref>, of the web queue page (/) and of a case page (/cases/<ref>/),
  logged in through the login form;
- peak RSS (VmHWM) of each gunicorn worker.

Only the project's virtualenv and the standard library; all traffic goes to 127.0.0.1; every
loop is bounded; the server is stopped at the end. Prints a table and writes JSON to
bench/results/. SQLite by default (in --data-dir), PostgreSQL with --database-url.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
HOST = "127.0.0.1"
PASSWORD = "demo-pass-2026"  # noqa: S105  # the published demo password (amends.demo.services.build)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Client:
    """One HTTP client on loopback with a cookie jar; a new connection per request because
    gunicorn's sync workers close the connection after each response."""

    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self.cookies: dict[str, str] = {}

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes, float]:
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(HOST, self.port, timeout=60)
        started = time.perf_counter()
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        elapsed = time.perf_counter() - started
        for value in response.headers.get_all("Set-Cookie") or []:
            cookie: SimpleCookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                self.cookies[key] = morsel.value
        conn.close()
        return response.status, data, elapsed

    def get_json(self, path: str) -> Any:
        status, data, _ = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path} -> {status}: {data[:300]!r}")
        return json.loads(data)

    def login(self, username: str) -> bool:
        status, page, _ = self.request("GET", "/login/")
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or not match:
            return False
        form = urlencode(
            {
                "csrfmiddlewaretoken": match.group(1).decode(),
                "username": username,
                "password": PASSWORD,
            }
        ).encode()
        status, _, _ = self.request(
            "POST",
            "/login/",
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Referer": f"http://{HOST}:{self.port}/login/",
            },
        )
        return status in (302, 303) and "sessionid" in self.cookies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def latency(client: Client, path: str, count: int) -> dict[str, Any]:
    for _ in range(5):  # warm up caches and connections
        client.request("GET", path)
    times, statuses = [], set()
    for _ in range(count):
        status, _, elapsed = client.request("GET", path)
        statuses.add(status)
        times.append(elapsed * 1000)
    result: dict[str, Any] = {
        "path": path,
        "requests": count,
        "statuses": sorted(statuses),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
    }
    if statuses != {200}:
        result["error"] = f"non-200 responses: {sorted(statuses)}"
    return result


def create_throughput(port: int, token: str, clients: int, total: int) -> dict[str, Any]:
    per_client = total // clients
    errors: list[int] = []
    times: list[float] = []
    lock = threading.Lock()

    def work(worker: int) -> None:
        client = Client(port, token)
        for n in range(per_client):
            body = json.dumps(
                {
                    "customer": {
                        "external_ref": f"BENCH-{(worker * 7919 + n) % 1000:07d}",
                        "name": "Bench Customer",
                        "email": "bench@example.com",
                    },
                    "title": "Broadband down again",
                    "description": "No connection since this morning.",
                    "expected": "A working connection",
                    "delivered": "No service",
                    "channel": "api",
                    "severity": 2,
                }
            ).encode()
            status, _, elapsed = client.request(
                "POST", "/api/v1/cases", body=body, headers={"Content-Type": "application/json"}
            )
            with lock:
                times.append(elapsed * 1000)
                if status != 201:
                    errors.append(status)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    wall = time.perf_counter() - started
    done = per_client * clients
    return {
        "clients": clients,
        "requests": done,
        "errors": len(errors),
        "error_statuses": sorted(set(errors)),
        "per_second": round((done - len(errors)) / wall, 1),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
    }


def manage(env: dict[str, str], *args: str) -> str:
    out = subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), *args],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    return out.stdout


def case_count(env: dict[str, str]) -> int:
    out = manage(
        env, "shell", "-c", "from amends.cases.models import Case; print(Case.objects.count())"
    )
    return int(out.strip().splitlines()[-1])


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            # pid (comm) state ppid …: comm may contain spaces, so split after the last ")".
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            PYTHON,
            str(ROOT / "manage.py"),
            "serve",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            "2",
            "--no-collectstatic",
        ],
        cwd=ROOT,
        env={**env, "AMENDS_ACCESS_LOG": "/dev/null"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                time.sleep(1.0)  # let both workers boot
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the server did not start within 60 s")


def stop(server: subprocess.Popen[bytes]) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)


def bench_size(env: dict[str, str], size: int, args: argparse.Namespace) -> dict[str, Any]:
    have = case_count(env)
    if have < size:
        print(f"loading {size - have:,} cases …", flush=True)
        started = time.monotonic()
        subprocess.run(
            [PYTHON, str(ROOT / "bench" / "load_cases.py"), "--count", str(size - have)],
            cwd=ROOT,
            env=env,
            check=True,
            timeout=6 * 3600,
        )
        print(f"loaded in {time.monotonic() - started:.0f}s", flush=True)
    agent_token = manage(env, "token_create", "alex").strip().splitlines()[-1]
    manager_token = manage(env, "token_create", "morgan").strip().splitlines()[-1]
    port = free_port()
    if args.pause_pid:  # keep a background job (e.g. another load) off the CPUs while we measure
        os.kill(args.pause_pid, signal.SIGSTOP)
    server = serve(env, port)
    result: dict[str, Any] = {
        "size": case_count(env),
        "database": args.label,
        "cpus": os.cpu_count(),
        "load_average_before": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        agent, manager = Client(port, agent_token), Client(port, manager_token)
        n = args.requests
        result["api_list"] = {
            f"{who}:{status}": latency(client, f"/api/v1/cases?status={status}", n)
            for who, client in (("agent", agent), ("manager", manager))
            for status in ("new", "in_recovery")
        }
        mine = agent.get_json("/api/v1/cases?assignee=me&open=true&size=1")["items"]
        ref = mine[0]["ref"] if mine else agent.get_json("/api/v1/cases?size=1")["items"][0]["ref"]
        result["case_ref"] = ref
        result["api_case"] = latency(agent, f"/api/v1/cases/{ref}", n)
        web = Client(port)
        if web.login("alex"):
            result["web_queue"] = latency(web, "/", n)
            result["web_case"] = latency(web, f"/cases/{ref}/", n)
        else:
            result["web"] = "login form unavailable: web pages not measured"
        result["create"] = [
            create_throughput(port, agent_token, 1, args.creates // 2),
            create_throughput(port, agent_token, 4, args.creates),
        ]
        pids = worker_pids(server.pid)
        result["worker_peak_rss_mb"] = {str(pid): peak_rss_mb(pid) for pid in pids}
        result["load_average_after"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        stop(server)
        if args.pause_pid:
            os.kill(args.pause_pid, signal.SIGCONT)
    return result


def show(result: dict[str, Any]) -> None:
    print(f"\n== {result['database']} · {result['size']:,} cases ==")
    rows: list[tuple[str, str, str]] = []
    for name, m in result["api_list"].items():
        rows.append((f"GET /api/v1/cases?status={name.split(':')[1]} ({name.split(':')[0]})",
                     f"{m['p50_ms']}", f"{m['p95_ms']}" + (" !" if "error" in m else "")))  # fmt: skip
    for key, label in (
        ("api_case", "GET /api/v1/cases/<ref>"),
        ("web_queue", "web queue /"),
        ("web_case", "web case page"),
    ):
        if key in result:
            m = result[key]
            note = f" ! {m['statuses']}" if "error" in m else ""
            rows.append((label, f"{m['p50_ms']}", f"{m['p95_ms']}{note}"))
    print(f"{'request':<48} {'p50 ms':>8} {'p95 ms':>14}")
    for label, p50, p95 in rows:
        print(f"{label:<48} {p50:>8} {p95:>14}")
    if "web" in result:
        print(result["web"])
    for c in result["create"]:
        print(
            f"POST /api/v1/cases, {c['clients']} client(s): {c['per_second']}/s "
            f"(p95 {c['p95_ms']} ms, errors {c['errors']})"
        )
    print(f"peak RSS per worker (MB): {result['worker_peak_rss_mb']}")
    print(
        f"load average before/after: {result['load_average_before']} / "
        f"{result['load_average_after']} on {result['cpus']} CPUs"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument(
        "--data-dir", default=str(ROOT / "var" / "bench"), help="where the SQLite database lives"
    )
    parser.add_argument("--requests", type=int, default=200, help="per latency measurement")
    parser.add_argument("--creates", type=int, default=400, help="POSTs with 4 clients")
    parser.add_argument(
        "--pause-pid", type=int, default=0, help="SIGSTOP this pid of yours while measuring"
    )
    args = parser.parse_args()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "AMENDS_DATA_DIR": args.data_dir,
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DATABASE_URL", None)
    if args.database_url:
        env["DATABASE_URL"] = args.database_url
        args.label = "postgresql"
    else:
        args.label = "sqlite"
    Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    manage(env, "migrate", "-v0")
    results_dir = ROOT / "bench" / "results"
    results_dir.mkdir(parents=True, exist_ok=True)
    for size in [int(s) for s in args.sizes.split(",") if s.strip()]:
        result = bench_size(env, size, args)
        show(result)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        path = results_dir / f"{args.label}-{result['size']}-{stamp}.json"
        path.write_text(json.dumps(result, indent=2))
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
