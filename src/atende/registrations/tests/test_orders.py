"""Service orders of a registration (issue 21): created from the specification's service
types, worked by the executing unit through their states, each change an event of the
registration; the registration does not close as attended while one is open, and closing
it as not attended closes them as not executed."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from atende.catalog.models import Closing
from atende.occurrences.models import Event, EventKind, State
from atende.occurrences.services import (
    NotAllowed,
    actor_for_user,
    occurrence_close,
    occurrence_start_attendance,
)
from atende.registrations.models import OrderOutcome, OrderState, ServiceOrder, ServiceType
from atende.registrations.services import order_create, order_move
from atende.registrations.tests.test_services import opened
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def repair(street_leak):
    return ServiceType.objects.get(subject=street_leak, name="Reparo de rede")


@pytest.fixture
def crew(operator_b, field_unit):
    """A person of the executing unit, who does not work the desk's registrations."""
    membership = MembershipFactory(operator=operator_b, role=Role.ATTENDANT)
    membership.units.add(field_unit)
    return membership.user


def registration_at_desk(actor, app_b, street_leak, desk_unit):
    occurrence = opened(actor, app_b, street_leak, place={"street": "Rua X", "city": "Contagem"})
    assert occurrence.unit == desk_unit or occurrence.unit is not None
    return occurrence


def close(actor, occurrence, closing):
    occurrence_close(
        actor=actor,
        occurrence=occurrence,
        status=occurrence.occurrence_type.statuses.get(closing=closing),
        outcome_text="Encerrado",
        expected_version=None,
    )


