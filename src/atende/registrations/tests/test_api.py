"""The Registro de Atendimento API: the app's report with its photo, the SMS gateway's
inbound webhook, opening with place and requesters, the duplicate check, requesters,
place, routing many — and nothing of one operator reachable from another."""

import base64
import json

import pytest
from django.test import Client

from atende.occurrences.models import Event, EventKind, Mode, Occurrence
from atende.registrations.models import Place, RegistrationSettings
from atende.registrations.services import sms_token_new
from atende.registrations.tests.conftest import ADDRESS, HERE, NEAR
from atende.registrations.tests.test_services import PNG
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.factories import UnitFactory

pytestmark = pytest.mark.django_db


def app_client(application, scopes=(Scope.OCCURRENCES_WRITE, Scope.OCCURRENCES_READ)):
    _, plain = api_token_create(application=application, name="App", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def post_json(client, url, body, method="post"):
    return getattr(client, method)(url, json.dumps(body), content_type="application/json")


def test_the_app_sends_a_report_with_its_photo(app_b, street_leak):
    photo = ("vazamento.png", PNG, "image/png")
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = app_client(app_b).post(
        "/api/v1/registrations/reports",
        {
            "subject_id": street_leak.pk,
            "description": "Água jorrando na calçada",
            "phone": "(31) 98888-7777",
            "latitude": str(HERE["latitude"]),
            "longitude": str(HERE["longitude"]),
            "photo": SimpleUploadedFile(*photo),
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["mode"] == "rascunho"
    draft = Occurrence.objects.get(protocol=body["protocol"])
    assert draft.mode == Mode.DRAFT and draft.channel == "appMobile"
    assert draft.attachments.get().name == "vazamento.png"
    assert Place.objects.get(occurrence=draft).latitude == HERE["latitude"]
    assert draft.requesters.get().phone == "+5531988887777"


def test_a_report_is_refused_with_the_field_named(app_b, street_leak, app_a, catalog_a):
    client = app_client(app_b)
    response = client.post(
        "/api/v1/registrations/reports",
        {"subject_id": street_leak.pk, "description": "x", "phone": "123"},
    )
    assert response.status_code == 400
    assert "phone" in response.json()["errors"]
    # Another operator's app does not see this operator's specifications.
    response = app_client(app_a).post(
        "/api/v1/registrations/reports",
        {"subject_id": street_leak.pk, "description": "x", "phone": "31988887777"},
    )
    assert response.status_code == 400
    assert "subject_id" in response.json()["errors"]
    assert not Occurrence.objects.exists()


def test_an_inbound_sms_becomes_a_draft_with_its_number(water, operator_b):
    config = RegistrationSettings.objects.get(operator=operator_b)
    token = sms_token_new(config=config)
    gateway = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = post_json(
        gateway,
        "/api/v1/registrations/sms",
        {"from": "+55 31 97777-6666", "text": "Vazamento na Rua da Bahia 100, Centro"},
    )
    assert response.status_code == 201, response.content
    draft = Occurrence.objects.get(protocol=response.json()["protocol"])
    assert (draft.mode, draft.channel, draft.occurrence_type) == (Mode.DRAFT, "sms", water)
    assert draft.description == "Vazamento na Rua da Bahia 100, Centro"
    assert draft.requesters.get().phone == "+5531977776666"
    # A wrong or old token is refused.
    sms_token_new(config=config)
    again = post_json(gateway, "/api/v1/registrations/sms", {"from": "31977776666", "text": "x"})
    assert again.status_code == 401
    assert Occurrence.objects.count() == 1


def test_an_attendant_opens_a_registration_and_reads_it(
    street_leak, attendant_water, app_b, field_unit
):
    client = signed_in(attendant_water)
    response = post_json(
        client,
        "/api/v1/registrations",
        {
            "application_id": app_b.pk,
            "subject_id": street_leak.pk,
            "description": "Vazamento grande",
            "place": {**ADDRESS, **HERE, "property_registration": "123"},
            "requesters": [{"name": "Joana", "phone": "31988887777"}],
            "document": {"name": "foto.png", "content_base64": base64.b64encode(PNG).decode()},
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["unit"] == field_unit.name
    assert body["place"]["postal_code"] == "30130005"
    assert body["requesters"][0]["phone"] == "+5531988887777"
    protocol = body["protocol"]

    duplicates = client.get(
        "/api/v1/registrations/duplicates",
        {"subject_id": street_leak.pk, **{k: str(v) for k, v in NEAR.items()}},
    )
    assert duplicates.status_code == 200, duplicates.content
    assert [(m["protocol"], m["reason"], round(m["distance_m"])) for m in duplicates.json()] == [
        (protocol, "near", 40)
    ]

    added = post_json(
        client,
        f"/api/v1/registrations/{protocol}/requesters",
        {"name": "Vizinho", "phone": "31933334444"},
    )
    assert added.status_code == 201, added.content
    changed = post_json(
        client,
        f"/api/v1/registrations/{protocol}/requesters/{added.json()['id']}",
        {"name": "Vizinho do 12", "phone": "31933334444"},
        method="put",
    )
    assert changed.status_code == 200 and changed.json()["name"] == "Vizinho do 12"
    moved = post_json(
        client,
        f"/api/v1/registrations/{protocol}/place",
        {**ADDRESS, "number": "1300"},
        method="put",
    )
    assert moved.status_code == 200 and moved.json()["number"] == "1300"
    read = client.get(f"/api/v1/registrations/{protocol}").json()
    assert [r["name"] for r in read["requesters"]] == ["Joana", "Vizinho do 12"]
    shortage = street_leak.occurrence_type.subjects.get(name="Falta de água")
    general = post_json(
        client,
        f"/api/v1/registrations/{protocol}",
        {"subject_id": shortage.pk, "description": "Falta de água no prédio"},
        method="put",
    )
    assert general.status_code == 200, general.content
    assert general.json()["specification"] == "Falta de água"
    other_type = post_json(
        client,
        f"/api/v1/registrations/{protocol}",
        {"subject_id": street_leak.pk + 1000, "description": "x"},
        method="put",
    )
    assert other_type.status_code == 400
    occurrence = Occurrence.objects.get(protocol=protocol)
    assert list(
        Event.objects.filter(occurrence=occurrence).order_by("seq").values_list("kind", flat=True)
    ) == ["created", "attachment", "requester", "requester", "edited", "edited"]
    assert Place.objects.get(occurrence=occurrence).subject == shortage


def test_routing_many_through_the_api(
    street_leak, supervisor_water, app_b, operator_b, attendant_a
):
    client = signed_in(supervisor_water)
    protocols = []
    body = {
        "application_id": app_b.pk,
        "subject_id": street_leak.pk,
        "description": "Vazamento",
        "place": ADDRESS,
        "requesters": [{"phone": "31988887777"}],
    }
    for _ in range(3):
        response = post_json(
            client, "/api/v1/registrations", {**body, "open_anyway": bool(protocols)}
        )
        assert response.status_code == 201, response.content
        protocols.append(response.json()["protocol"])
    # The duplicate check comes first: the same address answers 409 with the matches.
    offered = post_json(client, "/api/v1/registrations", body)
    assert offered.status_code == 409
    assert offered.json()["code"] == "possible_duplicates"
    assert {m["protocol"] for m in offered.json()["matches"]} == set(protocols)
    assert {m["reason"] for m in offered.json()["matches"]} == {"address"}
    assert Occurrence.objects.count() == 3
    night = UnitFactory(operator=operator_b, name="Plantão")
    missing = post_json(
        client,
        "/api/v1/registrations/route",
        {"protocols": protocols, "unit_id": night.pk, "opinion": ""},
    )
    assert missing.status_code == 400
    assert Event.objects.filter(kind=EventKind.ROUTED).count() == 0
    done = post_json(
        client,
        "/api/v1/registrations/route",
        {"protocols": protocols, "unit_id": night.pk, "opinion": "Plantão atende"},
    )
    assert done.status_code == 200, done.content
    assert done.json() == {"routed": 3}
    read = client.get(f"/api/v1/registrations/{protocols[0]}").json()
    assert read["routings"][0]["to_unit"] == "Plantão"
    assert read["routings"][0]["opinion"] == "Plantão atende"
    # Another operator's attendant finds none of them.
    other = signed_in(attendant_a)
    assert other.get(f"/api/v1/registrations/{protocols[0]}").status_code == 404
    refused = post_json(
        other,
        "/api/v1/registrations/route",
        {"protocols": protocols[:1], "unit_id": night.pk, "opinion": "x"},
    )
    assert refused.status_code == 400


def test_the_commercial_system_loads_the_billing_situation(
    app_b, operator_b, water, attendant_water
):
    from atende.registrations.models import PropertyAccount

    client = app_client(app_b, scopes=(Scope.PROPERTIES_WRITE,))
    body = {"properties": [{"property_registration": "77", "debtor": True}]}
    response = post_json(client, "/api/v1/registrations/properties", body, method="put")
    assert response.status_code == 200, response.content
    assert response.json() == {"stored": 1}
    assert PropertyAccount.objects.get(operator=operator_b, property_registration="77").debtor
    without_scope = app_client(app_b, scopes=(Scope.OCCURRENCES_WRITE,))
    assert (
        post_json(without_scope, "/api/v1/registrations/properties", body, method="put").status_code
        == 403
    )
    person = signed_in(attendant_water)
    assert (
        post_json(person, "/api/v1/registrations/properties", body, method="put").status_code == 403
    )


def test_the_generic_occurrence_endpoint_sends_registrations_to_their_own(app_b, water):
    response = post_json(
        app_client(app_b),
        "/api/v1/occurrences",
        {"occurrence_type_id": water.pk, "channel": "appMobile", "description": "x"},
    )
    assert response.status_code == 400
    assert "/api/v1/registrations" in response.json()["errors"]["occurrence_type"][0]
    assert not Occurrence.objects.exists()


def test_a_retried_opening_answers_its_protocol_not_the_duplicate_check(street_leak, app_b):
    """The first copy's registration is at the same place: without its key the retry would
    be offered it as a possible duplicate (409); with it, the retry gets its protocol."""
    _, plain = api_token_create(
        application=app_b, name="App", scopes=[Scope.OCCURRENCES_WRITE, Scope.OCCURRENCES_READ]
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_IDEMPOTENCY_KEY="ra-2026-0001")
    body = {
        "subject_id": street_leak.pk,
        "description": "Vazamento na calçada",
        "place": {**ADDRESS, **HERE},
        "requesters": [{"name": "Joana", "phone": "31988887777"}],
    }
    first = post_json(client, "/api/v1/registrations", body)
    assert first.status_code == 201, first.content

    again = post_json(client, "/api/v1/registrations", body)

    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Occurrence.objects.filter(subject=street_leak).count() == 1
    other = post_json(client, "/api/v1/registrations", {**body, "description": "Outro"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
