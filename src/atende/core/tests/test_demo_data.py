import pytest
from django.core.management import call_command

from atende.accounts.models import User
from atende.core.management.commands.demo_data import DEMO_PASSWORD
from atende.tenancy.models import Application, Membership, Operator, Unit

pytestmark = pytest.mark.django_db


def _counts() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (Operator, Application, Unit, User, Membership))


def test_demo_data_loads_two_operators_with_every_role_and_is_idempotent(client):
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    first = _counts()
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert _counts() == first

    health = Operator.objects.get(ans_registration="417505")
    assert {(a.bundle, a.instance) for a in health.applications.all()} == {
        ("br.com.atende.demo", 1),
        ("br.com.atende.demo", 2),
    }
    water = Operator.objects.exclude(pk=health.pk).get()
    assert water.ans_registration == ""
    for operator in (health, water):
        roles = set(operator.memberships.values_list("role", flat=True))
        assert roles == {"attendant", "supervisor", "configurator"}
        assert operator.units.count() >= 3

    assert client.login(username="atendente@saude.demo", password=DEMO_PASSWORD)
    assert User.objects.get(email="admin@atende.demo").is_staff
