"""Helpers for tests of the beneficiary registry: valid documents, CSV files, records."""

import csv
import io
import random

from django.db import transaction

from atende.beneficiaries.records import record_clean
from atende.beneficiaries.services import Source, beneficiaries_upsert
from atende.synth.beneficiaries import cpf_of


def cpf_numbers(count: int, seed: int = 1) -> list[str]:
    """``count`` distinct valid CPFs (11 digits), the same for the same seed."""
    bases = random.Random(seed).sample(range(100_000_000, 999_999_999), count)
    return [cpf_of(base) for base in bases]


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
