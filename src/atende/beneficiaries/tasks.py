from datetime import timedelta

from django.tasks import task

from atende.beneficiaries.imports import import_run, imports_drive
from atende.beneficiaries.models import Beneficiary, Contact
from atende.core.db import statistics_refresh
from atende.core.scheduler import periodic


@task()
def import_run_task(*, job_id: int) -> None:
    import_run(job_id=job_id)


@periodic(every=timedelta(seconds=15), name="beneficiaries.imports")
def drive_imports() -> None:
    imports_drive()


@periodic(every=timedelta(hours=6), name="beneficiaries.statistics")
def refresh_statistics() -> None:
    """On SQLite, the planner's statistics of the registry, which the ERP's API keeps
    changing (an import refreshes them when it ends; PostgreSQL's autovacuum does this)."""
    statistics_refresh(Beneficiary._meta.db_table, Contact._meta.db_table)
