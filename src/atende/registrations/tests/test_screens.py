"""The Registro de Atendimento screens through the test client: the intake queue and a
report's analysis, Inserir RA with the duplicate check before saving, the registration's
panel, routing many, and the configurator's page."""

import pytest
from django.test import Client

from atende.occurrences.models import Event, EventKind, Mode, Occurrence, State
from atende.occurrences.services import actor_for_user
from atende.registrations.models import LocalityRule, RegistrationSettings
from atende.registrations.tests.conftest import ADDRESS, HERE, NEAR
from atende.registrations.tests.test_services import opened, report
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory, UnitFactory
from atende.testing.occurrences import submission_key_of

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_the_intake_queue_lists_only_the_operators_reports(
    street_leak, attendant_water, app_b, attendant_a, catalog_a
):
    draft = report(app_b, street_leak, phone="31911112222")
    page = signed_in(attendant_water).get("/registros/")
    assert page.status_code == 200
    assert draft.protocol in page.content.decode()
    assert "Registros (RA)" in page.content.decode()  # in the navigation
    other = signed_in(attendant_a)
    assert draft.protocol not in other.get("/registros/").content.decode()
    assert other.get(f"/registros/triagem/{draft.protocol}/").status_code == 404
    # A health operator's attendant is not offered registrations.
    assert "Registros (RA)" not in other.get("/painel/").content.decode()


def test_drafts_of_other_types_share_the_intake_queue_with_their_own_page(
    water, operator_b, app_b, catalog_b, attendant_water
):
    """One intake queue for every kind of draft: an integrator's draft of a type without
    a place is listed beside the reports and opens on the generic analysis page."""
    from atende.occurrences.models import Mode
    from atende.occurrences.services import actor_for_application, occurrence_create

    bill = catalog_b["Segunda via de conta"]
    draft = occurrence_create(
        actor=actor_for_application(application=app_b),
        application=app_b,
        occurrence_type=bill,
        channel="apiPublica",
        mode=Mode.DRAFT,
    )
    client = signed_in(attendant_water)
    page = client.get("/registros/").content.decode()
    assert f'href="/painel/triagem/{draft.protocol}/"' in page
    assert (
        "Promover para a fila" in client.get(f"/painel/triagem/{draft.protocol}/").content.decode()
    )


