"""A creation asked twice creates once: an integrator's retry with the same Idempotency-Key
gets the protocol the first request issued, even when both copies arrive together."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from atende.catalog.presets import REIMBURSEMENT
from atende.notifications.models import Delivery
from atende.occurrences.models import CreationKey, Event, Occurrence
from atende.occurrences.services import (
    CREATION_KEY_KEPT,
    Submission,
    created_once,
    creation_keys_forget,
)
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.factories import ApplicationFactory
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

KEY = "5f0c6a0e-6c1e-4b8e-9a57-1d2c3b4a5e6f"


def token_for(application):
    _, plain = api_token_create(
        application=application,
        name="ERP",
        scopes=[Scope.OCCURRENCES_WRITE, Scope.OCCURRENCES_READ],
    )
    return plain


def create(plain, body, key=KEY):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {plain}"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return Client(**headers).post(
        "/api/v1/occurrences", json.dumps(body), content_type="application/json"
    )


@pytest.fixture
def body(catalog_a):
    reimbursement = catalog_a[REIMBURSEMENT]
    return {
        "occurrence_type_id": reimbursement.pk,
        "subject_id": reimbursement.subjects.first().pk,
        "beneficiary_identifier": "52998224725",
        "beneficiary_name": "Maria",
        "description": "Reembolso de consulta",
    }


@pytest.fixture
def plain(app_a):
    return token_for(app_a)


def test_a_retry_with_the_same_key_answers_the_first_protocol_and_creates_nothing(plain, body):
    first = create(plain, body)
    assert first.status_code == 201, first.content
    assert "Idempotent-Replayed" not in first
    deliveries = Delivery.objects.count()

    again = create(plain, body)

    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Occurrence.objects.count() == 1
    assert Event.objects.count() == 1
    assert Delivery.objects.count() == deliveries
    # The key as the IETF's header writes it, a quoted string, is the same key.
    assert create(plain, body, key=f'"{KEY}"').json()["protocol"] == first.json()["protocol"]
    assert Occurrence.objects.count() == 1


def test_without_a_key_or_with_another_key_each_request_creates(plain, body):
    protocols = {
        create(plain, body, key=None).json()["protocol"],
        create(plain, body, key=None).json()["protocol"],
        create(plain, body, key="outra-chave").json()["protocol"],
        create(plain, body).json()["protocol"],
    }
    assert len(protocols) == Occurrence.objects.count() == 4


def test_the_same_key_with_another_body_is_refused_and_changes_nothing(plain, body):
    first = create(plain, body)
    assert first.status_code == 201

    other = create(plain, {**body, "description": "Outro pedido"})

    assert other.status_code == 409, other.content
    assert other.json()["code"] == "idempotency_key_reused"
    assert other.json()["message"].startswith("Esta Idempotency-Key já foi usada")
    assert Occurrence.objects.get().description == "Reembolso de consulta"


def test_a_key_is_the_senders_own(plain, body, app_a, catalog_b, app_b):
    """Another application of the operator, or another operator's, may use the same key:
    each gets its own protocol, and never sees the other's."""
    ours = create(plain, body).json()
    sibling = ApplicationFactory(operator=app_a.operator)
    theirs = create(token_for(sibling), body).json()
    assert theirs["protocol"] != ours["protocol"]
    other_operator = create(
        token_for(app_b),
        {"occurrence_type_id": catalog_b["Segunda via de conta"].pk, "description": "Conta"},
    )
    assert other_operator.status_code == 201, other_operator.content
    assert other_operator.json()["protocol"] not in {ours["protocol"], theirs["protocol"]}
    assert Occurrence.objects.count() == 3


def test_a_refused_request_keeps_no_key_so_the_corrected_one_creates(plain, body):
    refused = create(plain, {**body, "beneficiary_identifier": "11111111111"})
    assert refused.status_code == 400
    assert not CreationKey.objects.exists()

    created = create(plain, {**body, "beneficiary_identifier": "529.982.247-25"})
    assert created.status_code == 201, created.content
    assert Occurrence.objects.count() == 1


