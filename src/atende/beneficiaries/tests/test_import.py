"""The file import: valid, invalid, repeated, other encodings and separators, a worker that
dies halfway, and the terminal command."""

import csv
import io
import sys
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, transaction
from django.utils import timezone

from atende.beneficiaries import imports, services
from atende.beneficiaries.imports import (
    import_queue,
    import_run,
    imports_drive,
    imports_folder,
    problems_csv,
)
from atende.beneficiaries.models import (
    Beneficiary,
    Change,
    ChangeKind,
    Contact,
    Import,
    ImportProblem,
    ImportState,
    Product,
)
from atende.beneficiaries.records import record_clean
from atende.testing.beneficiaries import cpf_numbers, csv_bytes

pytestmark = pytest.mark.django_db

CPFS = cpf_numbers(40)


def row(n: int, **overrides: str) -> dict:
    values = {
        "carteirinha": f"C{n:05d}",
        "cpf": CPFS[n],
        "nome": f"Beneficiária Número {n}",
        "nascimento": "12/03/1980",
        "sexo": "F",
        "titular": "",
        "produto": "P1",
        "produto_nome": "Plano Ouro",
        "produto_registro_ans": "123456789",
        "segmentacao": "hospitalar_obstetricia",
        "contrato": "K-1",
        "tipo_contrato": "individual",
        "inicio_contrato": "01/01/2026",
        "situacao": "",
        "data_situacao": "",
        "telefones": "(11) 98765-4321",
        "emails": f"pessoa{n}@example.com",
        "logradouro": "Rua das Flores",
        "numero": str(n),
        "municipio": "São Paulo",
        "uf": "SP",
    }
    values.update(overrides)
    return values


def load(operator, content: bytes, name: str = "beneficiarios.csv") -> Import:
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"test-{Import.objects.count()}-{name}"
    path.write_bytes(content)
    job = import_queue(operator=operator, user=None, path=path, file_name=name, enqueue=False)
    import_run(job_id=job.pk)
    job.refresh_from_db()
    return job


def test_a_valid_file_creates_every_card_with_its_plan_and_contacts(operator_a):
    job = load(operator_a, csv_bytes([row(1), row(2, titular="C00001", nome="José Ângelo")]))

    assert (job.state, job.lines_done, job.created, job.invalid) == (ImportState.DONE, 2, 2, 0)
    dependent = Beneficiary.objects.get(operator=operator_a, card="C00002")
    assert dependent.holder_card == "C00001" and not dependent.is_holder
    assert dependent.name_key == "jose angelo"
    assert dependent.product == Product.objects.get(operator=operator_a, code="P1")
    assert dependent.product.ans_registration == "123456789"
    assert sorted(
        Contact.objects.filter(beneficiary=dependent).values_list("value", flat=True)
    ) == [
        "+5511987654321",
        "pessoa2@example.com",
    ]
    assert dependent.addresses.get().street == "Rua das Flores"
    assert Change.objects.filter(job=job, kind=ChangeKind.CREATED).count() == 2
    assert not (imports_folder() / job.stored_name).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite prepares no plans")
def test_new_cards_are_written_with_cached_plans_and_lookups_planned_per_call(
    operator_a, monkeypatch
):
    """The rows' foreign-key checks are lookups by primary key: planned again for every
    row, they were most of PostgreSQL's work in an import."""
    modes = {}
    write = services.rows_write

    def rows_write(table, columns, rows):
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('plan_cache_mode')")
            modes[table] = cursor.fetchone()[0]
        write(table, columns, rows)

    monkeypatch.setattr(services, "rows_write", rows_write)
    with transaction.atomic():
        services.beneficiaries_upsert(
            operator=operator_a,
            records=[record_clean(imports.row_fields(row(1)))],
            source=services.Source(),
        )
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('plan_cache_mode')")
            after = cursor.fetchone()[0]
    assert set(modes.values()) == {"auto"}
    assert len(modes) == 4  # card, contacts, address, creation record
    assert after == "force_custom_plan"


