"""A queue page (50 rows filtered by unit and state) with a million occurrences in the
database: synthetic data from ``atende synth`` (its rate is printed too), then many page
reads through the API in-process, timed and with their queries counted.
Targets on PostgreSQL: p95 under 50 ms; the same number of queries whatever the page size;
the generator at least 50,000 occurrences (with events) per second."""

import argparse
import os
import random
import time

import common


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--occurrences", type=int, default=1_000_000)
    parser.add_argument("--reads", type=int, default=300)
    args = parser.parse_args()
    # The panel's page is rendered with its stylesheet: from the apps, no collected manifest.
    os.environ.setdefault(
        "ATENDE_STATIC_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
    )
    os.environ.setdefault("ATENDE_STATIC_FROM_APPS", "true")
    common.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from atende.occurrences.models import Event, Occurrence
    from atende.synth.occurrences import Synthesizer, synth_target
    from atende.tenancy.models import Scope
    from atende.tenancy.services import api_token_create

    operator, application = synth_target(seed=1)
    have = Occurrence.objects.filter(operator=operator).count()
    if have < args.occurrences:
        started = time.perf_counter()
        Synthesizer(
            operator=operator, application=application, seed=have + 1, skip_checks=True
        ).run(args.occurrences - have)
        elapsed = time.perf_counter() - started
        made = args.occurrences - have
        events = Event.objects.filter(operator=operator).count()
        print(
            f"synth: {made:,} occurrences with their events ({events:,} events in all) in "
            f"{elapsed:.1f} s = {made / elapsed:,.0f} occurrences/s"
        )
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                # As autovacuum would leave a loaded table: statistics and the visibility
                # map (index-only scans), which a freshly loaded table lacks.
                cursor.execute("VACUUM ANALYZE")
    _, token = api_token_create(
        application=application, name="bench", scopes=[Scope.OCCURRENCES_READ]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_HOST="127.0.0.1")
    units = list(operator.units.values_list("pk", flat=True))
    rng = random.Random(1)

    def read(limit: int) -> tuple[float, int, int]:
        url = (
            f"/api/v1/occurrences?unit={rng.choice(units)}&state={rng.choice([1, 2, 3])}"
            f"&limit={limit}"
        )
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(url)
            took = (time.perf_counter() - began) * 1000
        assert response.status_code == 200, response.content
        return took, len(queries), len(response.json()["items"])

    for _ in range(20):  # warm caches and the token's last-use note
        read(50)
    timings, counts, rows = [], set(), 0
    for _ in range(args.reads):
        took, queries, items = read(50)
        timings.append(took)
        counts.add(queries)
        rows += items
    small = {read(5)[1] for _ in range(20)}
    total = Occurrence.objects.count()
    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(
        f"queue page via API (50 rows, unit + state) over {total:,} occurrences, "
        f"{args.reads} reads: {common.summary(timings)}; queries per page {sorted(counts)} "
        f"(page of 5: {sorted(small)}); {rows / args.reads:.0f} rows per page on average"
    )
    panel_page(operator, args.reads)


def panel_page(operator: object, reads: int) -> None:
    """The attendant panel's queue as a supervisor sees it (every unit): the whole HTML
    page with its counts by state, as the server renders it. Target: p95 under 150 ms."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from atende.tenancy.models import Membership, Role

    supervisor = (
        Membership.objects.filter(operator=operator, role=Role.SUPERVISOR, is_active=True)
        .select_related("user")
        .first()
        .user
    )
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(supervisor)
    rng = random.Random(2)
    filters = ["", "state=1", "state=3", "sla=breached", "sla=today", "q=Silva"]

    def read() -> tuple[float, int]:
        with CaptureQueriesContext(connection) as queries:
            began = time.perf_counter()
            response = client.get(f"/painel/?{rng.choice(filters)}")
            took = (time.perf_counter() - began) * 1000
        assert response.status_code == 200
        return took, len(queries)

    for _ in range(10):
        read()
    timings, counts = [], set()
    for _ in range(reads):
        took, queries = read()
        timings.append(took)
        counts.add(queries)
    print(
        f"panel queue page (HTML, 50 rows, counts by state, filters {filters}), {reads} reads: "
        f"{common.summary(timings)}; queries per page {sorted(counts)}"
    )


if __name__ == "__main__":
    main()
