"""Protocol issuing for one operator: 32 concurrent writers, each number in its own
transaction, for a fixed time. Prints numbers per second and checks there is no duplicate
and no gap. Target: at least 2,000 per second, zero duplicates."""

import argparse
import threading
import time
from datetime import UTC, datetime

import common

WRITERS = 32


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--writers", type=int, default=WRITERS)
    parser.add_argument(
        "--in-transaction",
        action="store_true",
        help="Each number in BEGIN … COMMIT (as inside a creation) instead of autocommit.",
    )
    args = parser.parse_args()
    common.setup()
    from django.db import connections, transaction

    from atende.catalog.models import ProtocolScheme, ProtocolType
    from atende.catalog.protocols import protocol_issue
    from atende.tenancy.models import Operator
    from atende.tenancy.services import operator_create

    operator = Operator.objects.filter(name="Bench Protocolos").first() or operator_create(
        name="Bench Protocolos", ans_registration="999991"
    )
    protocol_type, _ = ProtocolType.objects.get_or_create(
        operator=operator, name="ANS", defaults={"scheme": ProtocolScheme.ANS}
    )

    def issue() -> str:
        return protocol_issue(protocol_type=protocol_type, at=datetime.now(UTC))

    issued: list[list[str]] = [[] for _ in range(args.writers)]
    start = threading.Barrier(args.writers + 1)
    stop = threading.Event()

    def writer(index: int) -> None:
        mine = issued[index]
        start.wait()
        while not stop.is_set():
            if args.in_transaction:
                with transaction.atomic():
                    mine.append(issue())
            else:
                mine.append(issue())
        connections.close_all()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(args.writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    time.sleep(args.seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    numbers = [n for batch in issued for n in batch]
    duplicates = len(numbers) - len(set(numbers))
    by_day: dict[str, list[int]] = {}
    for number in numbers:
        by_day.setdefault(number[6:14], []).append(int(number[14:]))
    gaps = sum((max(values) - min(values) + 1) - len(values) for values in by_day.values())
    print(f"machine: {common.machine()}; revision {common.git_revision()}")
    print(
        f"protocols: {len(numbers)} issued by {args.writers} writers in {elapsed:.1f} s = "
        f"{len(numbers) / elapsed:,.0f}/s; duplicates {duplicates}; gaps {gaps}; "
        f"{'in transactions' if args.in_transaction else 'autocommit'}"
    )


if __name__ == "__main__":
    main()
