"""The phone system's screen pop: scope, tenancy, naming the attendant, and the call
offered on the attendant's panel until it is registered or missed."""

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from atende.callcenter.models import Call
from atende.callcenter.selectors import calls_missed, calls_waiting
from atende.callcenter.services import contact_start
from atende.tenancy.models import Membership, Scope
from atende.tenancy.services import api_token_create

pytestmark = pytest.mark.django_db


def phone_system(application, scopes=(Scope.CALLS_WRITE,)):
    _, plain = api_token_create(application=application, name="PABX", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def announce(client, **body):
    return client.post("/api/v1/calls", json.dumps(body), content_type="application/json")


def test_a_call_is_announced_to_the_attendant_by_email(app_a, attendant_a):
    response = announce(
        phone_system(app_a),
        caller_number="(11) 98765-4321",
        ivr_code="C-100",
        attendant_email="ATENDENTE@a.example",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["caller_number"] == "+5511987654321"
    assert body["attendant_email"] == attendant_a.email
    assert body["channel"] == "telefone"
    assert [c.pk for c in calls_waiting(attendant_a)] == [body["id"]]


def test_a_call_is_announced_by_extension(app_a, attendant_a, operator_a):
    Membership.objects.filter(user=attendant_a, operator=operator_a).update(extension="2001")
    response = announce(phone_system(app_a), extension="2001", channel="whatsapp")
    assert response.status_code == 201, response.content
    assert Call.objects.get().attendant == attendant_a


def test_the_scope_is_required(app_a, attendant_a):
    response = announce(
        phone_system(app_a, scopes=[Scope.OCCURRENCES_WRITE]), attendant_email=attendant_a.email
    )
    assert response.status_code == 403
    assert not Call.objects.exists()


def test_an_attendant_of_another_operator_cannot_be_named(app_b, attendant_a):
    response = announce(phone_system(app_b), attendant_email=attendant_a.email)
    assert response.status_code == 400
    assert "attendant" in json.dumps(response.json())
    assert not Call.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"attendant_email": "nobody@a.example"},
        {"attendant_email": "atendente@a.example", "caller_number": "12"},
        {"attendant_email": "atendente@a.example", "channel": "pombo"},
    ],
)
def test_bad_announcements_are_refused_with_a_message(app_a, attendant_a, body):
    response = announce(phone_system(app_a), **body)
    assert response.status_code in (400, 422)
    assert response.json()["message"]
    assert not Call.objects.exists()


def test_no_token_no_call():
    response = Client().post("/api/v1/calls", "{}", content_type="application/json")
    assert response.status_code == 401


def test_a_call_waits_until_registered_or_missed(
    app_a, attendant_a, supervisor_a, operator_a, call_center_a, card_a
):
    announce(phone_system(app_a), ivr_code="C-100", attendant_email=attendant_a.email)
    call = Call.objects.get()
    later = timezone.now() + timedelta(seconds=121)
    assert calls_waiting(attendant_a) == [call]
    assert calls_waiting(supervisor_a) == []
    assert calls_waiting(attendant_a, now=later) == []
    assert list(calls_missed([operator_a.pk], now=later)) == [call]
    contact_start(
        user=attendant_a,
        attendant_operator_id=operator_a.pk,
        operator_id=operator_a.pk,
        card="C-100",
        call=call,
    )
    assert calls_waiting(attendant_a) == []
    assert list(calls_missed([operator_a.pk], now=later)) == []


def test_the_manifestation_is_read_through_the_occurrence_api(
    app_a, attendant_a, operator_a, call_center_a, card_a, group_a
):
    from atende.callcenter.selectors import contact_items
    from atende.callcenter.services import manifestation_record
    from atende.callcenter.tests.conftest import manifestation_values

    contact = contact_start(
        user=attendant_a,
        attendant_operator_id=operator_a.pk,
        operator_id=operator_a.pk,
        card="C-100",
    )
    occurrence = contact_items(contact)[0].occurrence
    values = manifestation_values(
        operator_a,
        group_a,
        observation="Retornar à tarde",
        guides=[{"number": "4455", "kind": "sp_sadt", "password": "SEGREDO"}],
    )
    manifestation_record(user=attendant_a, contact=contact, occurrence_id=occurrence.pk, **values)
    reader = phone_system(app_a, scopes=[Scope.OCCURRENCES_READ])
    body = reader.get(f"/api/v1/occurrences/{occurrence.protocol}").json()
    manifestation = body["manifestation"]
    assert manifestation["subcategory"]["id"] == values["classification"]
    assert manifestation["procedure_group"]["name"] == "Consultas"
    assert manifestation["priority"]["id"] == values["priority"]
    assert manifestation["observation"] == "Retornar à tarde"
    assert manifestation["guides"] == [{"number": "4455", "kind": "sp_sadt"}]
    assert "SEGREDO" not in json.dumps(body)
    listed = reader.get("/api/v1/occurrences").json()["items"]
    assert [o["manifestation"]["category"]["name"] for o in listed] == [
        manifestation["category"]["name"]
    ]
