from datetime import timedelta

from django.tasks import task

from atende.beneficiaries.imports import import_run, imports_drive
from atende.core.scheduler import periodic


@task()
def import_run_task(*, job_id: int) -> None:
    import_run(job_id=job_id)


@periodic(every=timedelta(seconds=15), name="beneficiaries.imports")
def drive_imports() -> None:
    imports_drive()
