"""``atende synth`` on PostgreSQL: occurrences with their full event histories written per
second into empty tables, as the benchmarks load them. Each run empties the occurrence
tables first (a throwaway database only: every operator's occurrences go) and prints its
rate, the events written, and how busy the machine's cores were (a rate below what the
cores allow shows as idle core-seconds). Target: at least 50,000 occurrences per second."""

import argparse
import os
import statistics
import time
from pathlib import Path

import common


def cpu_seconds() -> tuple[float, float]:
    """Busy and idle core-seconds of the whole machine since boot (Linux)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = fields[:7]
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, (idle + iowait) / tick


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    common.setup()
    from django.db import connection

    from atende.occurrences.models import Event
    from atende.synth.occurrences import Synthesizer, synth_target

    if connection.vendor != "postgresql":
        raise SystemExit("The target is for PostgreSQL: set ATENDE_DATABASE_URL.")
    operator, application = synth_target(seed=1)
    rates = []
    for run in range(1, args.runs + 1):
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE occurrences_occurrence, occurrences_event CASCADE")
            cursor.execute("ANALYZE occurrences_occurrence, occurrences_event")
        synthesizer = Synthesizer(
            operator=operator, application=application, seed=run, skip_checks=True
        )
        before = cpu_seconds()
        started = time.perf_counter()
        synthesizer.run(args.occurrences)
        elapsed = time.perf_counter() - started
        busy, idle = (now - then for now, then in zip(cpu_seconds(), before, strict=True))
        rates.append(args.occurrences / elapsed)
        print(
            f"run {run}: {args.occurrences:,} occurrences with {Event.objects.count():,} events "
            f"in {elapsed:.1f} s = {rates[-1]:,.0f} occurrences/s; the machine's cores "
            f"{busy:.1f} s busy, {idle:.1f} s idle"
        )
    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(
        f"synth, {args.runs} runs of {args.occurrences:,} into empty tables: median "
        f"{statistics.median(rates):,.0f} occurrences/s (range {min(rates):,.0f}-"
        f"{max(rates):,.0f})"
    )


if __name__ == "__main__":
    main()