def test_a_report_is_analysed_attached_to_the_registration_nearby(
    street_leak, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    first = opened(actor, app_b, street_leak)
    draft = report(app_b, street_leak, phone="31933334444")
    client = signed_in(attendant_water)
    page = client.get(f"/registros/triagem/{draft.protocol}/").content.decode()
    assert "Checagem de duplicidade" in page
    assert f'data-protocol="{first.protocol}"' in page and "40 m" in page
    response = client.post(
        f"/registros/triagem/{draft.protocol}/anexar/",
        {"version": draft.version, "target": first.protocol},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/painel/{first.protocol}/"
    assert first.requesters.count() == 2
    # Analysed: the report's page now leads to the occurrence page.
    assert client.get(f"/registros/triagem/{draft.protocol}/").status_code == 302


def test_opening_a_report_keeps_what_was_typed_when_refused(street_leak, attendant_water, app_b):
    draft = report(app_b, street_leak, phone="31933334444", place={})
    client = signed_in(attendant_water)
    refused = client.post(
        f"/registros/triagem/{draft.protocol}/abrir/",
        {"version": draft.version, "subject": street_leak.pk, "street": "Rua Guaicurus"},
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="Rua Guaicurus"' in page
    assert "Informe o logradouro e o município do local, ou suas coordenadas." in page
    done = client.post(
        f"/registros/triagem/{draft.protocol}/abrir/",
        {"version": draft.version, "subject": street_leak.pk, **ADDRESS},
    )
    assert done.status_code == 302
    draft.refresh_from_db()
    assert draft.mode == Mode.ACTIVE


def test_discarding_needs_a_reason(street_leak, attendant_water, app_b):
    draft = report(app_b, street_leak, phone="31933334444")
    client = signed_in(attendant_water)
    assert (
        client.post(
            f"/registros/triagem/{draft.protocol}/descartar/",
            {"version": draft.version, "reason": ""},
        ).status_code
        == 400
    )
    assert (
        client.post(
            f"/registros/triagem/{draft.protocol}/descartar/",
            {"version": draft.version, "reason": "Trote"},
        ).status_code
        == 302
    )
    draft.refresh_from_db()
    assert draft.state == State.CLOSED


def _inserir_ra(subject, application) -> dict:
    """Inserir RA as an attendant fills it: a leak near the one already open, Carlos
    asking by phone."""
    return {
        "subject": subject.pk,
        "application": application.pk,
        "channel": "telefone",
        "description": "Vazamento",
        **ADDRESS,
        "latitude": str(NEAR["latitude"]),
        "longitude": str(NEAR["longitude"]),
        "requester_name": "Carlos",
        "requester_phone": "31922223333",
    }


def test_inserir_ra_shows_the_duplicates_before_saving(
    street_leak, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    first = opened(actor, app_b, street_leak)
    client = signed_in(attendant_water)
    typed = _inserir_ra(street_leak, app_b)
    offered = client.post("/registros/novo/", typed)
    assert offered.status_code == 200
    page = offered.content.decode()
    assert first.protocol in page and "Registrar novo mesmo assim" in page
    assert 'name="confirmed" value="on"' in page and 'value="Carlos"' in page
    assert Occurrence.objects.count() == 1
    saved = client.post("/registros/novo/", {**typed, "confirmed": "True"})
    assert saved.status_code == 302
    assert Occurrence.objects.count() == 2


def test_inserir_ra_refusals_keep_the_typed_values(street_leak, attendant_water, app_b):
    client = signed_in(attendant_water)
    refused = client.post(
        "/registros/novo/simplificado/",
        {
            "subject": street_leak.pk,
            "application": app_b.pk,
            "description": "Vazamento",
            "street": "Rua Rio de Janeiro",
            "requester_phone": "999",
        },
    )
    assert refused.status_code == 400
    page = refused.content.decode()
    assert 'value="Rua Rio de Janeiro"' in page
    assert "telefone" in page.lower()
    assert not Occurrence.objects.exists()


def test_the_panel_adds_a_requester_and_refuses_a_blank_one(
    street_leak, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    client = signed_in(attendant_water)
    panel = client.get(f"/registros/{occurrence.protocol}/painel/").content.decode()
    assert "Joana Lima" in panel and "Avenida Afonso Pena" in panel
    blank = client.post(f"/registros/{occurrence.protocol}/solicitantes/", {"kind": "person"})
    assert blank.status_code == 400
    assert "Informe o nome ou o telefone do solicitante." in blank.content.decode()
    added = client.post(
        f"/registros/{occurrence.protocol}/solicitantes/",
        {"kind": "person", "name": "Vizinho", "phone": "31933334444"},
        HTTP_HX_REQUEST="true",
    )
    assert added.status_code == 204
    assert added["HX-Redirect"] == f"/painel/{occurrence.protocol}/"
    assert occurrence.requesters.count() == 2
    # The occurrence page loads the panel and shows the routing opinion field.
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert f"/registros/{occurrence.protocol}/painel/" in page


def test_routing_many_from_the_screen(street_leak, supervisor_water, operator_b, app_b):
    actor = actor_for_user(user=supervisor_water, operator=operator_b)
    three = [opened(actor, app_b, street_leak) for _ in range(3)]
    night = UnitFactory(operator=operator_b, name="Plantão")
    client = signed_in(supervisor_water)
    refused = client.post(
        "/registros/tramitar/", {"occurrences": [o.pk for o in three], "unit": night.pk}
    )
    assert refused.status_code == 400
    done = client.post(
        "/registros/tramitar/",
        {"occurrences": [o.pk for o in three], "unit": night.pk, "opinion": "Plantão"},
    )
    assert done.status_code == 302
    assert Event.objects.filter(kind=EventKind.ROUTED, payload__opinion="Plantão").count() == 3


def test_the_configurator_sets_intake_and_locality_rules(
    street_leak, operator_b, app_b, water, field_unit
):
    configurator = MembershipFactory(operator=operator_b, role=Role.CONFIGURATOR).user
    client = signed_in(configurator)
    url = f"/configuracao/{operator_b.pk}/registros/"
    saved = client.post(url, {"application": app_b.pk, "sms_type": water.pk, "distance_m": 250})
    assert saved.status_code == 302
    assert RegistrationSettings.objects.get(operator=operator_b).distance_m == 250
    token = client.post(url, {"new_token": "1"})
    assert "atsms_" in token.content.decode()
    rule = {
        "subject": street_leak.pk,
        "city": "Contagem",
        "neighbourhood": "",
        "unit": field_unit.pk,
    }
    assert client.post(url + "localidades/nova/", rule).status_code == 302
    again = client.post(url + "localidades/nova/", {**rule, "city": " CONTAGEM "})
    assert again.status_code == 400
    assert "Esta especificação já tem uma regra para esta localidade." in again.content.decode()
    listed = client.get(url, {"q": "contagem"}).content.decode()
    assert "Contagem" in listed and "Savassi" not in listed
    assert LocalityRule.objects.filter(operator=operator_b).count() == 3
    # Another operator's configurator finds nothing.
    stranger = MembershipFactory(role=Role.CONFIGURATOR).user
    assert signed_in(stranger).get(url).status_code == 404


def test_coordinates_are_shown_with_a_map_link(street_leak, attendant_water, app_b):
    draft = report(app_b, street_leak, phone="31933334444", place={**HERE})
    page = signed_in(attendant_water).get(f"/registros/triagem/{draft.protocol}/").content.decode()
    assert "-19.924500, -43.935200" in page or "-19,924500, -43,935200" in page


def test_the_panel_changes_general_data_and_a_requester(
    street_leak, shortage, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    requester = occurrence.requesters.get()
    client = signed_in(attendant_water)
    refused = client.post(
        f"/registros/{occurrence.protocol}/solicitantes/{requester.pk}/",
        {"kind": "person", "name": "Joana", "phone": "12"},
    )
    assert refused.status_code == 400
    assert 'value="12"' in refused.content.decode()
    changed = client.post(
        f"/registros/{occurrence.protocol}/solicitantes/{requester.pk}/",
        {"kind": "person", "name": "Joana Lima", "phone": "31977776666"},
    )
    assert changed.status_code == 204
    requester.refresh_from_db()
    assert requester.phone == "+5531977776666"
    general = client.post(
        f"/registros/{occurrence.protocol}/dados-gerais/",
        {"subject": shortage.pk, "description": "Sem água desde ontem"},
    )
    assert general.status_code == 204
    occurrence.refresh_from_db()
    assert (occurrence.subject, occurrence.description) == (shortage, "Sem água desde ontem")
    edited = Event.objects.filter(occurrence=occurrence, kind=EventKind.EDITED).get()
    assert edited.payload["changes"]["subject"] == ["Vazamento na rua", "Falta de água"]
    page = client.get(f"/registros/{occurrence.protocol}/painel/").content.decode()
    assert "Sem água desde ontem" in page


def test_the_configurator_filters_types_and_specifications(operator_b, water):
    configurator = MembershipFactory(operator=operator_b, role=Role.CONFIGURATOR).user
    client = signed_in(configurator)
    page = client.get(f"/configuracao/{operator_b.pk}/", {"q": "cavalete"}).content.decode()
    assert "Vazamento de água" in page and "Segunda via de conta" not in page
    page = client.get(f"/configuracao/{operator_b.pk}/", {"q": "segunda"}).content.decode()
    assert "Segunda via de conta" in page and "Vazamento de água" not in page


def test_the_configurator_adds_and_removes_a_billing_rule(street_leak, operator_b, water):
    from atende.registrations.models import BillingRule

    configurator = MembershipFactory(operator=operator_b, role=Role.CONFIGURATOR).user
    client = signed_in(configurator)
    url = f"/configuracao/{operator_b.pk}/registros/"
    collection = UnitFactory(operator=operator_b, name="Cobrança")
    added = client.post(
        url, {"billing": "1", "billing-subject": street_leak.pk, "billing-unit": collection.pk}
    )
    assert added.status_code == 302
    rule = BillingRule.objects.get(operator=operator_b)
    assert (rule.subject, rule.unit) == (street_leak, collection)
    again = client.post(
        url, {"billing": "1", "billing-subject": street_leak.pk, "billing-unit": collection.pk}
    )
    assert again.status_code == 400
    assert client.post(url, {"billing_remove": rule.pk}).status_code == 302
    assert not BillingRule.objects.exists()


def test_pop_files_are_added_by_the_configurator_and_read_from_the_registration(
    street_leak, operator_b, app_b, water, attendant_water, attendant_a
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from atende.registrations.tests.test_services import PNG

    configurator = MembershipFactory(operator=operator_b, role=Role.CONFIGURATOR).user
    client = signed_in(configurator)
    url = f"/configuracao/{operator_b.pk}/registros/pop/{street_leak.pk}/"
    program = SimpleUploadedFile("checklist.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    refused = client.post(url, {"file": program})
    assert refused.status_code == 400
    added = client.post(url, {"file": SimpleUploadedFile("mapa.png", PNG, "image/png")})
    assert added.status_code == 302
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    panel = signed_in(attendant_water).get(f"/registros/{occurrence.protocol}/painel/")
    page = panel.content.decode()
    assert "Confirme o endereço" in page  # the POP's text (preset)
    token = street_leak.procedure_files.get().token
    assert f"/registros/pop/{token}/" in page
    download = signed_in(attendant_water).get(f"/registros/pop/{token}/")
    assert download.status_code == 200 and b"".join(download.streaming_content) == PNG
    assert signed_in(attendant_a).get(f"/registros/pop/{token}/").status_code == 404


def test_a_unit_bound_attendant_works_the_intake_queue_of_every_unit(
    street_leak, operator_b, app_b, desk_unit, field_unit
):
    """Reports wait in no unit: every attendant of the operator sees them. Opened, the
    registration goes to the locality's unit; one the attendant does not work sends them
    back to the queue, with the protocol said."""
    membership = MembershipFactory(operator=operator_b, role=Role.ATTENDANT)
    membership.units.add(desk_unit)
    draft = report(app_b, street_leak, phone="31933334444")
    assert draft.unit_id is None
    client = signed_in(membership.user)
    assert draft.protocol in client.get("/registros/").content.decode()
    response = client.post(
        f"/registros/triagem/{draft.protocol}/abrir/",
        {"version": draft.version, "subject": street_leak.pk, **ADDRESS},
    )
    assert response.status_code == 302 and response["Location"] == "/registros/"
    draft.refresh_from_db()
    assert draft.unit == field_unit  # the rule for Centro
    assert draft.protocol in client.get("/registros/").content.decode()  # the message


def test_inserir_ra_sent_twice_opens_one_registration(street_leak, attendant_water, app_b):
    """The second send finds the first's registration: neither a second one nor the
    duplicate check offering the first."""
    client = signed_in(attendant_water)
    page = client.get("/registros/novo/").content.decode()
    key = submission_key_of(page)
    typed = {**_inserir_ra(street_leak, app_b), "submission": key}
    first = client.post("/registros/novo/", typed)
    again = client.post("/registros/novo/", typed)
    assert first.status_code == again.status_code == 302
    assert first.url == again.url
    assert Occurrence.objects.count() == 1
