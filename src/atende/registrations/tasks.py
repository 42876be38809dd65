from datetime import timedelta

from atende.core.scheduler import periodic
from atende.registrations.services import modem_inboxes_read


@periodic(every=timedelta(minutes=1), name="registrations.modem_inbox")
def read_modem_inboxes() -> None:
    """Citizens' SMS to the operators' GSM modems become reports in the intake queue."""
    modem_inboxes_read()
