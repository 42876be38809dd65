from datetime import timedelta

from django.tasks import task

from atende.core.scheduler import periodic
from atende.registrations.services import (
    batch_closing_run,
    batch_closings_drive,
    modem_inboxes_read,
)


@periodic(every=timedelta(minutes=1), name="registrations.modem_inbox")
def read_modem_inboxes() -> None:
    """Citizens' SMS to the operators' GSM modems become reports in the intake queue."""
    modem_inboxes_read()


@task()
def batch_closing_task(*, batch_id: int) -> None:
    batch_closing_run(batch_id=batch_id)


@periodic(every=timedelta(seconds=30), name="registrations.batch_closings")
def drive_batch_closings() -> None:
    """Batch closings a dead worker left are queued again."""
    batch_closings_drive()
