from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from atende.accounts.models import User
from atende.catalog.models import CannedReply, OccurrenceType
from atende.core.management.commands.demo_data import DEMO_PASSWORD
from atende.occurrences.history import occurrence_replay
from atende.occurrences.models import Occurrence
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
        ("br.com.atende.demo.central", 2),
    }
    water = Operator.objects.exclude(pk=health.pk).get()
    assert water.ans_registration == ""
    for operator in (health, water):
        roles = set(operator.memberships.values_list("role", flat=True))
        assert roles == {"attendant", "supervisor", "configurator"}
        assert operator.units.count() >= 3

    assert client.login(username="atendente@saude.demo", password=DEMO_PASSWORD)


def test_demo_data_brings_the_seed_catalog_and_occurrences_in_every_state():
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    health = Operator.objects.get(ans_registration="417505")
    names = set(OccurrenceType.objects.for_operator(health).values_list("name", flat=True))
    assert names == {
        "Ocorrencia - Reembolso",
        "Atualização Cadastral",
        "Solicitação de Autorização",
        "Indicação de credenciamento",
        "Atendimento ao beneficiário",
        "Segunda via do cartão",
        "Autorização de reembolso",
    }
    occurrences = Occurrence.objects.for_operator(health)
    assert occurrences.count() == 300
    assert set(occurrences.values_list("state", flat=True)) == {1, 2, 3, 4}
    oldest = occurrences.order_by("registered_at").first().registered_at
    assert timezone.now() - oldest <= timedelta(days=90)
    for occurrence in occurrences.filter(state=4)[:20]:
        replayed = occurrence_replay(occurrence.events.order_by("seq"))
        assert (replayed.state, replayed.closed_at) == (4, occurrence.closed_at)
    # Conversations, some waiting for the operator's answer, and canned replies to answer.
    assert occurrences.filter(events__kind="reply").exists()
    waiting = occurrences.filter(awaiting_since__isnull=False, closed_at__isnull=True)
    assert waiting.exists()
    for occurrence in waiting[:10]:
        replayed = occurrence_replay(occurrence.events.order_by("seq"))
        assert replayed.awaiting_since == occurrence.awaiting_since
    assert CannedReply.objects.for_operator(health).count() == 2
    water = Operator.objects.get(cnpj="45997418000153")
    leak = OccurrenceType.objects.for_operator(water).get(name="Vazamento de água")
    assert Occurrence.objects.filter(occurrence_type=leak).exists()
    assert User.objects.get(email="admin@atende.demo").is_staff


def test_demo_data_sets_up_the_call_center_with_extensions():
    from atende.callcenter.models import CallCenterSettings

    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    health = Operator.objects.get(ans_registration="417505")
    settings = CallCenterSettings.objects.get(operator=health)
    assert settings.application.bundle == "br.com.atende.demo.central"
    extensions = dict(
        Membership.objects.filter(operator=health)
        .exclude(extension="")
        .values_list("user__email", "extension")
    )
    assert extensions == {"atendente@saude.demo": "2001", "supervisor@saude.demo": "2002"}


def test_demo_data_has_a_registry_with_every_critique_and_the_portal_person_in_it():
    from atende.beneficiaries.models import Beneficiary, Invoice
    from atende.beneficiaries.selectors import with_critiques
    from atende.portal.models import BeneficiaryLogin

    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    health = Operator.objects.get(ans_registration="417505")
    cards = list(Beneficiary.objects.filter(operator=health))
    assert len(cards) > 2000
    found = {critique.code for f in with_critiques(cards) for critique in f.critiques}
    assert found == {
        "contrato_suspenso",
        "contrato_cancelado",
        "fatura_vencida",
        "carteirinha_vencida",
    }
    logins = BeneficiaryLogin.objects.filter(operator=health)
    assert {(login.login, login.beneficiary.card) for login in logins} == {
        ("0001234", "0001234"),
        ("0007654", "0007654"),
    }
    assert Invoice.objects.filter(operator=health).exists()
    in_registry = set(Beneficiary.objects.filter(operator=health).values_list("cpf", flat=True))
    occurrences = Occurrence.objects.for_operator(health)
    assert all(o.beneficiary_identifier in in_registry for o in occurrences)


def test_the_demo_shows_an_import_with_its_refused_lines(client):
    """The configurator's import page has something to show: a file of the ERP sent again,
    nothing changed, three lines refused with their reasons."""
    from atende.beneficiaries.models import Import

    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("demo_data", stdout=open("/dev/null", "w"))  # noqa: SIM115
    job = Import.objects.get()
    assert (job.state, job.unchanged, job.invalid) == ("done", 17, 3)
    assert client.login(username="configurador@saude.demo", password=DEMO_PASSWORD)
    root = f"/configuracao/{job.operator_id}/beneficiarios"
    assert (
        f'href="{root}/importacoes/{job.pk}/"' in client.get(f"{root}/importar/").content.decode()
    )
    problems = client.get(f"{root}/importacoes/{job.pk}/erros.csv")
    lines = b"".join(problems.streaming_content).decode("utf-8-sig").splitlines()
    assert len(lines) == 4, lines  # the header and the three refused lines
