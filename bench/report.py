"""The occurrence report over the whole synthetic history: ``atende report`` run as its own
process (its peak memory is read from the kernel when it exits), lines per second end to
end, and beside it the time PostgreSQL alone takes to stream the same rows (COPY of the
report's query to a client that discards them).
Targets: on PostgreSQL with 1,000,000 occurrences, at least 250,000 lines/s and under
200 MB peak memory; on SQLite the figure at 100,000 occurrences is printed."""

import argparse
import os
import subprocess
import tempfile
import time
from datetime import date
from pathlib import Path

import common


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--occurrences", type=int)
    args = parser.parse_args()
    common.setup()
    from django.db import connection, transaction

    from atende.occurrences.models import Event, Occurrence
    from atende.reports.params import ReportParams
    from atende.reports.writer import report_copy, report_statement
    from atende.synth.occurrences import Synthesizer, synth_target

    wanted = args.occurrences or (1_000_000 if connection.vendor == "postgresql" else 100_000)
    operator, application = synth_target(seed=1)
    have = Occurrence.objects.filter(operator=operator).count()
    if have < wanted:
        Synthesizer(
            operator=operator,
            application=application,
            seed=have + 1,
            skip_checks=connection.vendor == "postgresql",
        ).run(wanted - have)
        if connection.vendor == "postgresql":
            # As autovacuum leaves a table after a load (hint bits and visibility map set,
            # statistics taken), and as queue_page.py measures: the first scan of freshly
            # written rows would otherwise also write every page.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
    occurrences = Occurrence.objects.filter(operator=operator).count()
    events = Event.objects.filter(operator=operator).count()
    start, end = date(2020, 1, 1), date(2030, 12, 31)
    operator.report_max_days = 5000
    operator.save(update_fields=["report_max_days"])

    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "relatorio.txt"
        command = [
            str(common.ROOT / ".venv" / "bin" / "atende"),
            "report",
            "--application", str(application.pk),
            "--start", start.strftime("%d/%m/%Y"),
            "--end", end.strftime("%d/%m/%Y"),
            "--output", str(target),
        ]  # fmt: skip
        began = time.perf_counter()
        process = subprocess.Popen(command)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - began
        assert os.waitstatus_to_exitcode(status) == 0, "atende report failed"
        size = target.stat().st_size
        with target.open("rb") as produced:
            lines = sum(block.count(b"\n") for block in iter(lambda: produced.read(1 << 20), b""))
    peak_mb = usage.ru_maxrss / 1024

    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(
        f"report over {occurrences:,} occurrences and {events:,} events: {lines:,} lines, "
        f"{size / 1e6:,.0f} MB in {elapsed:.1f} s = {lines / elapsed:,.0f} lines/s end to end; "
        f"peak memory of the report process {peak_mb:,.0f} MB"
    )
    if connection.vendor != "postgresql":
        return
    params = ReportParams(
        operator_id=operator.pk, application_id=application.pk, start=start, end=end
    )
    began = time.perf_counter()
    streamed = 0
    with transaction.atomic(), connection.cursor() as cursor:
        sql, values = report_statement(params, application=application, connection=connection)
        with report_copy(cursor, sql, values) as copy:
            for row in copy:
                streamed += len(row) > 2  # not the binary COPY's 2-byte trailer
    alone = time.perf_counter() - began
    print(
        f"PostgreSQL alone (COPY of the report's query, {streamed:,} rows discarded): "
        f"{alone:.1f} s = {streamed / alone:,.0f} lines/s; end to end takes "
        f"{elapsed / alone:.2f}x that"
    )


if __name__ == "__main__":
    main()
