"""The operator's management system read during a call, against a real HTTP server on
loopback: records shown, the card and token sent, and each failure said plainly — a
server that does not answer within 3 seconds included."""

import json
import time

import pytest
from django.test import Client

from atende.callcenter.models import CallCenterSettings, ContactEntry, EntryKind
from atende.testing.loopback import HttpReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loopback_allowed(settings):
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]


def erp(handler):
    receiver = HttpReceiver(handler)
    CallCenterSettings.objects.update(
        erp_url=f"{receiver.url}/beneficiarios/{{card}}/ocorrencias", erp_token="t0k3n"
    )
    return receiver


def read(user, contact) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(f"/atendimento/{contact.pk}/sistema-de-gestao/")
    assert response.status_code == 200
    return response.content.decode()


def test_the_records_are_shown_and_the_consultation_recorded(contact, attendant_a):
    records = [
        {"numero": "INF-1", "data": "2026-11-02", "situacao": "Aberta"},
        {"numero": "INF-2", "data": "2026-10-20", "situacao": None},
    ]
    receiver = erp(lambda request: (200, {}, json.dumps(records).encode()))
    try:
        page = read(attendant_a, contact)
    finally:
        receiver.close()
    assert "INF-1" in page and "INF-2" in page and '<th scope="col">situacao</th>' in page
    [request] = receiver.requests
    assert request.method == "GET" and request.path == "/beneficiarios/C-100/ocorrencias"
    assert request.headers["authorization"] == "Bearer t0k3n"
    assert ContactEntry.objects.get(contact=contact).kind == EntryKind.ERP


def test_a_silent_system_is_told_within_three_seconds(contact, attendant_a):
    def slow(request):
        time.sleep(5)
        return 200, {}, b"[]"

    receiver = erp(slow)
    started = time.monotonic()
    try:
        page = read(attendant_a, contact)
    finally:
        receiver.close()
    assert time.monotonic() - started < 4.5
    assert "não respondeu em 3 segundos" in page


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ((500, {}, b"oops"), "HTTP 500"),
        ((200, {}, b"<html>"), "não é uma lista"),
        ((200, {}, b'{"a": 1}'), "não é uma lista"),
    ],
)
def test_a_wrong_answer_is_told(contact, attendant_a, answer, message):
    receiver = erp(lambda request: answer)
    try:
        page = read(attendant_a, contact)
    finally:
        receiver.close()
    assert "data-erp-error" in page and message in page


def test_no_system_configured_is_told(contact, attendant_a):
    assert "Nenhum sistema de gestão" in read(attendant_a, contact)
