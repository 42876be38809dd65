"""The platform administration edits actions and senders through the same checks as the
services: a broken template or an internal hook address is refused next to its field."""

import pytest

from atende.catalog.models import StatusAction
from atende.notifications.models import Sender
from atende.testing.factories import UserFactory
from atende.testing.occurrences import status_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def action_form(status, **changes):
    return {
        "status": status.pk,
        "description": "hook - em análise",
        "kind": "hook",
        "is_active": "on",
        "recipient": "https://hooks.operadora.example/atende",
        "subject_template": "",
        "body_template": "",
        "whatsapp_template": "",
        "whatsapp_language": "pt_BR",
        "whatsapp_parameters": "[]",
        **changes,
    }


def test_an_action_saved_in_the_admin_gets_its_secret_and_checks(
    admin_client, reimbursement, settings, operator_a
):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    status = status_named(reimbursement, "Em análise")
    url = "/admin/catalog/statusaction/add/"
    refused = admin_client.post(
        url, action_form(status, recipient="http://169.254.169.254/", body_template="{{ x }}")
    )
    assert refused.status_code == 200
    page = refused.content.decode()
    assert "rede interna" in page and "Linha 1" in page
    assert not StatusAction.objects.exists()
    version = operator_a.catalog_version
    # A literal public address (never called here): nothing to resolve without DNS.
    saved = admin_client.post(url, action_form(status, recipient="https://93.184.215.14/hook"))
    assert saved.status_code == 302, saved.content.decode()[:2000]
    action = StatusAction.objects.get()
    assert action.hook_secret.startswith("whsec_")
    operator_a.refresh_from_db()
    assert operator_a.catalog_version > version


def test_a_sender_with_bad_settings_is_refused(admin_client, operator_a):
    response = admin_client.post(
        "/admin/notifications/sender/add/",
        {
            "operator": operator_a.pk,
            "kind": "sms_modem",
            "name": "Modem",
            "settings": '{"port": "/dev/ttyUSB0", "baudrate": 1}',
            "secret": "",
            "min_interval_ms": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 200
    assert "baudrate" in response.content.decode()
    assert not Sender.objects.exists()
