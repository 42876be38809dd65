"""Registering devices for push: only an application's token with push:register, valid
CPF and subscription, never an internal address, and only its own operator's devices."""

import pytest
from validate_docbr import CPF

from atende.notifications.models import PushTarget
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create

pytestmark = pytest.mark.django_db

SUBSCRIPTION = {
    "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
    "keys": {"p256dh": "B" + "A" * 86, "auth": "c2VjcmV0LWF1dGgtMTIzNA"},
}


def bearer(application, *scopes):
    _, plain = api_token_create(application=application, name="app", scopes=scopes)
    return {"Authorization": f"Bearer {plain}"}


@pytest.fixture
def cpf():
    return CPF().generate()


def test_an_app_registers_a_device_once(client, app_a, cpf):
    headers = bearer(app_a, Scope.PUSH_REGISTER)
    body = {"beneficiary_identifier": cpf, "kind": "fcm", "token": "device-token-1"}
    first = client.post(
        "/api/v1/push-targets", body, content_type="application/json", headers=headers
    )
    again = client.post(
        "/api/v1/push-targets", body, content_type="application/json", headers=headers
    )
    assert first.status_code == again.status_code == 201
    assert first.json()["id"] == again.json()["id"]
    target = PushTarget.objects.get()
    assert (target.operator_id, target.beneficiary_identifier) == (app_a.operator_id, cpf)


def test_the_portal_registers_a_browser_subscription(client, app_a, cpf, settings):
    headers = bearer(app_a, Scope.PUSH_REGISTER)
    body = {"beneficiary_identifier": cpf, "kind": "webpush", "subscription": SUBSCRIPTION}
    response = client.post(
        "/api/v1/push-targets", body, content_type="application/json", headers=headers
    )
    assert response.status_code == 201, response.content
    assert PushTarget.objects.get().subscription["endpoint"] == SUBSCRIPTION["endpoint"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"beneficiary_identifier": "12345678900"}, "beneficiary_identifier"),
        ({"subscription": {"endpoint": "http://example.com/x", "keys": {}}}, "subscription"),
        (
            {"subscription": {**SUBSCRIPTION, "endpoint": "https://127.0.0.1/push"}},
            "subscription",
        ),
    ],
)
def test_bad_registrations_are_refused_with_the_field(client, app_a, cpf, change, field, settings):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    headers = bearer(app_a, Scope.PUSH_REGISTER)
    body = {"beneficiary_identifier": cpf, "kind": "webpush", "subscription": SUBSCRIPTION}
    response = client.post(
        "/api/v1/push-targets", {**body, **change}, content_type="application/json", headers=headers
    )
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert not PushTarget.objects.exists()


def test_scope_sessions_and_other_operators_are_refused(client, app_a, app_b, cpf, supervisor_a):
    body = {"beneficiary_identifier": cpf, "kind": "fcm", "token": "t"}
    wrong_scope = client.post(
        "/api/v1/push-targets",
        body,
        content_type="application/json",
        headers=bearer(app_a, Scope.OCCURRENCES_READ),
    )
    assert wrong_scope.status_code == 403
    client.force_login(supervisor_a)
    assert (
        client.post("/api/v1/push-targets", body, content_type="application/json").status_code
        == 403
    )
    client.logout()
    target = PushTarget.objects.create(
        operator=app_a.operator,
        application=app_a,
        beneficiary_identifier=cpf,
        kind="fcm",
        token="x",
    )
    other = client.delete(
        f"/api/v1/push-targets/{target.pk}", headers=bearer(app_b, Scope.PUSH_REGISTER)
    )
    assert other.status_code == 404
    mine = client.delete(
        f"/api/v1/push-targets/{target.pk}", headers=bearer(app_a, Scope.PUSH_REGISTER)
    )
    assert mine.status_code == 204
    target.refresh_from_db()
    assert not target.is_active
