"""Shared by the benchmarks: Django set-up against the database of the environment, and
the description of the machine printed with every figure."""

import os
import platform
import statistics
import subprocess
import sys
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