@pytest.mark.parametrize("key", ["", "com espaço", "x" * 256, "ç"])
def test_a_malformed_key_is_a_422(plain, body, key):
    response = create(plain, body, key=key)
    assert response.status_code == 422, response.content
    assert "header.Idempotency-Key" in response.json()["errors"]
    assert not Occurrence.objects.exists()


def test_a_key_is_kept_for_a_day_then_forgotten(plain, body):
    first = create(plain, body).json()
    create(plain, {**body, "description": "Outro"}, key="recente")
    CreationKey.objects.filter(key=KEY).update(
        created_at=timezone.now() - CREATION_KEY_KEPT + timedelta(minutes=1)
    )
    assert creation_keys_forget() == 0
    assert create(plain, body)["Idempotent-Replayed"] == "true"

    CreationKey.objects.filter(key=KEY).update(
        created_at=timezone.now() - CREATION_KEY_KEPT - timedelta(minutes=1)
    )
    # The worker's hourly job forgets the stale key, not the recent one.
    assert creation_keys_forget() == 1
    assert list(CreationKey.objects.values_list("key", flat=True)) == ["recente"]

    later = create(plain, body)
    assert later.status_code == 201
    assert later.json()["protocol"] != first["protocol"]
    assert "Idempotent-Replayed" not in later


def test_a_person_signed_in_is_the_sender_of_their_keys(client, attendant_a, app_a, body):
    client.force_login(attendant_a)
    sent = {**body, "application_id": app_a.pk}
    headers = {"HTTP_IDEMPOTENCY_KEY": KEY}
    first = client.post("/api/v1/occurrences", json.dumps(sent), "application/json", **headers)
    again = client.post("/api/v1/occurrences", json.dumps(sent), "application/json", **headers)
    assert first.status_code == again.status_code == 201, again.content
    assert again.json()["protocol"] == first.json()["protocol"]
    assert CreationKey.objects.get().issuer == f"user:{attendant_a.pk}"


@pytest.mark.django_db(transaction=True)
def test_copies_sent_at_once_create_one_protocol_and_spend_one_number(
    attendant_a, app_a, catalog_a
):
    """Every copy gets past the first look for the key; the uniqueness of the key rolls
    back all but one, each with its protocol number, so the sequence has no gap."""
    reimbursement = catalog_a[REIMBURSEMENT]
    copies = 6
    start = threading.Barrier(copies)
    submission = Submission(issuer="token:1", key=KEY, digest="d")

    def copy(_):
        try:
            start.wait()
            occurrence, replayed = created_once(
                submission,
                lambda: new_occurrence(
                    user=attendant_a, application=app_a, occurrence_type=reimbursement
                ),
            )
            return occurrence.protocol, replayed
        finally:
            connections.close_all()

    with ThreadPoolExecutor(copies) as pool:
        answers = list(pool.map(copy, range(copies)))

    assert len({protocol for protocol, _ in answers}) == 1
    assert sorted(replayed for _, replayed in answers) == [False] + [True] * (copies - 1)
    assert Occurrence.objects.count() == 1
    following = new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)
    assert int(following.protocol[-6:]) == int(answers[0][0][-6:]) + 1


def test_the_apps_message_retried_with_its_key_is_written_once(app_a, attendant_a, catalog_a):
    """The app's chat on a phone network: the message sent again answers the first one."""
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=catalog_a[REIMBURSEMENT],
        beneficiary_identifier="52998224725",
        beneficiary_name="Maria",
    )
    _, plain = api_token_create(
        application=app_a, name="App", scopes=[Scope.BENEFICIARY_WRITE, Scope.BENEFICIARY_READ]
    )
    app = Client(HTTP_AUTHORIZATION=f"Bearer {plain}", HTTP_IDEMPOTENCY_KEY=KEY)
    url = f"/api/v1/beneficiaries/52998224725/occurrences/{occurrence.protocol}/messages"
    body = json.dumps({"text": "Já mandei o recibo."})

    first = app.post(url, body, content_type="application/json")
    again = app.post(url, body, content_type="application/json")

    assert first.status_code == again.status_code == 201, again.content
    assert "Idempotent-Replayed" not in first and again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert occurrence.events.filter(kind="customer_message").count() == 1
    other = app.post(url, json.dumps({"text": "Outra"}), content_type="application/json")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
