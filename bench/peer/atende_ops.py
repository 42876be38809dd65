"""Atende-side database work for the side-by-side driver (never timed as HTTP).

Run with Atende's own venv python (sbs.py does it), with ATENDE_DATABASE_URL and
ATENDE_DATA_DIR set. Every sub-command prints one JSON object on its last stdout line.

  setup              migrate, collectstatic, the synthetic operator of ``atende synth``
                     (made once through the services), a supervisor bound to no unit
                     (sees every unit, like the peer's superuser) with a password, the
                     report period limit raised for an all-history report; prints ids
  reset              TRUNCATE the occurrence tables (CASCADE), VACUUM ANALYZE, CHECKPOINT
  vacuum             VACUUM ANALYZE, CHECKPOINT
  checkpoint         CHECKPOINT
  verify STATUS FILE how many protocols listed in FILE are now in status STATUS
  count UNIT STATE   occurrences in all, and matching unit + state (panel/API filter)
  copy               PostgreSQL alone: the report's own COPY statement (all history,
                     default filters, as ``atende report`` runs it), rows discarded
"""
import json
import os
import sys
import time
from datetime import date
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")

SUPERVISOR_EMAIL = "sbs-supervisor@synth.atende"
SUPERVISOR_PASSWORD = "Sbs-bench-2026!"  # throwaway, loopback-only cluster
REPORT_START, REPORT_END = date(2020, 1, 1), date(2030, 12, 31)


def out(obj):
    print(json.dumps(obj, default=str), flush=True)


def sql(*statements):
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def setup():
    from django.core.management import call_command
    from django.db import transaction

    call_command("migrate", verbosity=0, interactive=False)
    call_command("collectstatic", verbosity=0, interactive=False)
    from atende.accounts.models import User
    from atende.accounts.services import user_create
    from atende.catalog.presets import REIMBURSEMENT
    from atende.synth.occurrences import synth_target
    from atende.tenancy.models import Role
    from atende.tenancy.services import membership_grant

    operator, application = synth_target(seed=1)
    with transaction.atomic():
        if not User.objects.filter(email=SUPERVISOR_EMAIL).exists():
            user = user_create(email=SUPERVISOR_EMAIL, full_name="Supervisor SBS", password=SUPERVISOR_PASSWORD)
            membership_grant(user=user, operator=operator, role=Role.SUPERVISOR, units=[])
    operator.report_max_days = 5000  # one report over the whole synthetic history
    operator.save(update_fields=["report_max_days"])
    kind = operator.occurrence_types.get(name=REIMBURSEMENT)
    out({
        "operator_id": operator.pk,
        "application_id": application.pk,
        "occurrence_type_id": kind.pk,
        "subject_id": kind.subjects.order_by("pk").first().pk,
        # The status change of phase b: the first status after "Protocolado" (not closing).
        "status_id": kind.statuses.get(internal_description="Em análise").pk,
        "units": list(operator.units.order_by("pk").values_list("pk", flat=True)),
        "supervisor": [SUPERVISOR_EMAIL, SUPERVISOR_PASSWORD],
        "status_actions": kind.statuses.filter(actions__is_active=True).count(),
    })


def reset():
    began = time.perf_counter()
    # The event log refuses TRUNCATE (its trigger); this throwaway cluster's superuser
    # empties it with triggers off for this one session.
    sql(
        "SET session_replication_role = replica",
        "TRUNCATE occurrences_occurrence, occurrences_event CASCADE",
        "SET session_replication_role = DEFAULT",
    )
    sql("VACUUM ANALYZE", "CHECKPOINT")
    out({"reset_s": round(time.perf_counter() - began, 1)})


def vacuum():
    began = time.perf_counter()
    sql("VACUUM ANALYZE")
    vacuum_s = time.perf_counter() - began
    sql("CHECKPOINT")
    out({"vacuum_analyze_s": round(vacuum_s, 1)})


def verify(status_id, path):
    from atende.occurrences.models import Occurrence

    protocols = [line.strip() for line in Path(path).read_text().split() if line.strip()]
    n = Occurrence.objects.filter(protocol__in=protocols, status_id=int(status_id)).count()
    out({"listed": len(protocols), "in_status": n})


def count(unit, state):
    from atende.occurrences.models import Occurrence

    out({
        "total": Occurrence.objects.count(),
        "matching": Occurrence.objects.filter(unit_id=int(unit), state=int(state), mode=2).count(),
    })


def copy():
    from django.db import connection, transaction

    from atende.synth.occurrences import synth_target
    from atende.reports.params import ReportParams
    from atende.reports.writer import report_copy, report_statement
    from copyrate import drain

    operator, application = synth_target(seed=1)
    params = ReportParams(
        operator_id=operator.pk, application_id=application.pk, start=REPORT_START, end=REPORT_END
    )
    began = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        statement, values = report_statement(params, application=application, connection=connection)
        with report_copy(cursor, statement, values) as stream:
            lines, size = drain(stream, binary=True)
    out({"lines": lines, "bytes": size, "seconds": round(time.perf_counter() - began, 2)})


def main():
    import django

    django.setup()
    command, args = sys.argv[1], sys.argv[2:]
    {"setup": setup, "reset": reset, "vacuum": vacuum, "checkpoint": lambda: sql("CHECKPOINT"),
     "verify": verify, "count": count, "copy": copy}[command](*args)


if __name__ == "__main__":
    main()
