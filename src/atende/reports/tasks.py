from datetime import timedelta

from django.tasks import task

from atende.core.scheduler import periodic
from atende.reports.services import report_generate, reports_drive, reports_sweep


@task()
def report_generate_task(*, report_id: int) -> None:
    report_generate(report_id=report_id)


@periodic(every=timedelta(seconds=15), name="reports.drive")
def drive_reports() -> None:
    reports_drive()


@periodic(every=timedelta(hours=6), name="reports.sweep")
def sweep_reports() -> None:
    reports_sweep()