def test_an_order_goes_through_its_states_as_events_of_the_registration(
    street_leak, repair, attendant_water, crew, operator_b, app_b, field_unit, shortage
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    order = order_create(actor=actor, occurrence=occurrence, service_type=repair)
    assert (order.number, order.unit, order.state) == (1, field_unit, OrderState.PENDING)
    other_spec = ServiceType.objects.create(
        operator=operator_b, subject=shortage, name="Caminhão-pipa", default_unit=field_unit
    )
    with pytest.raises(ValidationError):
        order_create(actor=actor, occurrence=occurrence, service_type=other_spec)

    worker = actor_for_user(user=crew, operator=operator_b)
    with pytest.raises(ValidationError) as refused:
        order_move(actor=worker, order=order, state=OrderState.RELEASE)
    assert "Pendente" in refused.value.messages[0]
    with pytest.raises(ValidationError):
        order_move(
            actor=worker, order=order, state=OrderState.CLOSED, outcome="executada", opinion="x"
        )
    order = order_move(actor=worker, order=order, state=OrderState.RUNNING)
    order = order_move(actor=worker, order=order, state=OrderState.RELEASE)
    with pytest.raises(ValidationError) as refused:
        order_move(actor=worker, order=order, state=OrderState.CLOSED, outcome="executada")
    assert "opinion" in refused.value.message_dict
    order = order_move(
        actor=worker,
        order=order,
        state=OrderState.CLOSED,
        outcome=OrderOutcome.EXECUTED,
        opinion="Trecho de 2 m substituído",
    )
    assert (order.state, order.outcome, order.version) == (OrderState.CLOSED, "executada", 4)
    events = Event.objects.filter(occurrence=occurrence, kind=EventKind.SERVICE_ORDER).order_by(
        "seq"
    )
    assert [e.payload["state"] for e in events] == [
        "pendente",
        "em_execucao",
        "aguardando_liberacao",
        "encerrada",
    ]
    assert events.last().actor == crew
    assert events.last().payload["opinion"] == "Trecho de 2 m substituído"


def test_another_units_person_does_not_work_the_order(
    street_leak, repair, attendant_water, operator_b, app_b, desk_unit
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    order = order_create(
        actor=actor, occurrence=opened(actor, app_b, street_leak), service_type=repair
    )
    desk = MembershipFactory(operator=operator_b, role=Role.ATTENDANT)
    desk.units.add(desk_unit)
    with pytest.raises(NotAllowed):
        order_move(
            actor=actor_for_user(user=desk.user, operator=operator_b),
            order=order,
            state=OrderState.RUNNING,
        )
    assert ServiceOrder.objects.get().state == OrderState.PENDING


def test_an_open_order_blocks_closing_as_attended_and_not_attended_closes_it(
    street_leak, repair, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    order_create(actor=actor, occurrence=occurrence, service_type=repair)
    second = order_create(actor=actor, occurrence=occurrence, service_type=repair)
    order_move(actor=actor, order=second, state=OrderState.RUNNING)
    occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=None)
    with pytest.raises(ValidationError) as refused:
        close(actor, occurrence, Closing.RESOLVED)
    assert refused.value.messages == [
        "Encerre antes as ordens de serviço abertas: OS 1 (Reparo de rede), OS 2 (Reparo de rede)."
    ]
    occurrence.refresh_from_db()
    assert occurrence.state != State.CLOSED
    close(actor, occurrence, Closing.CLOSED)
    assert set(ServiceOrder.objects.values_list("state", "outcome")) == {
        (OrderState.CLOSED, OrderOutcome.NOT_EXECUTED)
    }
    closing = Event.objects.get(occurrence=occurrence, kind=EventKind.CLOSED)
    assert "OS 1 (Reparo de rede), OS 2 (Reparo de rede)" in closing.payload["summary"]


def test_the_screens_create_and_work_an_order(
    street_leak, repair, attendant_water, crew, operator_b, app_b, attendant_a, catalog_a
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    desk = Client()
    desk.force_login(attendant_water)
    created = desk.post(
        f"/registros/{occurrence.protocol}/ordens/",
        {"service_type": repair.pk, "priority": 3, "scheduled_for": "2026-12-07"},
    )
    assert created.status_code == 204
    order = ServiceOrder.objects.get()
    assert order.priority == 3 and str(order.scheduled_for) == "2026-12-07"

    field = Client()
    field.force_login(crew)
    queue = field.get("/registros/ordens-de-servico/").content.decode()
    assert f"{occurrence.protocol} · OS 1" in queue
    page = field.get(f"/registros/ordens-de-servico/{order.pk}/").content.decode()
    assert "Iniciar execução" in page
    moved = field.post(
        f"/registros/ordens-de-servico/{order.pk}/", {"version": 1, "state": "em_execucao"}
    )
    assert moved.status_code == 302
    stale = field.post(
        f"/registros/ordens-de-servico/{order.pk}/", {"version": 1, "state": "aguardando_liberacao"}
    )
    assert stale.status_code == 302
    assert ServiceOrder.objects.get().state == OrderState.RUNNING  # the stale move refused
    refused = field.post(
        f"/registros/ordens-de-servico/{order.pk}/",
        {"version": 2, "state": "encerrada", "outcome": "executada", "opinion": ""},
    )
    assert refused.status_code == 400
    # Another operator's attendant finds nothing.
    other = Client()
    other.force_login(attendant_a)
    assert other.get(f"/registros/ordens-de-servico/{order.pk}/").status_code == 404
    assert "OS 1" not in other.get("/registros/ordens-de-servico/").content.decode()


def test_the_api_creates_and_moves_an_order(
    street_leak, repair, attendant_water, crew, operator_b, app_b
):
    import json

    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    desk = Client()
    desk.force_login(attendant_water)
    created = desk.post(
        f"/api/v1/registrations/{occurrence.protocol}/orders",
        json.dumps({"service_type_id": repair.pk, "priority": 4}),
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["number"] == 1 and created.json()["state"] == "pendente"
    field = Client()
    field.force_login(crew)
    url = f"/api/v1/registrations/{occurrence.protocol}/orders/1/state"

    def move(client, **body):
        return client.post(url, json.dumps(body), content_type="application/json")

    assert move(field, state="em_execucao", version=1).status_code == 200
    stale = move(field, state="aguardando_liberacao", version=1)
    assert stale.status_code == 409 and stale.json()["current_version"] == 2
    wrong = move(field, state="pendente", version=2)
    assert wrong.status_code == 200  # back one step is allowed
    skipped = move(field, state="aguardando_liberacao")
    assert skipped.status_code == 400
    listed = desk.get(f"/api/v1/registrations/{occurrence.protocol}/orders").json()
    assert [(o["number"], o["state"], o["priority"]) for o in listed] == [(1, "pendente", 4)]


def test_reactivation_copies_place_requesters_and_attachments(
    street_leak, attendant_water, supervisor_water, operator_b, app_b, gateway
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from atende.notifications.services import deliveries_drain
    from atende.occurrences.models import Occurrence
    from atende.registrations.models import Place
    from atende.registrations.services import registration_reactivate, requester_add
    from atende.registrations.tests.conftest import sms_sent
    from atende.registrations.tests.test_services import PNG, attended

    actor = actor_for_user(user=attendant_water, operator=operator_b)
    closed = opened(
        actor, app_b, street_leak, document=SimpleUploadedFile("foto.png", PNG, "image/png")
    )
    requester_add(
        actor=actor, occurrence=closed, values={"name": "Vizinho", "phone": "31933334444"}
    )
    attended(actor, Occurrence.objects.get(pk=closed.pk))
    with pytest.raises(NotAllowed):
        registration_reactivate(actor=actor, occurrence=closed, reason="Voltou a vazar")
    while deliveries_drain():
        pass
    gateway.requests.clear()
    supervisor = actor_for_user(user=supervisor_water, operator=operator_b)
    created = registration_reactivate(
        actor=supervisor, occurrence=Occurrence.objects.get(pk=closed.pk), reason="Voltou a vazar"
    )
    assert created.parent_id == closed.pk and created.protocol != closed.protocol
    assert created.state == State.NEW and created.description == "Voltou a vazar"
    old_place, new_place = (Place.objects.get(occurrence=o) for o in (closed, created))
    assert (new_place.address_key, new_place.latitude) == (
        old_place.address_key,
        old_place.latitude,
    )
    assert [r.phone for r in created.requesters.order_by("pk")] == [
        "+5531988887777",
        "+5531933334444",
    ]
    copy = created.attachments.get()
    assert copy.name == "foto.png" and copy.file.read() == PNG
    closed.refresh_from_db()
    assert closed.state == State.CLOSED
    deliveries_drain()
    text = f"Operadora B: sua solicitação foi registrada sob o protocolo {created.protocol}."
    assert sorted(sms_sent(gateway)) == [("+5531933334444", text), ("+5531988887777", text)]


def test_the_panel_offers_reactivation_to_supervisors_only(
    street_leak, attendant_water, supervisor_water, operator_b, app_b
):
    from atende.occurrences.models import Occurrence
    from atende.registrations.tests.test_services import attended

    actor = actor_for_user(user=attendant_water, operator=operator_b)
    closed = opened(actor, app_b, street_leak)
    attended(actor, closed)
    desk = Client()
    desk.force_login(attendant_water)
    assert (
        "Reativar o registro"
        not in desk.get(f"/registros/{closed.protocol}/painel/").content.decode()
    )
    refused = desk.post(f"/registros/{closed.protocol}/reativar/", {"version": 99, "reason": "x"})
    assert refused.status_code == 400
    boss = Client()
    boss.force_login(supervisor_water)
    assert (
        "Reativar o registro" in boss.get(f"/registros/{closed.protocol}/painel/").content.decode()
    )
    version = Occurrence.objects.get(pk=closed.pk).version
    done = boss.post(
        f"/registros/{closed.protocol}/reativar/", {"version": version, "reason": "Voltou"}
    )
    assert done.status_code == 204
    created = Occurrence.objects.get(parent=closed)
    assert done["HX-Redirect"] == f"/painel/{created.protocol}/"


def test_the_configurator_keeps_the_service_types(
    street_leak, operator_b, field_unit, water, attendant_water
):
    configurator = MembershipFactory(operator=operator_b, role=Role.CONFIGURATOR).user
    client = Client()
    client.force_login(configurator)
    url = f"/configuracao/{operator_b.pk}/registros/servicos/"
    saved = client.post(
        url,
        {
            "subject": street_leak.pk,
            "name": "Troca de hidrômetro",
            "default_unit": field_unit.pk,
            "expected_hours": 4,
        },
    )
    assert saved.status_code == 302
    made = ServiceType.objects.get(name="Troca de hidrômetro")
    assert made.operator == operator_b and made.expected_hours == 4
    refused = client.post(
        url,
        {"subject": street_leak.pk, "name": "", "default_unit": field_unit.pk, "expected_hours": 4},
    )
    assert refused.status_code == 400
    assert client.post(url, {"deactivate": made.pk}).status_code == 302
    made.refresh_from_db()
    assert not made.is_active
    # An attendant is no configurator.
    desk = Client()
    desk.force_login(attendant_water)
    assert desk.get(url).status_code == 404


def test_another_operator_reaches_no_order(
    street_leak, repair, attendant_water, operator_b, app_b, attendant_a, catalog_a
):
    import json

    actor = actor_for_user(user=attendant_water, operator=operator_b)
    occurrence = opened(actor, app_b, street_leak)
    order_create(actor=actor, occurrence=occurrence, service_type=repair)
    other = Client()
    other.force_login(attendant_a)
    base = f"/api/v1/registrations/{occurrence.protocol}/orders"
    assert other.get(base).status_code == 404
    assert (
        other.post(
            base, json.dumps({"service_type_id": repair.pk}), content_type="application/json"
        ).status_code
        == 404
    )
    moved = other.post(
        f"{base}/1/state", json.dumps({"state": "em_execucao"}), content_type="application/json"
    )
    assert moved.status_code == 404
    assert (
        other.post(
            f"/registros/{occurrence.protocol}/ordens/", {"service_type": repair.pk}
        ).status_code
        == 404
    )
    assert ServiceOrder.objects.get().state == OrderState.PENDING
