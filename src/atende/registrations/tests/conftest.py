"""Operator B as the demo's water company: its leak type takes registrations, with the
intake settings, a locality rule and the SMS to requesters on attended; SMS go to a
gateway on loopback that speaks the provider's protocol (JSON POST, bearer token)."""

import json

import pytest

from atende.notifications.models import Sender, SenderKind
from atende.registrations.presets import install_registrations
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory, UnitFactory
from atende.testing.loopback import HttpReceiver


@pytest.fixture
def gateway(settings):
    # The operator's gateway is on this machine for the tests: the outbound guard lets
    # loopback through only when told so.
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    receiver = HttpReceiver(lambda request: (200, {}, b'{"status": "queued"}'))
    yield receiver
    receiver.close()


def sms_sent(gateway: HttpReceiver) -> list[tuple[str, str]]:
    """(number, text) of each SMS the gateway received, in order."""
    return [
        (body["to"], body["text"])
        for body in (json.loads(r.body) for r in gateway.requests if r.path == "/sms")
    ]


@pytest.fixture
def field_unit(operator_b):
    return UnitFactory(operator=operator_b, name="Manutenção de Redes")


@pytest.fixture
def desk_unit(operator_b):
    return UnitFactory(operator=operator_b, name="Atendimento")


@pytest.fixture
def water(operator_b, app_b, catalog_b, field_unit, desk_unit, gateway):
    """The sanitation operator configured for registrations, with an SMS gateway."""
    Sender.objects.create(
        operator=operator_b,
        kind=SenderKind.SMS_HTTP,
        name="Gateway SMS",
        settings={"url": gateway.url + "/sms"},
        secret="gw-token",
    )
    install_registrations(
        operator_b, app_b, units={"field": field_unit, "desk": desk_unit}, city="Belo Horizonte"
    )
    return catalog_b["Vazamento de água"]


@pytest.fixture
def street_leak(water):
    return water.subjects.get(name="Vazamento na rua")


@pytest.fixture
def shortage(water):
    return water.subjects.get(name="Falta de água")


@pytest.fixture
def attendant_water(operator_b, desk_unit, field_unit):
    membership = MembershipFactory(
        operator=operator_b, role=Role.ATTENDANT, user__email="paulo@agua.example"
    )
    membership.units.add(desk_unit, field_unit)
    return membership.user


@pytest.fixture
def supervisor_water(operator_b):
    return MembershipFactory(
        operator=operator_b, role=Role.SUPERVISOR, user__email="marta@agua.example"
    ).user


# Two points 40 m apart on Avenida Afonso Pena, and one 600 m away.
HERE = {"latitude": -19.924500, "longitude": -43.935200}
NEAR = {"latitude": -19.924860, "longitude": -43.935200}
FAR = {"latitude": -19.930000, "longitude": -43.935200}

ADDRESS = {
    "street": "Avenida Afonso Pena",
    "number": "1212",
    "neighbourhood": "Centro",
    "city": "Belo Horizonte",
    "state": "MG",
    "postal_code": "30130-005",
}
