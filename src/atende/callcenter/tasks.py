from datetime import timedelta

from atende.callcenter.services import contacts_abandon_idle
from atende.core.scheduler import periodic


@periodic(every=timedelta(minutes=1), name="callcenter.idle")
def abandon_idle_contacts() -> None:
    """Calls left without activity past their operator's limit read Abandonado."""
    contacts_abandon_idle()
