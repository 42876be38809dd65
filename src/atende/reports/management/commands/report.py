"""``atende report``: the occurrence report file, written now, for automation. The same
parameters and the same writer as the reports page; the file appears only when complete."""

import os
import sys
import tempfile
from datetime import date, datetime
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from atende.reports.params import (
    STATE_SLUGS,
    AttendantMovement,
    ModeFilter,
    Movement,
    report_params_clean,
)
from atende.reports.writer import report_write
from atende.tenancy.models import Application

# The service's fields, as this command's options name them.
OPTION_NAMES = {
    "start": "--start",
    "end": "--end",
    "movement": "--movement",
    "attendant": "--attendant",
    "attendant_movement": "--attendant-movement",
    "states": "--state",
    "types": "--type",
    "subjects": "--subject",
    "mode": "--mode",
}


def _day(text: str) -> date:
    try:
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise CommandError(f"Data inválida: {text!r} (use DD/MM/AAAA).") from None


def _ids(text: str | None, what: str) -> list[int]:
    if not text:
        return []
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise CommandError(f"{what}: informe números separados por vírgula.") from None


def _states(text: str | None) -> list[int]:
    if not text:
        return []
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [n for n in names if n not in STATE_SLUGS]
    if unknown:
        raise CommandError(
            f"Estado desconhecido: {', '.join(unknown)} (use {', '.join(STATE_SLUGS)})."
        )
    return [STATE_SLUGS[n] for n in names]


class Command(BaseCommand):
    help = "Writes the occurrence report file (seed 000 layout) synchronously."
    # An export for automation: the system checks (half a second) are for the servers.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--application", type=int, required=True)
        parser.add_argument("--start", required=True, help="DD/MM/AAAA")
        parser.add_argument("--end", required=True, help="DD/MM/AAAA")
        parser.add_argument("--movement", choices=Movement.values, default=Movement.ALL)
        parser.add_argument("--include-open-before", action="store_true")
        parser.add_argument("--attendant", type=int)
        parser.add_argument(
            "--attendant-movement", choices=AttendantMovement.values, default=AttendantMovement.ALL
        )
        parser.add_argument("--state", help="novo,aberto,em-atendimento,encerrado")
        parser.add_argument("--type", help="occurrence type ids, comma separated")
        parser.add_argument("--subject", help="subject ids, comma separated")
        parser.add_argument("--mode", choices=ModeFilter.values, default=ModeFilter.ALL)
        parser.add_argument("--output", required=True, help="a file, or - for stdout")

    def handle(self, *args: object, **options: object) -> None:
        application = (
            Application.objects.select_related("operator").filter(pk=options["application"]).first()
        )
        if application is None:
            raise CommandError(f"Aplicação {options['application']} não encontrada.")
        try:
            params = report_params_clean(
                operator=application.operator,
                application_id=application.pk,
                start=_day(options["start"]),
                end=_day(options["end"]),
                movement=options["movement"],
                include_open_before=options["include_open_before"],
                attendant_id=options["attendant"],
                attendant_movement=options["attendant_movement"],
                states=_states(options["state"]),
                type_ids=_ids(options["type"], "--type"),
                subject_ids=_ids(options["subject"], "--subject"),
                mode=options["mode"],
            )
        except ValidationError as error:
            raise CommandError(
                " ".join(
                    f"{OPTION_NAMES.get(field, '--application')}: {' '.join(messages)}"
                    for field, messages in error.message_dict.items()
                )
            ) from None
        output = options["output"]
        if output == "-":
            with open(sys.stdout.fileno(), "wb", closefd=False) as out:
                report_write(params, out)
            return
        target = Path(output)
        if not target.parent.is_dir():
            raise CommandError(f"A pasta de {output} não existe.")
        fd, part = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        try:
            with open(fd, "wb") as out:
                lines = report_write(params, out)
            os.replace(part, target)
        except BaseException:
            Path(part).unlink(missing_ok=True)
            raise
        self.stderr.write(f"{lines} linhas gravadas em {target}.")
