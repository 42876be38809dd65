"""Helpers for tests of the beneficiary registry: valid documents, CSV files, records."""

import csv
import io
import random

from django.db import transaction
from validate_docbr import CPF

from atende.beneficiaries.records import record_clean
from atende.beneficiaries.services import Source, beneficiaries_upsert


def cpf_numbers(count: int, seed: int = 1) -> list[str]:
    """``count`` distinct valid CPFs (11 digits), the same for the same seed."""
    rng = random.Random(seed)
    found = []
    while len(found) < count:
        base = [rng.randrange(10) for _ in range(9)]
        for _ in range(2):
            total = sum(d * w for d, w in zip(base, range(len(base) + 1, 1, -1), strict=True))
            base.append((total * 10 % 11) % 10)
        digits = "".join(map(str, base))
        if CPF().validate(digits) and digits not in found:
            found.append(digits)
    return found


def csv_bytes(rows: list[dict], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    """A beneficiaries file with the columns the rows name (the first row's order)."""
    columns = list(dict.fromkeys(name for row in rows for name in row))
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def card_upserted(operator: object, **fields: object):
    """One card through the real upsert (source: the test), returned from the database."""
    from atende.beneficiaries.models import Beneficiary

    fields.setdefault("name", "Maria da Silva")
    record = record_clean(fields)
    with transaction.atomic():
        beneficiaries_upsert(operator=operator, records=[record], source=Source())
    return Beneficiary.objects.get(operator=operator, card=record.card)