def test_the_interpreter_is_handed_between_threads_quickly_while_a_file_loads(
    operator_a, monkeypatch
):
    """The writer must not wait Python's 5 ms for the checking thread each time it comes
    back from the database; the process's own setting is put back afterwards."""
    seen = []
    check = imports._check

    def watched(batch, position):
        seen.append(sys.getswitchinterval())
        return check(batch, position)

    monkeypatch.setattr(imports, "_check", watched)
    before = sys.getswitchinterval()
    job = load(operator_a, csv_bytes([row(1), row(2)]))
    assert job.state == ImportState.DONE
    assert seen == [imports.HANDOFF_SECONDS]
    assert before > imports.HANDOFF_SECONDS
    assert sys.getswitchinterval() == before


def test_bad_lines_are_reported_with_line_and_column_and_good_ones_kept(operator_a):
    rows = [
        row(1),
        row(2, cpf="111.111.111-11"),
        row(3, nascimento="31/02/1990", sexo="X"),
        row(4),
        row(5, carteirinha="C00001"),
    ]
    job = load(operator_a, csv_bytes(rows))

    assert (job.created, job.invalid, job.lines_done) == (2, 3, 5)
    problems = list(ImportProblem.objects.filter(job=job).values_list("line", "column"))
    assert problems == [
        (3, "cpf"),
        (4, "nascimento"),
        (4, "sexo"),
        (6, "carteirinha"),
    ]
    lines = list(
        csv.reader(io.StringIO("".join(problems_csv(job)).lstrip("\ufeff")), delimiter=";")
    )
    assert lines[0] == ["linha", "coluna", "motivo"]
    assert lines[1][:2] == ["3", "cpf"] and "CPF" in lines[1][2]
    assert set(Beneficiary.objects.values_list("card", flat=True)) == {"C00001", "C00004"}


def test_the_same_file_twice_changes_nothing(operator_a):
    content = csv_bytes([row(n) for n in range(1, 6)])
    load(operator_a, content)
    before = list(Beneficiary.objects.order_by("pk").values())
    changes = Change.objects.count()

    again = load(operator_a, content)

    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert list(Beneficiary.objects.order_by("pk").values()) == before
    assert Change.objects.count() == changes


def test_a_changed_line_is_audited_field_by_field(operator_a):
    load(operator_a, csv_bytes([row(1), row(2)]))
    job = load(
        operator_a,
        csv_bytes(
            [
                row(1),
                row(
                    2,
                    nome="Outra Pessoa",
                    telefones="11 3333-4444 | (21) 99876-5432",
                    numero="20",
                    situacao="",
                ),
            ]
        ),
    )

    assert (job.updated, job.unchanged) == (1, 1)
    change = Change.objects.get(job=job)
    assert change.kind == ChangeKind.UPDATED
    assert change.fields == {
        "name": ["Beneficiária Número 2", "Outra Pessoa"],
        "phones": [["+5511987654321"], ["+551133334444", "+5521998765432"]],
        "addresses": [
            [_address("2")],
            [_address("20")],
        ],
    }
    changed = Beneficiary.objects.get(card="C00002")
    assert changed.name_key == "outra pessoa"
    # The card's contacts and address are the new ones, the first of each kind the main one.
    assert sorted(changed.contacts.values_list("kind", "value", "is_main")) == [
        ("email", "pessoa2@example.com", True),
        ("phone", "+551133334444", True),
        ("phone", "+5521998765432", False),
    ]
    assert list(changed.addresses.values_list("number", "is_main")) == [("20", True)]
    assert Contact.objects.filter(beneficiary__card="C00001").count() == 2


def _address(number: str) -> dict:
    return {
        "street": "Rua das Flores",
        "number": number,
        "complement": "",
        "district": "",
        "city": "São Paulo",
        "state": "SP",
        "postal_code": "",
    }


def test_latin1_with_commas_is_read(operator_a):
    content = csv_bytes([row(1, nome="Conceição Araújo")], delimiter=",", encoding="latin-1")
    job = load(operator_a, content)

    assert job.created == 1
    assert Beneficiary.objects.get().name == "Conceição Araújo"


def test_a_file_with_an_unknown_or_missing_column_is_refused_whole(operator_a):
    unknown = load(operator_a, csv_bytes([{**row(1), "apelido": "x"}]))
    missing = load(operator_a, csv_bytes([{"carteirinha": "C1", "nome": "Ana"}]))

    assert unknown.state == ImportState.FAILED and "apelido" in unknown.error
    assert missing.state == ImportState.FAILED and "cpf" in missing.error
    assert not Beneficiary.objects.exists()


