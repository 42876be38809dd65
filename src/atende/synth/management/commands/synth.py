"""``atende synth --occurrences N --seed S``: bulk synthetic occurrences with their full
event histories, for benchmarks. Never run against a production database."""

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from atende.synth.occurrences import Synthesizer, synth_target
from atende.tenancy.models import Operator


class Command(BaseCommand):
    help = "Writes N synthetic occurrences with their events, in bulk."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--occurrences", type=int, required=True)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--days", type=int, default=365, help="Spread over the last N days.")
        parser.add_argument(
            "--skip-fk-checks",
            action="store_true",
            help="PostgreSQL superuser only: skip per-row foreign-key triggers while copying.",
        )
        parser.add_argument(
            "--operator",
            type=int,
            help="Fill this operator (it needs a catalog, units and attendants); "
            "default: the synthetic operator, created on first use.",
        )

    def handle(self, *args: object, **options: object) -> None:
        count = options["occurrences"]
        if count < 1:
            raise CommandError("--occurrences must be at least 1.")
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        if options["operator"]:
            operator = Operator.objects.filter(pk=options["operator"]).first()
            if operator is None:
                raise CommandError("No operator with this id.")
            application = operator.applications.filter(is_active=True).order_by("-instance").first()
        else:
            operator, application = synth_target(seed=options["seed"])
        synthesizer = Synthesizer(
            operator=operator,
            application=application,
            seed=options["seed"],
            skip_checks=options["skip_fk_checks"],
        )
        if not synthesizer.kinds or not synthesizer.people:
            raise CommandError("The operator needs active occurrence types and attendants.")
        started = time.perf_counter()
        synthesizer.run(count, days=options["days"])
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"{count} occurrences for {operator.name} in {elapsed:.1f} s ({count / elapsed:,.0f}/s)"
        )
