"""Citizens' SMS to the operator's GSM modem (the chip that sends the protocols) become
reports in the intake queue: read with AT+CMGL on a pseudo-terminal that speaks like a
modem, each one stored then deleted with AT+CMGD, a modem busy sending left for later."""

from datetime import UTC, datetime, timedelta

import pytest

from atende.notifications.models import Sender, SenderKind
from atende.notifications.services import sender_slot_take
from atende.occurrences.models import Mode, Occurrence
from atende.registrations.services import modem_inboxes_read
from atende.testing.loopback import FakeModem

pytestmark = pytest.mark.django_db


@pytest.fixture
def modem(operator_b, water):
    fake = FakeModem()
    sender = Sender.objects.create(
        operator=operator_b,
        kind=SenderKind.SMS_MODEM,
        name="Modem",
        settings={"port": fake.port, "timeout": 5},
        min_interval_ms=7000,
    )
    yield fake, sender
    fake.close()


def test_received_sms_become_reports_and_leave_the_modem(modem, water):
    fake, _sender = modem
    fake.inbox[1] = (
        "+5531977776666",
        "Vazamento na Rua da Bahia, 100. OK?",
        "26/12/05,10:15:30-12",
    )
    fake.inbox[4] = ("31966665555", "Falta água no Barreiro", "26/12/05,10:20:00-12")
    fake.inbox[5] = ("28000", "Promoção da operadora", "26/12/05,10:21:00-12")
    assert modem_inboxes_read() == 2
    drafts = list(Occurrence.objects.order_by("registered_at"))
    assert [(d.mode, d.channel, d.contact_phone) for d in drafts] == [
        (Mode.DRAFT, "sms", "+5531977776666"),
        (Mode.DRAFT, "sms", "+5531966665555"),
    ]
    assert drafts[0].description == "Vazamento na Rua da Bahia, 100. OK?"
    # The modem's clock: 10:15:30 at UTC-3 (-12 quarters of an hour).
    assert drafts[0].registered_at == datetime(2026, 12, 5, 13, 15, 30, tzinfo=UTC)
    assert fake.inbox == {}  # the carrier's short code is dropped too, not kept forever


def test_a_modem_busy_sending_is_read_next_time(modem, water):
    fake, sender = modem
    fake.inbox[1] = ("+5531977776666", "Vazamento", "26/12/05,10:15:30-12")
    assert sender_slot_take(sender) is None  # a send holds the modem for 7 s
    assert modem_inboxes_read() == 0
    assert fake.inbox and not Occurrence.objects.exists()
    Sender.objects.filter(pk=sender.pk).update(
        next_slot_at=datetime.now(UTC) - timedelta(seconds=1)
    )
    assert modem_inboxes_read() == 1


def test_a_message_stored_but_not_deleted_is_not_stored_twice(modem, water):
    fake, sender = modem
    fake.inbox[2] = ("+5531977776666", "Vazamento", "26/12/05,10:15:30-12")
    assert modem_inboxes_read() == 1
    fake.inbox[2] = ("+5531977776666", "Vazamento", "26/12/05,10:15:30-12")  # deletion lost
    Sender.objects.filter(pk=sender.pk).update(next_slot_at=None)
    assert modem_inboxes_read() == 0
    assert Occurrence.objects.count() == 1 and fake.inbox == {}
