from datetime import timedelta

from atende.accounts.services import login_failures_prune
from atende.core.scheduler import periodic


@periodic(every=timedelta(minutes=15), name="accounts.prune_login_failures")
def prune_login_failures() -> None:
    login_failures_prune()
