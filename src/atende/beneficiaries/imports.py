"""Loading a file of beneficiaries (the layout is in ``docs/beneficiary-import.md``).

A request stores the file and queues an ``Import`` row. A worker claims it with a
conditional UPDATE (an attempt and a lease), reads the file a line at a time and, for each
batch, writes the valid cards, the refused lines and the line reached in one transaction
that also renews the lease; a thread reads and checks the next batch meanwhile. A worker
that dies leaves a lease that runs out; the scheduler's ``imports_drive`` queues the import
again and the next attempt skips the lines already committed. Upserting by card makes a
file loaded twice change nothing.
"""

import codecs
import csv
import io
import logging
import queue
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from atende.beneficiaries.models import Beneficiary, Contact, Import, ImportProblem, ImportState
from atende.beneficiaries.records import Problems, record_clean
from atende.beneficiaries.services import BATCH_MAX, Source, beneficiaries_upsert
from atende.core.db import statistics_refresh
from atende.core.leases import lease_claim, stale_redrive
from atende.tenancy.models import Operator, Role

logger = logging.getLogger(__name__)

# File column → record field. Address columns make the card's main address.
COLUMNS = {
    "carteirinha": "card",
    "cpf": "cpf",
    "nome": "name",
    "nome_social": "social_name",
    "cns": "cns",
    "nascimento": "birth_date",
    "sexo": "sex",
    "nome_mae": "mother_name",
    "titular": "holder_card",
    "produto": "product_code",
    "produto_nome": "product_name",
    "produto_registro_ans": "product_registration",
    "segmentacao": "segmentation",
    "contrato": "contract_number",
    "tipo_contrato": "contract_kind",
    "empresa": "company",
    "inicio_contrato": "contract_start",
    "validade_carteirinha": "card_valid_until",
    "situacao": "situation",
    "data_situacao": "situation_date",
    "motivo_situacao": "situation_reason",
    "telefones": "phones",
    "emails": "emails",
}
ADDRESS_COLUMNS = {
    "cep": "postal_code",
    "logradouro": "street",
    "numero": "number",
    "complemento": "complement",
    "bairro": "district",
    "municipio": "city",
    "uf": "state",
}
REQUIRED = ("carteirinha", "cpf", "nome")
FIELD_COLUMNS = {field: column for column, field in COLUMNS.items()} | {
    f"addresses.{field}": column for column, field in ADDRESS_COLUMNS.items()
}
FIELD_COLUMNS["addresses"] = "logradouro"
# Refused lines kept per import (each with its reasons); the count goes on past it.
PROBLEMS_KEPT = 100_000
_SNIFF = 1024 * 1024
# How long the checking thread may keep the interpreter while the writer, back from the
# database, waits for it (Python's default is 5 ms; docs/decisions.md, "Import speed").
HANDOFF_SECONDS = 0.001


class FileRefused(Exception):
    """The file as a whole cannot be read as beneficiaries (its header, its format)."""


class _LeaseLost(Exception):
    pass


def imports_folder() -> Path:
    return Path(settings.IMPORTS_ROOT)


def import_request(*, user: object, operator: Operator, upload: UploadedFile) -> Import:
    """Keep the uploaded file and queue its import; the worker takes it after the commit."""
    if (
        not Operator.objects.for_user(user, roles={Role.CONFIGURATOR})
        .filter(pk=operator.pk)
        .exists()
    ):
        raise ValidationError(_("Only the operator's configurators import beneficiaries."))
    if not upload.size:
        raise ValidationError({"file": _("The file is empty.")})
    folder = imports_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stored = f"{uuid.uuid4().hex}.csv"
    with (folder / stored).open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return import_queue(
        operator=operator, user=user, path=folder / stored, file_name=upload.name or stored
    )


def import_queue(
    *, operator: Operator, user: object, path: Path, file_name: str, enqueue: bool = True
) -> Import:
    """Queue the import of a file already in the imports folder (``enqueue=False``: the
    caller runs it; the scheduler still takes it over if that caller dies)."""
    now = timezone.now()
    job = Import.objects.create(
        operator=operator,
        requested_by=user,
        file_name=Path(file_name).name[:200],
        stored_name=path.name,
        size=path.stat().st_size,
        created_at=now,
        enqueued_at=now,
    )
    if enqueue:
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int) -> None:
    from atende.beneficiaries.tasks import import_run_task

    import_run_task.enqueue(job_id=job_id)


