"""Each channel against a local server speaking its provider's protocol: the WhatsApp Cloud
API, an SMS gateway, a GSM modem on a pseudo-terminal, FCM HTTP v1 with its OAuth token
service, and a Web Push endpoint that decrypts what it gets."""

import base64
import itertools
import json
import time

import http_ece
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.utils import timezone
from py_vapid import Vapid02
from validate_docbr import CPF

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create
from atende.notifications.models import Delivery, DeliveryState, PushTarget, Sender, SenderKind
from atende.notifications.services import deliveries_drain
from atende.occurrences.services import actor_for_user, occurrence_start_attendance
from atende.testing.loopback import FakeModem, HttpReceiver
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db

CPF_MARIA = CPF().generate()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@pytest.fixture
def server():
    receiver = HttpReceiver(lambda request: (200, {}, b"{}"))
    yield receiver
    receiver.close()


@pytest.fixture
def analysis(reimbursement):
    return status_named(reimbursement, "Em análise")


def started(app_a, reimbursement, attendant_a, **fields):
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=reimbursement,
        beneficiary_name="Maria da Silva",
        beneficiary_identifier=CPF_MARIA,
        **fields,
    )
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=occurrence.operator_id),
        occurrence=occurrence,
        expected_version=occurrence.version,
    )
    return occurrence


# --- WhatsApp Cloud API ------------------------------------------------------------------


def whatsapp_cloud(request):
    assert request.path == "/v21.0/1234567890/messages"
    if request.headers.get("authorization") != "Bearer wa-token":
        return 401, {}, b'{"error":{"code":190,"message":"Invalid OAuth access token"}}'
    body = json.loads(request.body)
    if body["to"] == "5581900000000":
        error = {"code": 131030, "message": "Recipient phone number not in allowed list"}
        return 400, {}, json.dumps({"error": error}).encode()
    contacts = [{"input": body["to"], "wa_id": body["to"]}]
    answer = {
        "messaging_product": "whatsapp",
        "contacts": contacts,
        "messages": [{"id": "wamid.1"}],
    }
    return 200, {}, json.dumps(answer).encode()


@pytest.fixture
def whatsapp_sender(operator_a, server):
    server.handler = whatsapp_cloud
    return Sender.objects.create(
        operator=operator_a,
        kind=SenderKind.WHATSAPP_CLOUD,
        name="WhatsApp",
        settings={"base_url": server.url, "api_version": "v21.0", "phone_number_id": "1234567890"},
        secret="wa-token",
    )


def test_whatsapp_sends_the_template_with_its_parameters(
    app_a, reimbursement, attendant_a, analysis, whatsapp_sender, server
):
    status_action_create(
        status=analysis,
        description="whatsapp - em análise",
        kind=ActionKind.WHATSAPP,
        whatsapp_template="status_atualizado",
        whatsapp_parameters=["beneficiario", "protocolo", "status"],
    )
    occurrence = started(app_a, reimbursement, attendant_a, contact_phone="(81) 99876-5432")
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED, delivery.last_error
    body = json.loads(server.requests[0].body)
    assert body["messaging_product"] == "whatsapp"
    assert body["to"] == "5581998765432"
    assert body["template"]["name"] == "status_atualizado"
    assert body["template"]["language"] == {"code": "pt_BR"}
    parameters = body["template"]["components"][0]["parameters"]
    assert [p["text"] for p in parameters] == ["Maria da Silva", occurrence.protocol, "Em análise"]
    assert "wamid.1" in delivery.attempt_log.get().response


