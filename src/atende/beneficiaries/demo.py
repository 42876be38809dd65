"""The demo's registry: a few thousand synthetic beneficiaries of the health operator,
loaded through the real upsert, with procedure groups and waiting periods, invoices, guides
and partial coverage, and some cards carrying each critique; and one file imported by the
configurator, with three lines refused, for the import page to show."""

import csv
import io
import uuid
from datetime import date, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from atende.beneficiaries.imports import import_queue, import_run, imports_folder, row_fields
from atende.beneficiaries.models import Beneficiary, Ceiling, ProcedureGroup, Product
from atende.beneficiaries.records import record_clean
from atende.beneficiaries.services import (
    GUIDES,
    INVOICES,
    PARTIAL_COVERAGES,
    Source,
    beneficiaries_upsert,
    children_upsert,
    waiting_periods_set,
)
from atende.synth import beneficiaries as synth
from atende.tenancy.models import Operator

GROUPS = [
    ("URG", "Urgência e emergência", Ceiling.URGENCY, 1),
    ("CON", "Consultas", Ceiling.OTHER, 30),
    ("EXS", "Exames simples", Ceiling.OTHER, 30),
    ("EXC", "Exames complexos", Ceiling.OTHER, 180),
    ("INT", "Internação", Ceiling.OTHER, 180),
    ("PAR", "Parto a termo", Ceiling.TERM_DELIVERY, 300),
]
BATCH = 1000


def demo_registry_create(
    *,
    operator: Operator,
    count: int,
    people: list[tuple[str, str, str]],
    importer: object | None = None,
) -> int:
    """Load ``count`` synthetic cards plus ``people`` (card, CPF, name: the portal's
    beneficiaries) unless the operator already has a registry, and import a small file as
    ``importer`` (a configurator); returns the cards made."""
    if Beneficiary.objects.filter(operator=operator).exists():
        return 0
    today = timezone.localdate()
    rows = list(synth.rows(count, seed=2026, today=today))
    for n, row in enumerate(rows):
        _critique(n, row, today)
    for card, cpf, name in people:
        rows.append(
            {
                **rows[0],
                "carteirinha": card,
                "cpf": cpf,
                "nome": name,
                "titular": "",
                "emails": "beatriz@saude.demo",
                "nascimento": "15/08/1985",
                "inicio_contrato": (today - timedelta(days=400)).strftime("%d/%m/%Y"),
                "validade_carteirinha": (today + timedelta(days=700)).strftime("%d/%m/%Y"),
                "situacao": "",
                "data_situacao": "",
            }
        )
    records = [record_clean(row_fields(row)) for row in rows]
    source = Source()
    with transaction.atomic():
        products: dict = {}
        for start in range(0, len(records), BATCH):
            beneficiaries_upsert(
                operator=operator,
                records=records[start : start + BATCH],
                source=source,
                products=products,
            )
        groups = {
            code: ProcedureGroup.objects.create(
                operator=operator, code=code, name=name, ceiling=ceiling
            )
            for code, name, ceiling, _days in GROUPS
        }
        for product in Product.objects.filter(operator=operator):
            waiting_periods_set(
                product=product, days={groups[code]: days for code, *_r, days in GROUPS}
            )
        _money(operator, rows, today, source)
    if importer is not None:
        _file_imported(operator, importer, rows[:20])
    return len(records)


def _file_imported(operator: Operator, user: object, rows: list[dict]) -> None:
    """A file of cards already in the registry, as the operator's ERP would send it again,
    with three lines the import refuses: it changes nothing and lists what it refused."""
    bad = [dict(row) for row in rows[:3]]
    bad[0]["cpf"] = "111.111.111-12"
    bad[1]["nascimento"] = "31/02/1980"
    bad[2]["carteirinha"] = ""
    text = io.StringIO()
    columns = list(dict.fromkeys(column for row in rows for column in row))
    writer = csv.DictWriter(text, fieldnames=columns, delimiter=";", restval="")
    writer.writeheader()
    writer.writerows([*rows[3:], *bad])
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    path.write_text(text.getvalue(), encoding="utf-8")
    job = import_queue(
        operator=operator, user=user, path=path, file_name="beneficiarios-erp.csv", enqueue=False
    )
    import_run(job_id=job.pk)


def _critique(n: int, row: dict, today: date) -> None:
    """Give some cards each critique, at fixed positions (the same demo every time)."""
    day = today.strftime("%d/%m/%Y")
    if n % 50 == 7:
        row.update(situacao="suspenso", data_situacao=day, motivo_situacao="Inadimplência")
    elif n % 50 == 19:
        row.update(situacao="cancelado", data_situacao=day, motivo_situacao="A pedido do titular")
    elif n % 40 == 11:
        row["validade_carteirinha"] = (today - timedelta(days=15)).strftime("%d/%m/%Y")
    elif n % 30 == 5 and not row["titular"]:
        row["inicio_contrato"] = (today - timedelta(days=20)).strftime("%d/%m/%Y")


def _money(operator: Operator, rows: list[dict], today: date, source: Source) -> None:
    """Three monthly invoices per holder (one in 35 left unpaid for 75 days), a guide for
    one card in ten (some denied), and partial coverage for one in sixty."""
    invoices, guides, coverages = [], [], []
    month = today.replace(day=1)
    for n, row in enumerate(rows):
        card = row["carteirinha"]
        if not row["titular"]:
            for back in range(3):
                competence = (month - timedelta(days=back * 30)).replace(day=1)
                due = competence + timedelta(days=9)
                late = n % 35 == 3 and back == 2
                invoices.append(
                    {
                        "number": f"F{card}-{competence:%Y%m}",
                        "card": card,
                        "competence": competence,
                        "due_on": today - timedelta(days=75) if late else due,
                        "amount": Decimal("389.90"),
                        "paid_on": None if late or due >= today else due,
                    }
                )
        if n % 10 == 4:
            denied = n % 30 == 4
            guides.append(
                {
                    "number": f"G{card}",
                    "card": card,
                    "kind": "autorizacao",
                    "issued_on": today - timedelta(days=n % 60),
                    "procedure": "Ressonância magnética de joelho",
                    "situation": "negada" if denied else "autorizada",
                    "denial_reason": "Procedimento em carência" if denied else "",
                }
            )
        if n % 60 == 9:
            coverages.append(
                {
                    "card": card,
                    "group": "EXC",
                    "condition": "Hipertensão arterial (doença preexistente)",
                    "ends_on": today + timedelta(days=365),
                }
            )
    for kind, items in ((INVOICES, invoices), (GUIDES, guides), (PARTIAL_COVERAGES, coverages)):
        for start in range(0, len(items), BATCH):
            children_upsert(
                operator=operator, kind=kind, items=items[start : start + BATCH], source=source
            )


def registry_people(operator: Operator, limit: int = 500) -> list[tuple[str, str]]:
    """(CPF, name) of some of the operator's cards, for demo occurrences."""
    cards = Beneficiary.objects.filter(operator=operator).order_by("card")[:limit]
    return [(b.cpf, b.name) for b in cards]