def import_run(*, job_id: int, progress: Callable[[Import], None] | None = None) -> bool:
    """Claim the import and load its file from the line the last attempt reached; True
    when this call finished it."""
    now = timezone.now()
    lease = timedelta(seconds=settings.IMPORT_LEASE_SECONDS)
    claimed = lease_claim(
        Import, job_id, now=now, lease=lease, max_attempts=settings.IMPORT_MAX_ATTEMPTS
    )
    if not claimed:
        return False
    job = Import.objects.select_related("operator").get(pk=job_id)
    mine = Import.objects.filter(pk=job_id, state=ImportState.RUNNING, attempts=job.attempts)
    try:
        with (imports_folder() / job.stored_name).open("rb") as raw:
            _load(job, mine, raw, lease, progress)
        mine.update(
            state=ImportState.DONE,
            bytes_done=job.size,
            finished_at=timezone.now(),
            lease_until=None,
        )
    except _LeaseLost:
        return False
    except FileRefused as refused:
        mine.update(
            state=ImportState.FAILED,
            error=str(refused),
            finished_at=timezone.now(),
            lease_until=None,
        )
        return False
    except Exception:
        logger.exception("Import %s failed", job_id)
        mine.update(
            state=ImportState.FAILED,
            error=_("The import stopped on an internal error (reference %(id)s).") % {"id": job_id},
            finished_at=timezone.now(),
            lease_until=None,
        )
        return False
    (imports_folder() / job.stored_name).unlink(missing_ok=True)
    statistics_refresh(Beneficiary._meta.db_table, Contact._meta.db_table)
    if progress is not None:
        job.refresh_from_db()
        progress(job)
    return True


def _load(job: Import, mine: object, raw: io.BufferedReader, lease: timedelta, progress) -> None:
    rows = _rows(raw)
    try:
        _batches(job, mine, rows, raw, lease, progress)
    finally:
        # Closed here, while the file is open: it lets go of the file without closing it.
        rows.close()


def _batches(job, mine, rows, raw, lease, progress) -> None:
    source = Source(job=job)
    products: dict = {}
    kept = ImportProblem.objects.filter(job=job).count()
    with closing(_checked_ahead(rows, raw, skip=job.lines_done)) as batches:
        for checked in batches:
            kept = _commit(job, mine, checked, lease, source, products, kept)
            if progress is not None:
                progress(job)


@contextmanager
def _quick_handoffs() -> Iterator[None]:
    """The interpreter handed between threads every ``HANDOFF_SECONDS`` while the checking
    thread runs.

    The writer waits for the database several times a batch (lookups, each table's COPY,
    the commit) and the checking thread takes the interpreter meanwhile; at Python's 5 ms
    the writer then waits up to that long each time to get it back. The setting belongs
    to the process, which runs one import at a time; it is put back afterwards."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(HANDOFF_SECONDS)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


@dataclass
class _Checked:
    """A batch of lines as checked: the valid records, the refused lines' problems, and
    how far into the file it ends."""

    lines: int
    position: int
    records: list
    problems: list[tuple[int, str, str]]
    invalid: int


_END = object()


def _checked_ahead(rows: Iterator, raw: io.BufferedReader, *, skip: int) -> Iterator[_Checked]:
    """The file's batches, read and checked by a thread one batch ahead of the writes:
    checking a batch (Python) runs while the database writes and commits the one before,
    instead of after it. The lines an earlier attempt committed are skipped."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()
    language = translation.get_language()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def produce() -> None:
        translation.activate(language)
        try:
            batch: list[tuple[int, dict | str]] = []
            skipping = skip
            for item in rows:
                if skipping:
                    skipping -= 1
                    continue
                batch.append(item)
                if len(batch) == BATCH_MAX:
                    if not put(_check(batch, raw.tell())):
                        return
                    batch = []
            if batch and not put(_check(batch, raw.tell())):
                return
            put(_END)
        except BaseException as error:  # handed to the writer, which raises it
            put(error)

    thread = threading.Thread(target=produce, name="import-check", daemon=True)
    with _quick_handoffs():
        thread.start()
        try:
            while True:
                item = ready.get()
                if item is _END:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            # The reader ends before the caller closes the file's rows under it.
            stop.set()
            thread.join()


def _check(batch: list[tuple[int, dict | str]], position: int) -> _Checked:
    records, problems, seen = [], [], {}
    invalid = 0
    for line, values in batch:
        found = []
        if isinstance(values, str):
            found = [("", values)]
        else:
            try:
                record = record_clean(values)
            except Problems as refused:
                found = [(FIELD_COLUMNS.get(f, f), reason) for f, reason in refused.problems]
            else:
                if record.card in seen:
                    found = [
                        (
                            "carteirinha",
                            _("Card repeated from line %(line)d; this line was ignored.")
                            % {"line": seen[record.card]},
                        )
                    ]
                else:
                    seen[record.card] = line
                    records.append(record)
        if found:
            invalid += 1
            problems += [(line, column, reason) for column, reason in found]
    return _Checked(len(batch), position, records, problems, invalid)