def test_whatsapp_refusing_the_number_fails_without_retry(
    app_a, reimbursement, attendant_a, analysis, whatsapp_sender, server
):
    status_action_create(
        status=analysis,
        description="whatsapp",
        kind=ActionKind.WHATSAPP,
        whatsapp_template="status_atualizado",
        recipient="+55 81 90000-0000",
    )
    started(app_a, reimbursement, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "131030" in delivery.attempt_log.get().response


# --- SMS ---------------------------------------------------------------------------------


def test_sms_through_the_http_gateway(
    operator_a, app_a, reimbursement, attendant_a, analysis, server
):
    Sender.objects.create(
        operator=operator_a,
        kind=SenderKind.SMS_HTTP,
        name="Gateway",
        settings={"url": server.url + "/sms"},
        secret="gw-token",
    )
    status_action_create(
        status=analysis,
        description="sms",
        kind=ActionKind.SMS,
        body_template="Protocolo {{ protocolo }}: {{ status }}",
    )
    occurrence = started(app_a, reimbursement, attendant_a, contact_phone="81998765432")
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED
    request = server.requests[0]
    assert request.headers["authorization"] == "Bearer gw-token"
    assert request.headers["idempotency-key"] == delivery.message_id
    assert json.loads(request.body) == {
        "id": delivery.message_id,
        "to": "+5581998765432",
        "text": f"Protocolo {occurrence.protocol}: Em análise",
    }


def test_an_invalid_phone_fails_at_once(app_a, reimbursement, attendant_a, analysis, operator_a):
    Sender.objects.create(operator=operator_a, kind=SenderKind.SMS_HTTP, name="g", settings={})
    status_action_create(status=analysis, description="sms", kind=ActionKind.SMS, body_template="x")
    started(app_a, reimbursement, attendant_a)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "telefone de contato" in delivery.last_error


@pytest.fixture
def modem():
    fake = FakeModem()
    yield fake
    fake.close()


def test_the_modem_sends_one_message_per_interval_and_retries_an_error(
    operator_a, app_a, reimbursement, attendant_a, analysis, modem
):
    Sender.objects.create(
        operator=operator_a,
        kind=SenderKind.SMS_MODEM,
        name="Modem",
        settings={"port": modem.port, "timeout": 5},
        min_interval_ms=400,
    )
    status_action_create(
        status=analysis, description="sms", kind=ActionKind.SMS, body_template="{{ protocolo }}"
    )
    modem.fail_next = 1
    protocols = [
        started(app_a, reimbursement, attendant_a, contact_phone="81998765432").protocol
        for _ in range(3)
    ]
    deadline = time.monotonic() + 20
    while Delivery.objects.exclude(state=DeliveryState.DELIVERED).exists():
        assert time.monotonic() < deadline, list(Delivery.objects.values("state", "last_error"))
        Delivery.objects.filter(state=DeliveryState.PENDING, attempts__gt=0).update(
            next_attempt_at=timezone.now()
        )
        deliveries_drain()
        time.sleep(0.05)
    assert sorted(text for _number, text, _at in modem.messages) == sorted(protocols)
    assert {number for number, _text, _at in modem.messages} == {"+5581998765432"}
    times = [at for _number, _text, at in modem.messages]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.38, gaps
    failed = Delivery.objects.filter(attempts=2).get()
    assert "CMS ERROR" in failed.attempt_log.first().error


# --- Push: FCM HTTP v1 -------------------------------------------------------------------


@pytest.fixture
def fcm(operator_a, server):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    account = {
        "type": "service_account",
        "client_email": "atende@projeto.iam.gserviceaccount.com",
        "private_key_id": "k1",
        "private_key": pem,
        "token_uri": server.url + "/token",
    }

    def google(request):
        if request.path == "/token":
            form = dict(pair.split("=", 1) for pair in request.body.decode().split("&"))
            claims = jwt.decode(
                form["assertion"],
                key.public_key(),
                algorithms=["RS256"],
                audience=account["token_uri"],
            )
            assert claims["scope"] == "https://www.googleapis.com/auth/firebase.messaging"
            return 200, {}, b'{"access_token":"ya29.local","expires_in":3599,"token_type":"Bearer"}'
        assert request.path == "/v1/projects/projeto/messages:send"
        assert request.headers["authorization"] == "Bearer ya29.local"
        message = json.loads(request.body)["message"]
        if message["token"] == "gone":
            error = {
                "code": 404,
                "status": "NOT_FOUND",
                "message": "Requested entity was not found.",
            }
            return 404, {}, json.dumps({"error": error}).encode()
        return 200, {}, b'{"name":"projects/projeto/messages/0:1"}'

    server.handler = google
    return Sender.objects.create(
        operator=operator_a,
        kind=SenderKind.FCM,
        name="FCM",
        settings={"project_id": "projeto", "base_url": server.url},
        secret=json.dumps(account),
    )


def test_push_reaches_every_app_of_the_beneficiary_through_fcm(
    operator_a, app_a, reimbursement, attendant_a, analysis, fcm, server
):
    for token in ("device-1", "gone"):
        PushTarget.objects.create(
            operator=operator_a,
            application=app_a,
            beneficiary_identifier=CPF_MARIA,
            kind=SenderKind.FCM,
            token=token,
        )
    status_action_create(
        status=analysis,
        description="push - reembolso - em análise",
        kind=ActionKind.PUSH,
        subject_template="Reembolso",
        body_template="Protocolo {{ protocolo }}: {{ status }}",
    )
    occurrence = started(app_a, reimbursement, attendant_a)
    deliveries_drain()
    delivered = Delivery.objects.get(recipient="device-1")
    assert delivered.state == DeliveryState.DELIVERED, delivered.last_error
    assert Delivery.objects.get(recipient="gone").state == DeliveryState.FAILED
    sends = [json.loads(r.body)["message"] for r in server.requests if r.path != "/token"]
    message = next(m for m in sends if m["token"] == "device-1")
    assert message["notification"] == {
        "title": "Reembolso",
        "body": f"Protocolo {occurrence.protocol}: Em análise",
    }
    assert message["data"]["message_id"] == delivered.message_id
    assert [r.path for r in server.requests].count("/token") == 1, "the token is reused"


# --- Push: Web Push ----------------------------------------------------------------------


def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    operator_a, app_a, reimbursement, attendant_a, analysis, server
):
    browser_key = ec.generate_private_key(ec.SECP256R1())
    browser_public = browser_key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = b"0123456789abcdef"
    vapid = Vapid02()
    vapid.generate_keys()
    received = []

    def push_service(request):
        scheme, _, params = request.headers["authorization"].partition(" ")
        fields = dict(part.split("=", 1) for part in params.split(","))
        public = ec.EllipticCurvePublicKey.from_encoded_point(
            ec.SECP256R1(), b64url_decode(fields["k"])
        )
        claims = jwt.decode(fields["t"], public, algorithms=["ES256"], audience=server.url)
        assert (scheme, claims["sub"]) == ("vapid", "mailto:sac@operadora.example")
        assert request.headers["content-encoding"] == "aes128gcm"
        plain = http_ece.decrypt(
            request.body, private_key=browser_key, auth_secret=auth, version="aes128gcm"
        )
        received.append(json.loads(plain))
        return (410, {}, b"") if request.path.endswith("/expired") else (201, {}, b"")

    server.handler = push_service
    Sender.objects.create(
        operator=operator_a,
        kind=SenderKind.WEBPUSH,
        name="Web Push",
        settings={"subject": "mailto:sac@operadora.example"},
        secret=vapid.private_pem().decode(),
    )
    for path in ("/push/abc", "/push/expired"):
        subscription = {
            "endpoint": server.url + path,
            "keys": {"p256dh": b64url(browser_public), "auth": b64url(auth)},
        }
        PushTarget.objects.create(
            operator=operator_a,
            application=app_a,
            beneficiary_identifier=CPF_MARIA,
            kind=SenderKind.WEBPUSH,
            subscription=subscription,
        )
    status_action_create(
        status=analysis, description="push", kind=ActionKind.PUSH, body_template="{{ status }}"
    )
    occurrence = started(app_a, reimbursement, attendant_a)
    deliveries_drain()
    ok = Delivery.objects.get(recipient=server.url + "/push/abc")
    assert ok.state == DeliveryState.DELIVERED, ok.last_error
    assert Delivery.objects.get(recipient=server.url + "/push/expired").state == "failed"
    assert {m["body"] for m in received} == {"Em análise"}
    assert {m["protocol"] for m in received} == {occurrence.protocol}
