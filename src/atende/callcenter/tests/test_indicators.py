"""The call center's indicators on the supervisor's dashboard: contacts by status with
Abandonado, by channel, manifestations by type and category, sentiment by day and the
pendencies open by unit."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from atende.callcenter.selectors import contact_items, indicators
from atende.callcenter.services import (
    contact_abandon,
    contact_finish,
    contact_start,
    manifestation_record,
    pendency_create,
)
from atende.callcenter.tests.conftest import manifestation_values
from atende.catalog.models import Level, Scale

pytestmark = pytest.mark.django_db


def test_the_figures_follow_the_contacts(
    call_center_a,
    card_a,
    attendant_a,
    supervisor_a,
    operator_a,
    group_a,
    pendency_unit_a,
    catalog_a,
):
    def start(channel="telefone"):
        return contact_start(
            user=attendant_a,
            attendant_operator_id=operator_a.pk,
            operator_id=operator_a.pk,
            card="C-100",
            channel=channel,
        )

    happy = Level.objects.get(operator=operator_a, scale=Scale.SENTIMENT, name="Satisfeito")
    calm = Level.objects.get(operator=operator_a, scale=Scale.SENTIMENT, name="Neutro")
    pending = start()
    first = contact_items(pending)[0].occurrence
    values = manifestation_values(operator_a, group_a, sentiment=happy.pk)
    manifestation_record(user=attendant_a, contact=pending, occurrence_id=first.pk, **values)
    pendency_create(
        user=attendant_a,
        contact=pending,
        occurrence_id=first.pk,
        occurrence_type=catalog_a["Solicitação de Autorização"],
        subject=None,
        unit=pendency_unit_a,
        description="Autorizar",
    )
    contact_finish(user=attendant_a, contact=pending)
    done = start(channel="whatsapp")
    second = contact_items(done)[0].occurrence
    values = manifestation_values(operator_a, group_a, sentiment=calm.pk)
    manifestation_record(user=attendant_a, contact=done, occurrence_id=second.pk, **values)
    contact_finish(user=attendant_a, contact=done)
    contact_abandon(user=attendant_a, contact=start())

    now = timezone.now()
    figures = indicators(
        operator_id=operator_a.pk, since=now - timedelta(days=1), until=now + timedelta(days=1)
    )
    statuses = {bar.label: bar.value for bar in figures["contact_statuses"]}
    assert statuses == {"Em atendimento": 0, "Pendente": 1, "Concluído": 1, "Abandonado": 1}
    channels = {bar.label: bar.value for bar in figures["contact_channels"]}
    assert channels == {"Telefone": 2, "WhatsApp": 1}
    [kind] = figures["manifestation_kinds"]
    assert kind.value == 2 and " / " in kind.label
    [day] = figures["sentiment"]
    assert day.value == (happy.rank + calm.rank) / 2
    assert figures["pendencies"] == [("Autorizações A", 1, 0)]

    client = Client()
    client.force_login(supervisor_a)
    page = client.get("/relatorios/indicadores/").content.decode()
    assert 'data-figure="contact-statuses"' in page and "Abandonado" in page
    assert "Autorizações A" in page


def test_call_center_protocols_are_in_the_report_with_their_parent(
    contact, attendant_a, operator_a, app_a, group_a, pendency_unit_a, catalog_a
):
    import csv
    import io

    from atende.reports.params import ReportParams
    from atende.reports.writer import report_write

    first = contact_items(contact)[0].occurrence
    values = manifestation_values(operator_a, group_a)
    manifestation_record(user=attendant_a, contact=contact, occurrence_id=first.pk, **values)
    pendency = pendency_create(
        user=attendant_a,
        contact=contact,
        occurrence_id=first.pk,
        occurrence_type=catalog_a["Solicitação de Autorização"],
        subject=None,
        unit=pendency_unit_a,
        description="Autorizar",
    )
    contact_abandon(user=attendant_a, contact=contact)
    today = timezone.localdate()
    out = io.StringIO(newline="")
    report_write(
        ReportParams(operator_id=operator_a.pk, application_id=app_a.pk, start=today, end=today),
        out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))
    heads = {row[1]: row for row in rows if row[0] == "01"}
    assert heads[pendency.protocol][3] == first.protocol
    assert heads[first.protocol][3] == ""
