"""The registry from the terminal.

``atende beneficiaries import FILE --operator ID`` loads a file of beneficiaries with a
progress bar. The file is copied to the imports folder first, so a command that dies is
taken over and finished by the worker.

``atende beneficiaries anonymise --operator ID --cpf CPF --by EMAIL`` replaces a person's
personal data by placeholders (LGPD), recorded as done by that supervisor."""

import shutil
import sys
import time
import uuid
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from atende.accounts.models import User
from atende.beneficiaries.imports import import_queue, import_run, imports_folder
from atende.beneficiaries.models import Import, ImportState
from atende.beneficiaries.services import person_anonymise
from atende.tenancy.models import Operator
from atende.tenancy.validators import cpf_parse


class Command(BaseCommand):
    help = "The beneficiary registry: import FILE --operator ID loads a file of beneficiaries."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="command", required=True)
        load = commands.add_parser("import", help="Load a CSV file of beneficiaries.")
        load.add_argument("file", type=Path)
        load.add_argument("--operator", type=int, required=True)
        load.add_argument("--quiet", action="store_true", help="No progress bar.")
        forget = commands.add_parser("anonymise", help="Anonymise a person (LGPD).")
        forget.add_argument("--operator", type=int, required=True)
        forget.add_argument("--cpf", required=True)
        forget.add_argument("--by", required=True, help="The e-mail of the operator's supervisor.")

    def handle(self, *args: object, **options: object) -> None:
        operator = Operator.objects.filter(pk=options["operator"]).first()
        if operator is None:
            raise CommandError(f"No operator with id {options['operator']}.")
        if options["command"] == "anonymise":
            self.anonymise(operator, options["cpf"], options["by"])
            return
        source: Path = options["file"]
        if not source.is_file():
            raise CommandError(f"No file at {source}.")
        folder = imports_folder()
        folder.mkdir(parents=True, exist_ok=True)
        stored = folder / f"{uuid.uuid4().hex}.csv"
        shutil.copyfile(source, stored)
        job = import_queue(
            operator=operator, user=None, path=stored, file_name=source.name, enqueue=False
        )
        started = time.monotonic()
        bar = None if options["quiet"] else _Bar(sys.stderr, started)
        import_run(job_id=job.pk, progress=bar)
        job = Import.objects.get(pk=job.pk)
        if bar is not None:
            sys.stderr.write("\n")
        if job.state != ImportState.DONE:
            raise CommandError(job.error or f"The import did not finish ({job.state}).")
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Import {job.pk}: {job.lines_done} lines in {elapsed:.1f} s "
            f"({job.lines_done / max(elapsed, 1e-6):,.0f}/s): {job.created} created, "
            f"{job.updated} changed, {job.unchanged} unchanged, {job.invalid} refused."
        )
        if job.invalid:
            self.stdout.write(f"The refused lines are listed on the import page ({job.pk}).")

    def anonymise(self, operator: Operator, cpf: str, email: str) -> None:
        supervisor = User.objects.filter(email__iexact=email, is_active=True).first()
        if supervisor is None:
            raise CommandError(f"No active user with the e-mail {email}.")
        digits = cpf_parse(cpf)
        if digits is None:
            raise CommandError("Invalid CPF: check the 11 digits.")
        try:
            with transaction.atomic():
                counts = person_anonymise(operator=operator, cpf=digits, user=supervisor)
        except ValidationError as refused:
            raise CommandError(" ".join(refused.messages)) from None
        self.stdout.write(
            "Anonymised: {cards} cards, {occurrences} occurrences, {deliveries} messages, "
            "{logins} portal logins, {devices} devices.".format(**counts)
        )


class _Bar:
    def __init__(self, out: object, started: float) -> None:
        self.out = out
        self.started = started

    def __call__(self, job: Import) -> None:
        percent = job.progress_percent
        filled = percent * 30 // 100
        rate = job.lines_done / max(time.monotonic() - self.started, 1e-6)
        self.out.write(
            f"\r[{'#' * filled}{' ' * (30 - filled)}] {percent:3d}%  {job.lines_done:,} lines"
            f"  {rate:,.0f}/s  {job.invalid:,} refused"
        )
        self.out.flush()
