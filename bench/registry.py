"""The beneficiary registry: a file of synthetic cards imported by ``atende beneficiaries
import`` as its own process (lines per second, peak memory from the kernel), the same file
again (every line unchanged), then searches of each kind as an attendant makes them
(``beneficiary_search``: the query and the critiques of the page of results).
Targets (issue 18): PostgreSQL with 1,000,000 cards: import ≥ 20,000 lines/s under 200 MB,
search p95 < 30 ms for each kind, CPF and card < 5 ms; SQLite with 100,000: p95 < 100 ms."""

import argparse
import csv
import random
import subprocess
import tempfile
import time
from pathlib import Path

import common


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int)
    parser.add_argument("--searches", type=int, default=300)
    parser.add_argument("--again", action="store_true", help="Import the same file twice.")
    parser.add_argument(
        "--changed",
        type=int,
        default=0,
        help="Then import a file of this many of the cards already there, each one changed.",
    )
    args = parser.parse_args()
    common.setup()
    from django.db import connection

    from atende.beneficiaries.models import Beneficiary
    from atende.synth import beneficiaries as synth
    from atende.tenancy.models import Membership, Operator, Role
    from atende.testing.factories import UserFactory

    wanted = args.cards or (1_000_000 if connection.vendor == "postgresql" else 100_000)
    operator, _ = Operator.objects.get_or_create(name="Registro sintético")
    attendant = UserFactory(email=f"bench-{time.time_ns()}@registro.example")
    Membership.objects.create(user=attendant, operator=operator, role=Role.ATTENDANT)
    have = Beneficiary.objects.filter(operator=operator).count()
    print(f"machine: {common.machine()}; revision {common.git_revision()}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "beneficiarios.csv"
        began = time.perf_counter()
        if wanted > have:
            write_file(path, synth.rows(wanted - have, seed=1, first=have + 1))
        if path.exists():
            print(
                f"file of {wanted - have:,} cards, {path.stat().st_size / 1e6:,.0f} MB, "
                f"written in {time.perf_counter() - began:.0f} s"
            )
            import_file(path, operator.pk, "import into the registry")
            if args.again:
                import_file(path, operator.pk, "the same file again (all unchanged)")
        if args.changed:
            changed = Path(folder) / "alterados.csv"
            write_file(changed, synth.rows(args.changed, seed=2, first=1))
            import_file(changed, operator.pk, f"{args.changed:,} cards already there, all changed")
    if connection.vendor == "postgresql":
        # As autovacuum leaves a table after a load (statistics taken, visibility map set).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    total = Beneficiary.objects.filter(operator=operator).count()
    print(f"searching {total:,} cards, {args.searches} searches of each kind:")
    _searches(attendant, operator, args.searches)


def write_file(path: Path, rows) -> None:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = None
        for row in rows:
            if writer is None:
                writer = csv.DictWriter(out, fieldnames=list(row), delimiter=";")
                writer.writeheader()
            writer.writerow(row)


def import_file(path: Path, operator_id: int, what: str) -> None:
    # GNU time reads the peak of the import alone: the kernel's figure for a child of this
    # process would count the pages it shared with this one before it exec'd.
    command = [
        "/usr/bin/time", "-f", "peak_kb=%M",
        str(common.ROOT / ".venv" / "bin" / "atende"),
        "beneficiaries", "import", str(path), "--operator", str(operator_id), "--quiet",
    ]  # fmt: skip
    began = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    output = done.stdout.strip()
    assert done.returncode == 0, f"the import failed: {output} {done.stderr}"
    peak_kb = int(done.stderr.rsplit("peak_kb=", 1)[1].split()[0])
    lines = int(output.split(":")[1].split()[0])
    print(
        f"{what}: {lines:,} lines in {elapsed:.1f} s = {lines / elapsed:,.0f} lines/s end to "
        f"end; peak memory of the import process {peak_kb / 1024:,.0f} MB"
    )
    print(f"  ({output.splitlines()[0]})")


def _searches(attendant: object, operator: object, count: int) -> None:
    from atende.beneficiaries.models import Beneficiary, Contact
    from atende.beneficiaries.records import name_fold
    from atende.beneficiaries.selectors import beneficiary_search

    rng = random.Random(7)
    top = Beneficiary.objects.filter(operator=operator).order_by("-pk").first().pk
    ids = [rng.randint(1, top) for _ in range(count * 3)]
    people = list(
        Beneficiary.objects.filter(operator=operator, pk__in=ids).exclude(birth_date=None)[:count]
    )
    phones = dict(
        Contact.objects.filter(beneficiary__in=people, kind="phone").values_list(
            "beneficiary_id", "value"
        )
    )

    def punctuated(cpf: str) -> str:
        return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"

    def two_words(b) -> str:
        words = name_fold(b.name).split()
        return f"{words[0]} {words[-1]}"

    def partial(b) -> str:
        words = name_fold(b.name).split()
        return f"{words[0]} {words[-1][:4]}"

    kinds = {
        "CPF (punctuated)": lambda b: {"text": punctuated(b.cpf)},
        "card": lambda b: {"text": b.card},
        "phone": lambda b: {"text": phones.get(b.pk, "+5511900000000")[3:]},
        "birth date": lambda b: {"birth_date": b.birth_date},
        "name (first and last, no accents)": lambda b: {"text": two_words(b)},
        "name, last word partial": lambda b: {"text": partial(b)},
        "name + birth date": lambda b: {"text": two_words(b), "birth_date": b.birth_date},
    }
    for label, query in kinds.items():
        timings, found = [], 0
        for person in people:
            began = time.perf_counter()
            results = beneficiary_search(user=attendant, **query(person))
            timings.append((time.perf_counter() - began) * 1000)
            found += any(r.beneficiary.pk == person.pk for r in results)
        share = f"{found}/{len(people)}"
        print(f"  {label}: {common.summary(timings)}; the person among the results {share}")


if __name__ == "__main__":
    main()
