"""Shared by the benchmarks: Django set-up against the database of the environment, and
the description of the machine printed with every figure."""

import contextlib
import os
import platform
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))


def setup() -> None:
    """Django in this process as the tables' owner, where one is configured (the benchmark
    migrates and generates data); the servers and workers it starts inherit the runtime
    role's URL, as in production."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    from atende.cli import as_owner

    runtime = os.environ.get("ATENDE_DATABASE_URL")
    as_owner(os.environ)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    # The servers a benchmark starts serve the collected files, as ``make run``'s do.
    call_command("collectstatic", interactive=False, verbosity=0)
    if runtime is not None:
        os.environ["ATENDE_DATABASE_URL"] = runtime


def machine() -> str:
    from django.db import connection

    cpu = "unknown CPU"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.1f} GiB RAM"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW fsync")
            database = f"PostgreSQL {version} (fsync={cursor.fetchone()[0]})"
        else:
            cursor.execute("select sqlite_version()")
            database = f"SQLite {cursor.fetchone()[0]}"
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; Python {platform.python_version()}; "
        f"{database}; {platform.platform()}"
    )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def summary(values_ms: list[float]) -> str:
    return (
        f"p50 {percentile(values_ms, 0.5):.1f} ms, p95 {percentile(values_ms, 0.95):.1f} ms, "
        f"p99 {percentile(values_ms, 0.99):.1f} ms, mean {statistics.fmean(values_ms):.1f} ms"
    )


def git_revision() -> str:
    try:
        return subprocess.check_output(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            text=True,
        ).strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(*, web_workers: int = 2, threads: int = 16) -> Iterator[str]:
    """``atende serve`` (gunicorn, no worker) on a free loopback port, as production runs
    it without debug; yields its base address and stops it afterwards."""
    import signal
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, "ATENDE_DEBUG": "false"}
    command = [
        sys.executable,
        "-m",
        "atende",
        "serve",
        "--no-worker",
        "--bind",
        f"127.0.0.1:{port}",
        "--web-workers",
        str(web_workers),
        "--threads",
        str(threads),
    ]
    server = subprocess.Popen(
        command,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except OSError:
                if time.monotonic() > deadline:
                    sys.exit("the server did not start")
                time.sleep(0.3)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def processes_cpu() -> dict[str, float]:
    """CPU seconds used so far by the web server's processes (gunicorn's) and by
    PostgreSQL's (its backends and its own workers), read from ``/proc``; the difference
    over a measure, divided by its requests, is each one's CPU a request. A process that
    ended (a backend whose connection closed) leaves ``/proc``; its parent, the postmaster or
    gunicorn's arbiter, has waited for it and counts its CPU as its children's, which is
    read too, so that a measure never loses what such a process used."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {"web server": 0.0, "PostgreSQL": 0.0}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:  # ended meanwhile
            continue
        name = text[text.index("(") + 1 : text.rindex(")")]
        fields = text[text.rindex(")") + 2 :].split()
        seconds = sum(int(f) for f in fields[11:15]) / tick  # utime, stime, cutime, cstime
        if name == "postgres":
            used["PostgreSQL"] += seconds
        elif b"gunicorn" in command:
            used["web server"] += seconds
    return used


def run_wrk(script: str, url: str, *, connections: int, seconds: int, threads: int = 2) -> str:
    """wrk's output for ``script`` against ``url``."""
    return subprocess.run(
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            script,
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
