"""Operational incidents (issue 21): registrations opened in the area for the related
specifications are linked automatically, the attendant sees it at the duplicate check,
the citizen's SMS says so; closing the incident closes them in one step, reporting those
refused."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from atende.catalog.models import Closing
from atende.notifications.services import deliveries_drain
from atende.occurrences.models import Occurrence, State
from atende.occurrences.services import NotAllowed, actor_for_user
from atende.registrations.models import IncidentReason, Place, ServiceType
from atende.registrations.services import incident_close, incident_create, order_create
from atende.registrations.tests.conftest import ADDRESS, FAR, HERE, sms_sent
from atende.registrations.tests.test_services import opened, report

pytestmark = pytest.mark.django_db


@pytest.fixture
def burst(street_leak, shortage, supervisor_water, operator_b):
    reason = IncidentReason.objects.create(operator=operator_b, description="Rompimento de adutora")
    now = timezone.now()
    return incident_create(
        actor=actor_for_user(user=supervisor_water, operator=operator_b),
        reason=reason,
        description="Adutora da Av. Afonso Pena",
        subjects=[shortage],
        city="Belo Horizonte",
        neighbourhoods=["Centro", "Funcionários"],
        latitude=HERE["latitude"],
        longitude=HERE["longitude"],
        radius_m=300,
        starts_at=now - timedelta(hours=1),
        expected_end_at=now + timedelta(hours=6),
    )


def test_registrations_in_the_area_are_linked_and_told(
    burst, shortage, street_leak, attendant_water, operator_b, app_b, gateway
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    in_area = opened(actor, app_b, shortage, place={**ADDRESS, "neighbourhood": "funcionarios"})
    by_radius = opened(
        actor, app_b, shortage, place={"street": "Rua X", "city": "Contagem", **HERE}
    )
    outside = opened(actor, app_b, shortage, place={"street": "Rua Y", "city": "Contagem", **FAR})
    other_spec = opened(actor, app_b, street_leak)
    linked = {p.occurrence_id for p in Place.objects.filter(incident=burst)}
    assert linked == {in_area.pk, by_radius.pk}
    assert outside.pk not in linked and other_spec.pk not in linked
    while deliveries_drain():
        pass
    end = timezone.localtime(burst.expected_end_at).strftime("%d/%m %H:%M")
    texts = dict(sms_sent(gateway))
    assert texts["+5531988887777"]  # every one was told its protocol
    told = next(t for _n, t in sms_sent(gateway) if in_area.protocol in t)
    assert told.endswith(f"Rompimento de adutora na área, previsão de término {end}.")


def test_the_report_page_shows_the_incident(burst, shortage, attendant_water, app_b):
    draft = report(app_b, shortage, phone="31933334444", place={**ADDRESS})
    client = Client()
    client.force_login(attendant_water)
    page = client.get(f"/registros/triagem/{draft.protocol}/").content.decode()
    assert "Ocorrência operacional nesta área" in page and "Adutora da Av. Afonso Pena" in page


def test_closing_the_incident_closes_its_registrations_and_reports_refusals(
    burst, shortage, attendant_water, supervisor_water, operator_b, app_b, field_unit
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    first = opened(actor, app_b, shortage)
    blocked = opened(actor, app_b, shortage)
    truck = ServiceType.objects.create(
        operator=operator_b, subject=shortage, name="Caminhão-pipa", default_unit=field_unit
    )
    order_create(actor=actor, occurrence=blocked, service_type=truck)
    with pytest.raises(NotAllowed):
        incident_close(actor=actor, incident=burst)
    boss = actor_for_user(user=supervisor_water, operator=operator_b)
    resolved = shortage.occurrence_type.statuses.get(closing=Closing.RESOLVED)
    with pytest.raises(ValidationError):
        incident_close(actor=boss, incident=burst, status=resolved, outcome_text="")
    closed, refused = incident_close(
        actor=boss, incident=burst, status=resolved, outcome_text="Abastecimento normalizado."
    )
    assert closed == 1
    assert [p for p, _r in refused] == [blocked.protocol]
    assert "OS 1 (Caminhão-pipa)" in refused[0][1]
    assert Occurrence.objects.get(pk=first.pk).state == State.CLOSED
    assert Occurrence.objects.get(pk=blocked.pk).state != State.CLOSED
    burst.refresh_from_db()
    assert burst.closed_at is not None
    # Closed: new registrations in the area are no longer linked to it.
    later = opened(actor, app_b, shortage)
    assert Place.objects.get(occurrence=later).incident is None


def test_the_incident_screens(
    shortage, supervisor_water, attendant_water, operator_b, attendant_a, catalog_a, water
):
    reason = IncidentReason.objects.create(operator=operator_b, description="Parada programada")
    boss = Client()
    boss.force_login(supervisor_water)
    typed = {
        "reason": reason.pk,
        "description": "Troca de registro",
        "subjects": [shortage.pk],
        "city": "Belo Horizonte",
        "neighbourhoods": "Centro\nSavassi",
        "starts_at": "2026-12-05T08:00",
        "expected_end_at": "2026-12-05T07:00",
    }
    refused = boss.post("/registros/ocorrencias-operacionais/", typed)
    assert refused.status_code == 400
    assert 'value="Troca de registro"' in refused.content.decode()
    made = boss.post(
        "/registros/ocorrencias-operacionais/", {**typed, "expected_end_at": "2026-12-05T18:00"}
    )
    assert made.status_code == 302
    page = boss.get(made["Location"]).content.decode()
    assert "Troca de registro" in page and "Encerrar a ocorrência" in page
    desk = Client()
    desk.force_login(attendant_water)
    assert "Encerrar a ocorrência" not in desk.get(made["Location"]).content.decode()
    assert desk.post("/registros/ocorrencias-operacionais/", typed).status_code == 404
    other = Client()
    other.force_login(attendant_a)
    assert other.get(made["Location"]).status_code == 404
    closed = boss.post(made["Location"], {"status": "", "outcome_text": ""})
    assert closed.status_code == 302
    assert "encerrada" in boss.get(made["Location"]).content.decode()