def _commit(job, mine, checked: _Checked, lease, source, products, kept) -> int:
    problems = checked.problems
    room = max(0, PROBLEMS_KEPT - kept)
    position = min(checked.position, job.size)
    with transaction.atomic():
        counts = beneficiaries_upsert(
            operator=job.operator, records=checked.records, source=source, products=products
        )
        ImportProblem.objects.bulk_create(
            ImportProblem(job=job, line=line, column=column, reason=reason[:300])
            for line, column, reason in problems[:room]
        )
        done = mine.update(
            lines_done=F("lines_done") + checked.lines,
            bytes_done=position,
            created=F("created") + counts.created,
            updated=F("updated") + counts.updated,
            unchanged=F("unchanged") + counts.unchanged,
            invalid=F("invalid") + checked.invalid,
            lease_until=timezone.now() + lease,
        )
        if not done:
            raise _LeaseLost
    job.lines_done += checked.lines
    job.bytes_done = position
    job.created += counts.created
    job.updated += counts.updated
    job.unchanged += counts.unchanged
    job.invalid += checked.invalid
    return kept + min(room, len(problems))


def _rows(raw: io.BufferedReader) -> Iterator[tuple[int, dict | str]]:
    """(line number, field → value) for each data line, or (line, reason) for a line that
    cannot be read. Lines are numbered as a spreadsheet shows them: the header is line 1."""
    encoding = _encoding(raw.read(_SNIFF))
    raw.seek(0)
    text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
    try:
        yield from _lines(text)
    finally:
        # The wrapper must not close the file when it goes: the caller still reads its
        # position.
        text.detach()


def _lines(text: io.TextIOWrapper) -> Iterator[tuple[int, dict | str]]:
    first = text.readline()
    if not first.strip():
        raise FileRefused(_("The file is empty: its first line must name the columns."))
    delimiter = ";" if first.count(";") >= first.count(",") else ","
    header = [name.strip().lower() for name in next(csv.reader([first], delimiter=delimiter))]
    _header_check(header)
    reader = csv.reader(text, delimiter=delimiter)
    base = 1
    for values in reader:
        line = base + reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            yield (
                line,
                _("Expected %(n)d columns, found %(m)d.")
                % {
                    "n": len(header),
                    "m": len(values),
                },
            )
            continue
        if any("\ufffd" in v for v in values):
            yield line, _("Characters that are neither UTF-8 nor Latin-1.")
            continue
        yield line, row_fields(dict(zip(header, values, strict=True)))


def row_fields(row: dict[str, str]) -> dict:
    """A file's row (column → value) as the record's fields: the address columns make
    the card's one address when any of them has a value."""
    data = {COLUMNS[name]: value for name, value in row.items() if name in COLUMNS}
    address = {
        ADDRESS_COLUMNS[name]: value
        for name, value in row.items()
        if name in ADDRESS_COLUMNS and value.strip()
    }
    if address:
        data["addresses"] = [address]
    return data


def _encoding(head: bytes) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return "latin-1"
    return "utf-8"


def _header_check(header: list[str]) -> None:
    known = COLUMNS.keys() | ADDRESS_COLUMNS.keys()
    unknown = [name for name in header if name not in known]
    if unknown:
        raise FileRefused(
            _("Unknown columns: %(names)s. The layout is in the import documentation.")
            % {"names": ", ".join(unknown[:10])}
        )
    repeated = sorted({name for name in header if header.count(name) > 1})
    if repeated:
        raise FileRefused(_("Repeated columns: %(names)s.") % {"names": ", ".join(repeated)})
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        raise FileRefused(
            _("The file lacks the required columns: %(names)s.") % {"names": ", ".join(missing)}
        )


def imports_drive(*, now=None) -> dict[str, int]:
    """The scheduler's pass: queue again what a dead worker left or a lost task never
    started; fail what was interrupted too often."""
    failed, again = stale_redrive(
        Import,
        now=now or timezone.now(),
        max_attempts=settings.IMPORT_MAX_ATTEMPTS,
        exhausted_error=_("The import was interrupted %(n)d times; send the file again.")
        % {"n": settings.IMPORT_MAX_ATTEMPTS},
        enqueue=_enqueue,
    )
    return {"failed": failed, "requeued": again}


def problems_csv(job: Import) -> Iterator[str]:
    """The refused lines as a CSV file (line; column; reason), a line at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    writer.writerow(["linha", "coluna", "motivo"])
    yield "\ufeff" + buffer.getvalue()
    for problem in ImportProblem.objects.filter(job=job).order_by("line", "id").iterator():
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([problem.line, problem.column, problem.reason])
        yield buffer.getvalue()
