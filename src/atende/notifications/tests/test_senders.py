"""A provider account is checked against its schema before it is used."""

import pytest
from django.core.exceptions import ValidationError

from atende.notifications.models import Sender, SenderKind
from atende.notifications.services import MODEM_INTERVAL_MS, sender_check


def test_a_modem_gets_seed_004s_interval_unless_told():
    modem = Sender(kind=SenderKind.SMS_MODEM, settings={"port": "/dev/ttyUSB0"})
    sender_check(modem)
    assert modem.min_interval_ms == MODEM_INTERVAL_MS == 7000


@pytest.mark.parametrize(
    ("kind", "values", "message"),
    [
        (SenderKind.WHATSAPP_CLOUD, {}, "phone_number_id"),
        (SenderKind.SMS_MODEM, {"port": "COM1; rm -rf"}, "port"),
        (SenderKind.SMS_HTTP, {"url": "http://10.0.0.5/send"}, "rede interna"),
        (SenderKind.FCM, {"project_id": "p", "extra": 1}, "extra"),
    ],
)
def test_bad_settings_are_refused_saying_where(kind, values, message, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    with pytest.raises(ValidationError) as refused:
        sender_check(Sender(kind=kind, settings=values))
    assert message in str(refused.value.message_dict["settings"])
