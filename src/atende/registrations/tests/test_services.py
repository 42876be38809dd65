"""Registro de Atendimento through its services: reports into the intake queue, the
duplicate check, attaching, requesters and their SMS, locality rules, routing."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from atende.catalog.models import Closing
from atende.notifications.models import Delivery, DeliveryState
from atende.notifications.services import deliveries_drain
from atende.occurrences.models import Event, EventKind, Mode, Occurrence, State
from atende.occurrences.services import (
    actor_for_user,
    occurrence_close,
    occurrence_discard,
    occurrence_route,
    occurrence_start_attendance,
)
from atende.registrations.models import LocalityRule, Place, Requester, RequesterKind
from atende.registrations.selectors import distance_m, duplicates_find, related_of
from atende.registrations.services import (
    draft_attach,
    draft_promote,
    place_clean,
    place_update,
    registration_open,
    registrations_route,
    report_receive,
    requester_add,
    requester_update,
)
from atende.registrations.tests.conftest import ADDRESS, FAR, HERE, NEAR, sms_sent
from atende.reports.params import ReportParams
from atende.reports.writer import report_write
from atende.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00"
    b"\x00\x00\x00IEND\xaeB`\x82"
)


def opened(actor, app, subject, *, place=None, phone="31988887777", **extra):
    return registration_open(
        actor=actor,
        application=app,
        occurrence_type=subject.occurrence_type,
        subject=subject,
        channel="telefone",
        description="Água correndo na rua",
        place=place if place is not None else {**ADDRESS, **HERE},
        requesters=[{"name": "Joana Lima", "phone": phone}],
        **extra,
    )


def attended(actor, occurrence, text="Reparo executado"):
    """Worked and closed as resolved (the attendance starts first)."""
    occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=None)
    occurrence_close(
        actor=actor,
        occurrence=occurrence,
        status=occurrence.occurrence_type.statuses.get(closing=Closing.RESOLVED),
        outcome_text=text,
        expected_version=None,
    )


def report(app, subject, *, phone, place=None, photo=None):
    return report_receive(
        application=app,
        subject=subject,
        description="Vazamento na calçada",
        phone=phone,
        place=place if place is not None else {**ADDRESS, **NEAR},
        photo=photo,
    )


# --- The place -------------------------------------------------------------------------


def test_the_place_is_checked_field_by_field():
    with pytest.raises(ValidationError) as refused:
        place_clean(
            {
                "street": "Rua A",
                "city": "BH",
                "postal_code": "123",
                "latitude": "91",
                "longitude": "x",
            },
            required=True,
        )
    assert set(refused.value.message_dict) == {"postal_code", "latitude", "longitude"}
    with pytest.raises(ValidationError) as refused:
        place_clean({"neighbourhood": "Centro"}, required=True)
    assert "street" in refused.value.message_dict
    assert (
        place_clean({"latitude": "-19,9", "longitude": "-43.9"}, required=True)["latitude"] == -19.9
    )
    assert place_clean({"postal_code": "30130-005"}, required=False)["postal_code"] == "30130005"


def test_haversine_distance_is_in_metres():
    assert distance_m(HERE["latitude"], HERE["longitude"], NEAR["latitude"], NEAR["longitude"]) == (
        pytest.approx(40, abs=1)
    )


# --- Opening ---------------------------------------------------------------------------


def test_opening_stores_place_and_requesters_and_sends_the_protocol(
    street_leak, attendant_water, operator_b, app_b, gateway
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    assert occurrence.mode == Mode.ACTIVE
    place = Place.objects.get(occurrence=occurrence)
    assert place.subject_id == street_leak.pk
    assert place.address_key == "avenida afonso pena|1212|belo horizonte"
    assert occurrence.requesters.get().phone == "+5531988887777"
    assert occurrence.contact_phone == "+5531988887777"
    deliveries_drain()
    assert sms_sent(gateway) == [
        (
            "+5531988887777",
            f"Operadora B: sua solicitação foi registrada sob o protocolo {occurrence.protocol}.",
        )
    ]


def test_a_type_without_place_takes_no_registration(catalog_b, attendant_water, operator_b, app_b):
    account = catalog_b["Segunda via de conta"]
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    with pytest.raises(ValidationError) as refused:
        registration_open(
            actor=actor,
            application=app_b,
            occurrence_type=account,
            subject=account.subjects.first(),
            channel="telefone",
            description="x",
            place=ADDRESS,
            requesters=[{"phone": "31988887777"}],
        )
    assert "occurrence_type" in refused.value.message_dict
    assert not Occurrence.objects.exists()


def test_the_locality_rule_picks_the_unit_else_the_specification_default(
    street_leak, attendant_water, operator_b, app_b, field_unit, desk_unit, shortage
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    elsewhere = UnitFactory(operator=operator_b, name="Regional Pampulha")
    LocalityRule.objects.create(
        operator=operator_b,
        subject=street_leak,
        city="belo horizonte",
        neighbourhood="PAMPULHA",
        unit=elsewhere,
    )
    in_pampulha = opened(actor, app_b, street_leak, place={**ADDRESS, "neighbourhood": "Pampulha"})
    assert in_pampulha.unit == elsewhere
    in_centre = opened(actor, app_b, street_leak)
    assert in_centre.unit == field_unit  # the rule for Centro (preset)
    # No rule for this specification: its responsible unit, and its own deadline (2 days).
    dry = opened(actor, app_b, shortage)
    assert dry.unit == desk_unit
    assert dry.sla_due_at == dry.registered_at + timedelta(days=2)


def test_a_required_document_is_asked_at_opening(street_leak, attendant_water, operator_b, app_b):
    street_leak.required_document = "Documento de identidade"
    street_leak.save()
    operator_b.refresh_from_db()
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    with pytest.raises(ValidationError) as refused:
        opened(actor, app_b, street_leak)
    assert "Documento de identidade" in refused.value.message_dict["document"][0]
    occurrence = opened(
        actor, app_b, street_leak, document=SimpleUploadedFile("rg.png", PNG, "image/png")
    )
    assert occurrence.attachments.get().name == "rg.png"


# --- Intake and the duplicate check ----------------------------------------------------


def test_two_leak_reports_at_one_address_the_second_is_attached(
    street_leak, attendant_water, operator_b, app_b, gateway
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    first = report(app_b, street_leak, phone="31911112222", photo=SimpleUploadedFile("f.png", PNG))
    assert first.mode == Mode.DRAFT and first.channel == "appMobile"
    assert first.attachments.get().content_type == "image/png"
    deliveries_drain()
    assert sms_sent(gateway) == []  # a report is not yet a registration
    draft_promote(
        actor=actor,
        draft=first,
        subject=street_leak,
        place={**ADDRESS, **HERE},
        expected_version=first.version,
    )
    first.refresh_from_db()
    assert first.mode == Mode.ACTIVE

    second = report(
        app_b, street_leak, phone="31933334444", place={**NEAR, "city": "Belo Horizonte"}
    )
    matches = duplicates_find(
        operator_id=operator_b.pk,
        subject_id=street_leak.pk,
        place={"latitude": NEAR["latitude"], "longitude": NEAR["longitude"]},
    )
    assert [(m.occurrence.pk, m.reason, round(m.distance)) for m in matches] == [
        (first.pk, "near", 40)
    ]
    assert [r.phone for r in matches[0].requesters] == ["+5531911112222"]

    draft_attach(actor=actor, draft=second, target=first, expected_version=second.version)
    second.refresh_from_db()
    assert second.state == State.CLOSED and second.parent_id == first.pk
    assert second.status.closing == Closing.CLOSED
    assert [(r.phone, r.origin_id) for r in first.requesters.order_by("pk")] == [
        ("+5531911112222", None),
        ("+5531933334444", second.pk),
    ]
    assert Event.objects.filter(occurrence=first, kind=EventKind.REQUESTER).count() == 1
    deliveries_drain()
    text = "Operadora B: sua solicitação foi registrada sob o protocolo {}."
    assert sms_sent(gateway) == [
        ("+5531911112222", text.format(first.protocol)),
        ("+5531933334444", text.format(first.protocol)),
    ]
    # Analysed once: a second attach or discard is refused.
    with pytest.raises(ValidationError):
        occurrence_discard(actor=actor, draft=second, reason="x", expected_version=None)


def test_duplicates_by_property_and_address_come_before_distance(
    street_leak, shortage, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    near = opened(actor, app_b, street_leak, place={"street": "Rua X", "city": "BH", **NEAR})
    same_address = opened(actor, app_b, street_leak, place={**ADDRESS, **FAR})
    same_property = opened(
        actor,
        app_b,
        street_leak,
        place={"street": "Rua Y", "city": "BH", **FAR, "property_registration": "77"},
    )
    opened(actor, app_b, street_leak, place={"street": "Rua Z", "city": "BH", **FAR})  # far
    opened(actor, app_b, shortage, place={**ADDRESS, **HERE})  # another specification
    probe = {
        **ADDRESS,
        "number": " 1212 ",
        "street": "av. AFONSO pena",
        **HERE,
        "property_registration": "77",
    }
    probe["street"] = "Avenida Afonso Pena"
    matches = duplicates_find(operator_id=operator_b.pk, subject_id=street_leak.pk, place=probe)
    assert [(m.occurrence, m.reason) for m in matches] == [
        (same_property, "property"),
        (same_address, "address"),
        (near, "near"),
    ]
    # A closed registration is no duplicate; another operator's never.
    attended(actor, near)
    assert near not in [
        m.occurrence
        for m in duplicates_find(operator_id=operator_b.pk, subject_id=street_leak.pk, place=probe)
    ]
    assert (
        duplicates_find(operator_id=operator_b.pk + 1000, subject_id=street_leak.pk, place=probe)
        == []
    )


def test_a_discarded_report_closes_with_its_reason(street_leak, attendant_water, operator_b, app_b):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    draft = report(app_b, street_leak, phone="31911112222")
    with pytest.raises(ValidationError):
        occurrence_discard(actor=actor, draft=draft, reason="  ", expected_version=draft.version)
    occurrence_discard(actor=actor, draft=draft, reason="Trote", expected_version=draft.version)
    draft.refresh_from_db()
    assert draft.state == State.CLOSED and draft.outcome_text == "Trote"
    assert draft.mode == Mode.DRAFT


# --- Requesters, place, routing, closing ------------------------------------------------


def test_requesters_and_place_changes_are_events(
    street_leak, attendant_water, operator_b, app_b, desk_unit
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    unit_requester = requester_add(
        actor=actor, occurrence=occurrence, values={"kind": RequesterKind.UNIT, "unit": desk_unit}
    )
    assert str(unit_requester) == "Atendimento"
    person = occurrence.requesters.order_by("pk").first()
    requester_update(
        actor=actor, requester=person, values={"name": "Joana Lima Souza", "phone": "31988887777"}
    )
    with pytest.raises(ValidationError):
        requester_add(actor=actor, occurrence=occurrence, values={"email": "a@b.example"})
    place_update(actor=actor, occurrence=occurrence, values={**ADDRESS, "number": "1300"})
    events = list(
        Event.objects.filter(occurrence=occurrence, kind__in=["requester", "edited"]).order_by(
            "seq"
        )
    )
    assert [e.kind for e in events] == ["requester", "requester", "edited"]
    assert events[1].payload["changes"]["name"] == ["Joana Lima", "Joana Lima Souza"]
    assert events[2].payload["changes"]["number"] == ["1212", "1300"]
    assert events[2].payload["changes"]["latitude"] == [HERE["latitude"], None]
    assert Place.objects.get(occurrence=occurrence).address_key.startswith(
        "avenida afonso pena|1300"
    )
    with pytest.raises(ValidationError):
        place_update(actor=actor, occurrence=occurrence, values={**ADDRESS, "number": "1300"})


def test_a_batch_routing_writes_one_event_each_with_the_opinion(
    street_leak, supervisor_water, operator_b, app_b
):
    actor = actor_for_user(user=supervisor_water, operator=operator_b)
    three = [opened(actor, app_b, street_leak) for _ in range(3)]
    target = UnitFactory(operator=operator_b, name="Equipe Noturna")
    assert (
        registrations_route(
            actor=actor, occurrences=three, unit=target, opinion="Equipe de plantão verifica hoje"
        )
        == 3
    )
    routed = Event.objects.filter(kind=EventKind.ROUTED, occurrence__in=three)
    assert routed.count() == 3
    assert {(e.unit_after_id, e.payload["opinion"]) for e in routed} == {
        (target.pk, "Equipe de plantão verifica hoje")
    }
    # A registration's routing needs its opinion; all or none.
    with pytest.raises(ValidationError) as refused:
        occurrence_route(
            actor=actor,
            occurrence=three[0],
            unit=UnitFactory(operator=operator_b),
            expected_version=None,
        )
    assert "opinion" in refused.value.message_dict


def test_closing_as_attended_sends_one_sms_to_each_requester(
    street_leak, attendant_water, operator_b, app_b, gateway, desk_unit
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak, phone="31911112222")
    requester_add(
        actor=actor, occurrence=occurrence, values={"name": "Vizinho", "phone": "31933334444"}
    )
    # The same phone twice, and a unit without phone: each number told once.
    requester_add(
        actor=actor, occurrence=occurrence, values={"name": "Filha", "phone": "(31) 91111-2222"}
    )
    requester_add(actor=actor, occurrence=occurrence, values={"kind": "unit", "unit": desk_unit})
    deliveries_drain()
    gateway.requests.clear()
    attended(actor, Occurrence.objects.get(pk=occurrence.pk))
    deliveries_drain()
    text = f"{occurrence.protocol}: sua solicitação foi atendida com sucesso."
    assert sorted(sms_sent(gateway)) == [("+5531911112222", text), ("+5531933334444", text)]
    assert (
        Delivery.objects.filter(occurrence=occurrence, state=DeliveryState.DELIVERED).count() == 3
    )


def test_related_registrations_of_the_property_place_and_area(
    street_leak, attendant_water, operator_b, app_b
):
    from atende.occurrences.selectors import occurrences_visible_to

    actor = actor_for_user(user=attendant_water, operator=operator_b)
    place = {**ADDRESS, "property_registration": "55"}
    closed = opened(actor, app_b, street_leak, place=place)
    attended(actor, closed)
    neighbour = opened(actor, app_b, street_leak, place={**ADDRESS, "number": "1300"})
    current = opened(actor, app_b, street_leak, place=place)
    related = related_of(
        Place.objects.get(occurrence=current), visible=occurrences_visible_to(actors=[actor])
    )
    assert related.of_property == [closed]
    assert related.closed_here == [closed]
    assert related.open_in_area == [neighbour]


def test_the_report_lists_registrations_and_the_attached_report_under_its_registration(
    street_leak, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    registration = opened(actor, app_b, street_leak)
    draft = report(app_b, street_leak, phone="31933334444")
    draft_attach(actor=actor, draft=draft, target=registration, expected_version=None)
    today = timezone.localdate()
    out = io.StringIO(newline="")
    report_write(
        ReportParams(operator_id=operator_b.pk, application_id=app_b.pk, start=today, end=today),
        out,
    )
    rows = list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))
    heads = {row[1]: row for row in rows if row[0] == "01"}
    assert heads[registration.protocol][3] == ""
    assert heads[draft.protocol][3] == registration.protocol
    # The report's mode: 2 Ativo for the registration, 1 Rascunho for the citizen's report.
    assert heads[registration.protocol][27] == "2" and heads[draft.protocol][27] == "1"
    assert Requester.objects.filter(occurrence=registration).count() == 2


def test_a_debtor_propertys_registration_opens_in_the_billing_unit(
    street_leak, attendant_water, operator_b, app_b, field_unit
):
    from atende.registrations.models import BillingRule
    from atende.registrations.services import properties_load

    collection = UnitFactory(operator=operator_b, name="Cobrança")
    BillingRule.objects.create(operator=operator_b, subject=street_leak, unit=collection)
    assert properties_load(operator_id=operator_b.pk, rows=[("77", True), ("78", False)]) == 2
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    debtor = opened(actor, app_b, street_leak, place={**ADDRESS, "property_registration": "77"})
    assert debtor.unit == collection
    current = opened(actor, app_b, street_leak, place={**ADDRESS, "property_registration": "78"})
    assert current.unit == field_unit  # the locality rule
    # Paid since: the next load says so, and the locality applies again.
    properties_load(operator_id=operator_b.pk, rows=[("77", False)])
    paid = opened(actor, app_b, street_leak, place={**ADDRESS, "property_registration": "77"})
    assert paid.unit == field_unit


def test_no_entry_point_opens_a_registration_without_its_place(
    street_leak, attendant_water, operator_b, app_b
):
    """The rule is the creation service's: panel children, the API and reopen-as-new
    included; only the registrations' service says the place follows."""
    from atende.occurrences.services import occurrence_create, occurrence_create_child

    actor = actor_for_user(user=attendant_water, operator=operator_b)
    with pytest.raises(ValidationError) as refused:
        occurrence_create(
            actor=actor,
            application=app_b,
            occurrence_type=street_leak.occurrence_type,
            subject=street_leak,
            channel="telefone",
        )
    assert "Inserir RA" in refused.value.message_dict["occurrence_type"][0]
    registration = opened(actor, app_b, street_leak)
    with pytest.raises(ValidationError):
        occurrence_create_child(
            actor=actor, parent=registration, occurrence_type=street_leak.occurrence_type
        )
    assert Occurrence.objects.count() == 1