def test_a_line_with_the_wrong_number_of_columns_is_refused(operator_a):
    content = csv_bytes([row(1)]) + b"C9;123\n"
    job = load(operator_a, content)

    assert (job.created, job.invalid) == (1, 1)
    assert ImportProblem.objects.get(job=job).line == 3


class Killed(BaseException):
    """A worker killed between two batches: nothing of it runs afterwards."""


def test_an_import_whose_worker_died_is_resumed_without_duplicating_anyone(operator_a, monkeypatch):
    monkeypatch.setattr(imports, "BATCH_MAX", 3)
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "killed.csv"
    path.write_bytes(csv_bytes([row(n) for n in range(1, 11)] + [row(11, cpf="1")]))
    job = import_queue(operator=operator_a, user=None, path=path, file_name="k.csv")
    batches = []

    def dies_after_two(job):
        batches.append(job.lines_done)
        if len(batches) == 2:
            raise Killed

    with pytest.raises(Killed):
        import_run(job_id=job.pk, progress=dies_after_two)
    job.refresh_from_db()
    assert (job.state, job.lines_done, job.created) == (ImportState.RUNNING, 6, 6)
    # Another worker cannot take it while the lease holds…
    assert import_run(job_id=job.pk) is False
    assert imports_drive() == {"failed": 0, "requeued": 0}

    # …and the scheduler queues it again once the lease ran out.
    Import.objects.filter(pk=job.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    assert imports_drive()["requeued"] == 1
    assert import_run(job_id=job.pk) is True

    job.refresh_from_db()
    assert (job.state, job.attempts, job.lines_done) == (ImportState.DONE, 2, 11)
    assert (job.created, job.unchanged, job.invalid) == (10, 0, 1)
    assert Beneficiary.objects.count() == 10
    assert Change.objects.filter(kind=ChangeKind.CREATED).count() == 10
    assert ImportProblem.objects.get(job=job).line == 12


def test_an_import_interrupted_too_often_fails(operator_a, settings):
    settings.IMPORT_MAX_ATTEMPTS = 1
    job = Import.objects.create(
        operator=operator_a,
        file_name="x.csv",
        stored_name="x.csv",
        size=10,
        state=ImportState.RUNNING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
        created_at=timezone.now(),
    )

    assert imports_drive()["failed"] == 1
    job.refresh_from_db()
    assert job.state == ImportState.FAILED and "1" in job.error


def test_the_command_loads_a_file_and_reports(operator_a, tmp_path, capsys):
    source = tmp_path / "lista.csv"
    source.write_bytes(csv_bytes([row(1), row(2, cpf="123")]))

    call_command("beneficiaries", "import", str(source), "--operator", str(operator_a.pk))

    out = capsys.readouterr()
    assert "1 created" in out.out and "1 refused" in out.out
    assert "100%" in out.err
    assert Beneficiary.objects.filter(operator=operator_a).count() == 1


def test_the_command_refuses_an_unknown_operator_or_file(operator_a, tmp_path):
    with pytest.raises(CommandError, match="operator"):
        call_command("beneficiaries", "import", str(tmp_path / "x.csv"), "--operator", "999999")
    with pytest.raises(CommandError, match="No file"):
        call_command(
            "beneficiaries", "import", str(tmp_path / "x.csv"), "--operator", str(operator_a.pk)
        )


def test_a_spreadsheets_export_is_read_bom_crlf_quotes_and_capitals(operator_a):
    content = (
        "\ufeffCarteirinha;CPF;Nome;Logradouro\r\n"
        f'C1;{CPFS[1]};"Silva; Souza, Ana";"Rua A, 10\r\nfundos"\r\n'
        "\r\n"
        f"C2;{CPFS[2]};Bruno;\r\n"
    ).encode()

    job = load(operator_a, content)

    assert (job.state, job.created, job.invalid, job.lines_done) == (ImportState.DONE, 2, 0, 2)
    ana = Beneficiary.objects.get(card="C1")
    assert ana.name == "Silva; Souza, Ana"
    assert ana.addresses.get().street == "Rua A, 10\r\nfundos"
    assert not Beneficiary.objects.get(card="C2").addresses.exists()


def test_a_file_with_only_its_header_loads_nothing_and_finishes(operator_a):
    job = load(operator_a, b"carteirinha;cpf;nome\n")

    assert (job.state, job.lines_done, job.created) == (ImportState.DONE, 0, 0)
