"""Web Push from the portal: the page offers it when the operator has a Web Push sender,
the browser's subscription is stored for the signed-in beneficiary, and a push action of
one of their occurrences is then delivered to it."""

import base64
import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create
from atende.notifications.models import Channel, Delivery, PushTarget, Sender, SenderKind
from atende.occurrences.services import actor_for_user, occurrence_start_attendance
from atende.portal.services import beneficiary_login_create
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

CPF = "52998224725"
HOME = "/portal/br.com.operadora.a/"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture
def vapid(operator_a):
    key = Vapid02()
    key.generate_keys()
    Sender.objects.create(
        operator=operator_a,
        kind=SenderKind.WEBPUSH,
        name="Web Push",
        settings={"subject": "mailto:sac@operadora.example"},
        secret=key.private_pem().decode(),
    )
    return key


@pytest.fixture
def signed(client, operator_a, app_a, catalog_a):
    beneficiary_login_create(
        operator=operator_a, login="0001234", cpf=CPF, name="Beatriz", password="Senha-2026-boa"
    )
    client.post(f"{HOME}entrar/", {"cpf": CPF, "password": "Senha-2026-boa"})
    return client


def _subscription() -> dict:
    browser = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return {
        "endpoint": "https://push.example.com/send/abc123",
        "keys": {"p256dh": b64url(browser), "auth": b64url(b"0123456789abcdef")},
    }


def test_no_sender_no_offer(signed):
    page = signed.get(HOME).content.decode()
    assert "data-push" not in page


def test_the_page_offers_push_with_the_operators_public_key(signed, vapid):
    page = signed.get(HOME).content.decode()
    assert "<title>Minhas solicitações · Atende</title>" in page
    main = page.split('<main id="main">')[1]
    assert "Notificações neste navegador" in main and "portal/push.js" in main
    key = main.split('data-key="')[1].split('"')[0]
    raw = base64.urlsafe_b64decode(key + "=" * (-len(key) % 4))
    expected = vapid.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert raw == expected and len(raw) == 65
    worker = signed.get(f"{HOME}sw.js")
    assert worker["Content-Type"].startswith("application/javascript")
    assert "showNotification" in worker.content.decode()


def test_a_subscription_is_stored_for_the_beneficiary_and_gets_push_actions(
    signed, vapid, operator_a, app_a, catalog_a, attendant_a
):
    subscription = _subscription()
    response = signed.post(
        f"{HOME}notificacoes/", json.dumps(subscription), content_type="application/json"
    )
    assert response.status_code == 201, response.content
    target = PushTarget.objects.get()
    assert (target.operator, target.beneficiary_identifier) == (operator_a, CPF)
    assert target.subscription["endpoint"] == subscription["endpoint"]
    kind = catalog_a["Atualização Cadastral"]
    status_action_create(
        status=kind.statuses.get(internal_description="Em atendimento"),
        description="push",
        kind=ActionKind.PUSH,
        subject_template="{{ tipo }}",
        body_template="{{ status }}",
    )
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=kind, beneficiary_identifier=CPF
    )
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=operator_a),
        occurrence=occurrence,
        expected_version=1,
    )
    delivery = Delivery.objects.get()
    assert (delivery.channel, delivery.recipient) == (Channel.PUSH, subscription["endpoint"])
    assert delivery.payload == {"subscription": subscription}


def test_a_bad_subscription_is_refused_with_a_message(signed, vapid):
    bad = signed.post(f"{HOME}notificacoes/", "não é json", content_type="application/json")
    assert bad.status_code == 400 and "JSON" in bad.json()["error"]
    broken = signed.post(
        f"{HOME}notificacoes/",
        json.dumps({"endpoint": "https://push.example.com/x"}),
        content_type="application/json",
    )
    assert broken.status_code == 400
    assert "Inscrição de navegador inválida" in broken.json()["error"]
    assert not PushTarget.objects.exists()


def test_only_a_signed_in_beneficiary_subscribes(client, vapid, app_a, catalog_a):
    response = client.post(
        f"{HOME}notificacoes/", json.dumps(_subscription()), content_type="application/json"
    )
    assert response.status_code == 302
    assert not PushTarget.objects.exists()


def test_a_subscription_nested_past_the_parsers_depth_is_a_400(signed, vapid):
    deep = signed.post(f"{HOME}notificacoes/", "[" * 100_000, content_type="application/json")
    assert deep.status_code == 400
    assert deep.json()["error"] == "O JSON tem níveis demais de aninhamento."
    assert not PushTarget.objects.exists()
