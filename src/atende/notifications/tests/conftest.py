import json

import pytest

from atende.catalog.models import ActionKind
from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.services import status_action_create
from atende.testing.loopback import HttpReceiver
from atende.testing.occurrences import status_named


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    # Tests reach their receivers on loopback, which production refuses by default.
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]


class Script:
    """Answers given in order, then ``then`` for every request after."""

    def __init__(self, *statuses: int, then: int = 200) -> None:
        self.statuses = list(statuses)
        self.then = then

    def __call__(self, request):
        status = self.statuses.pop(0) if self.statuses else self.then
        return status, {}, json.dumps({"status": status}).encode()


@pytest.fixture
def receiver():
    server = HttpReceiver(Script())
    yield server
    server.close()


@pytest.fixture
def reimbursement(catalog_a):
    return catalog_a[REIMBURSEMENT]


@pytest.fixture
def hook_action(reimbursement, receiver):
    return status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="hook - reembolso - em análise",
        kind=ActionKind.HOOK,
        recipient=receiver.url + "/hooks",
    )
