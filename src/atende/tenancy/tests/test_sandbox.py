"""Sandbox and production never mix: a token of one instance of a bundle reaches nothing of
the other through any scope — occurrences, beneficiaries' views, or devices for push."""

import json

import pytest
from django.test import Client
from validate_docbr import CPF

from atende.catalog.models import ActionKind
from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.services import status_action_create
from atende.notifications.models import Delivery, PushTarget, Sender, SenderKind
from atende.occurrences.services import actor_for_user, occurrence_start_attendance
from atende.tenancy.models import Instance, Scope
from atende.tenancy.services import api_token_create
from atende.testing.factories import ApplicationFactory
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db

BENEFICIARY = CPF().generate()


@pytest.fixture
def sandbox(app_a):
    return ApplicationFactory(
        operator=app_a.operator, bundle=app_a.bundle, instance=Instance.SANDBOX
    )


@pytest.fixture
def instances(app_a, sandbox):
    return {"production": app_a, "sandbox": sandbox}


def token_client(application) -> Client:
    _, plain = api_token_create(application=application, name="app", scopes=Scope.values)
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


PAIRS = [("sandbox", "production"), ("production", "sandbox")]


@pytest.mark.parametrize(("caller", "owner"), PAIRS)
def test_occurrences_and_the_beneficiarys_view_stay_in_their_instance(
    instances, catalog_a, attendant_a, caller, owner
):
    occurrence = new_occurrence(
        user=attendant_a,
        application=instances[owner],
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier=BENEFICIARY,
    )
    client = token_client(instances[caller])
    p = occurrence.protocol
    # occurrences:read
    assert p not in client.get("/api/v1/occurrences").content.decode()
    for path in ("", "/events", "/attachments"):
        assert client.get(f"/api/v1/occurrences/{p}{path}").status_code == 404, path
    # occurrences:write
    for path, body in [
        ("/start-attendance", {"version": 1}),
        ("/notes", {"text": "nota"}),
        ("/release", {"version": 1}),
        ("/close", {"version": 1, "status_id": 1, "outcome_text": "x"}),
        ("/status", {"version": 1, "status_id": 1}),
        ("/reopen", {"version": 1}),
        ("/children", {"occurrence_type_id": occurrence.occurrence_type_id}),
    ]:
        response = client.post(
            f"/api/v1/occurrences/{p}{path}", json.dumps(body), content_type="application/json"
        )
        # Not found, or (person-only operations) refused to any token: never done.
        assert response.status_code in (403, 404), (path, response.content)
    # beneficiary:read
    listing = client.get(f"/api/v1/beneficiaries/{BENEFICIARY}/occurrences")
    assert listing.status_code == 200 and p not in listing.content.decode()
    one = client.get(f"/api/v1/beneficiaries/{BENEFICIARY}/occurrences/{p}")
    assert one.status_code == 404
    occurrence.refresh_from_db()
    assert (occurrence.version, occurrence.events.count()) == (1, 1)


@pytest.mark.parametrize(("caller", "owner"), PAIRS)
def test_devices_are_registered_removed_and_reached_within_one_instance(
    instances, operator_a, catalog_a, attendant_a, caller, owner
):
    device = {"beneficiary_identifier": BENEFICIARY, "kind": "fcm", "token": "device-1"}
    registered = token_client(instances[owner]).post(
        "/api/v1/push-targets", json.dumps(device), content_type="application/json"
    )
    assert registered.status_code == 201
    target = PushTarget.objects.get()
    assert target.application == instances[owner]

    # The other instance registering the same device gets a device of its own.
    other = token_client(instances[caller])
    again = other.post("/api/v1/push-targets", json.dumps(device), content_type="application/json")
    assert again.status_code == 201 and again.json()["id"] != target.pk
    assert other.delete(f"/api/v1/push-targets/{target.pk}").status_code == 404
    target.refresh_from_db()
    assert target.is_active

    # A status message of the caller's instance reaches only the caller's device.
    Sender.objects.create(operator=operator_a, kind=SenderKind.FCM, name="FCM", settings={})
    kind = catalog_a[REIMBURSEMENT]
    status_action_create(
        status=status_named(kind, "Em análise"),
        description="push",
        kind=ActionKind.PUSH,
        subject_template="{{ tipo }}",
        body_template="{{ status }}",
    )
    occurrence = new_occurrence(
        user=attendant_a,
        application=instances[caller],
        occurrence_type=kind,
        beneficiary_identifier=BENEFICIARY,
    )
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=operator_a),
        occurrence=occurrence,
        expected_version=1,
    )
    [delivery] = Delivery.objects.all()
    assert delivery.key.endswith(f":target:{again.json()['id']}")


def test_the_catalog_is_the_operators_for_both_instances(instances, catalog_a):
    # Configuration, not data: both instances of a bundle offer the same types.
    listings = [
        token_client(app).get("/api/v1/catalog/occurrence-types").json()
        for app in instances.values()
    ]
    assert listings[0] == listings[1] and listings[0]
