from datetime import timedelta

from atende.core.scheduler import periodic
from atende.occurrences.services import creation_keys_forget, sla_breaches_mark


@periodic(every=timedelta(seconds=30), name="occurrences.mark_sla_breaches")
def mark_sla_breaches() -> None:
    # One batch per run: the scheduler runs a job in one transaction, and the locks it
    # takes on occurrences must not keep attendants waiting. 500 every 30 s clears any
    # realistic backlog within minutes.
    sla_breaches_mark()


@periodic(every=timedelta(hours=1), name="occurrences.forget_creation_keys")
def forget_creation_keys() -> None:
    creation_keys_forget()
