"""Times on the screens are the operator's (SPEC §8): an operator in Manaus (UTC-4) reads
an occurrence registered at 15:00 UTC as 11:00, as its report and protocol number do,
not as the platform's default São Paulo (12:00)."""

from datetime import UTC, datetime

import pytest
from django.utils import timezone

from atende.catalog.presets import REIMBURSEMENT
from atende.occurrences.models import Occurrence
from atende.portal.services import beneficiary_login_create
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory, OperatorFactory
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

AT = datetime(2026, 12, 6, 15, 0, tzinfo=UTC)


@pytest.fixture
def in_manaus(operator_a, attendant_a, app_a, catalog_a):
    operator_a.time_zone = "America/Manaus"
    operator_a.save(update_fields=["time_zone"])
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier="52998224725",
    )
    Occurrence.objects.filter(pk=occurrence.pk).update(registered_at=AT)
    return occurrence


def test_the_panel_shows_the_operators_time(client, attendant_a, in_manaus):
    client.force_login(attendant_a)
    page = client.get(f"/painel/{in_manaus.protocol}/").content.decode()
    assert "06/12/2026 11:00:00" in page
    assert "06/12/2026 12:00:00" not in page


def test_the_zone_is_let_go_after_the_request(client, attendant_a, in_manaus):
    client.force_login(attendant_a)
    client.get(f"/painel/{in_manaus.protocol}/")
    assert timezone.get_current_timezone_name() == "America/Sao_Paulo"


def test_someone_working_for_operators_in_two_zones_reads_the_default(
    client, attendant_a, in_manaus
):
    elsewhere = OperatorFactory(name="Operadora do Recife", time_zone="America/Recife")
    MembershipFactory(user=attendant_a, operator=elsewhere, role=Role.ATTENDANT)
    client.force_login(attendant_a)
    page = client.get(f"/painel/{in_manaus.protocol}/").content.decode()
    assert "06/12/2026 12:00:00" in page


def test_the_portal_shows_its_operators_time(client, operator_a, in_manaus):
    beneficiary_login_create(
        operator=operator_a,
        login="0001234",
        cpf="529.982.247-25",
        name="Beatriz",
        password="Senha-do-portal-2026",
    )
    home = "/portal/br.com.operadora.a/"
    signed = client.post(
        f"{home}entrar/", {"cpf": "529.982.247-25", "password": "Senha-do-portal-2026"}
    )
    assert signed.status_code == 302
    page = client.get(f"{home}{in_manaus.protocol}/").content.decode()
    assert "06/12/2026 11:00" in page
    assert "06/12/2026 12:00" not in page


def test_a_message_on_the_operators_behalf_writes_its_time_whoever_caused_it(in_manaus):
    """An integrator's change (no person, no zone of theirs) or an attendant's elsewhere:
    the deadline a beneficiary reads is the operator's."""
    from atende.notifications.services import occurrence_values

    Occurrence.objects.filter(pk=in_manaus.pk).update(sla_due_at=AT)
    occurrence = Occurrence.objects.get(pk=in_manaus.pk)
    with timezone.override("America/Sao_Paulo"):
        assert occurrence_values(occurrence)["prazo_sla"] == "06/12/2026 11:00"


def test_an_integrators_request_reads_its_operators_day(client, operator_a, app_a, in_manaus):
    """The API's answers carry their offset whatever the zone; what the zone decides there
    is the operator's day (a card's validity, a waiting period's end)."""
    from django.http import HttpRequest

    from atende.tenancy.auth import TokenAuth
    from atende.tenancy.services import api_token_create

    _token, plain = api_token_create(application=app_a, name="ERP", scopes=["occurrences:read"])
    try:
        assert TokenAuth().authenticate(HttpRequest(), plain) is not None
        assert timezone.get_current_timezone_name() == "America/Manaus"
    finally:
        timezone.deactivate()
    # Through the whole stack, the zone is let go after the answer.
    answer = client.get(
        f"/api/v1/occurrences/{in_manaus.protocol}", headers={"Authorization": f"Bearer {plain}"}
    )
    assert answer.status_code == 200
    assert answer.json()["registered_at"].startswith("2026-12-06T15:00:00")
    assert timezone.get_current_timezone_name() == "America/Sao_Paulo"
