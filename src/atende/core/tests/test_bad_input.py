"""Bad input is a clear 4xx with a message, never a server error: dates past any calendar,
JSON that Python or the database cannot hold, bodies larger than allowed — the last refused
before they are read."""

import io
import json

import pytest
from django.test import Client
from validate_docbr import CPF

from atende.notifications.models import PushTarget
from atende.occurrences.models import Attachment
from atende.tenancy.models import Role, Scope
from atende.tenancy.services import api_token_create
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db

RANGE_MESSAGE = "Informe uma data entre 01/01/1900 e 31/12/2999."


def bearer(application, *scopes) -> Client:
    _, plain = api_token_create(application=application, name="app", scopes=scopes)
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


@pytest.mark.parametrize("path", ["/painel/", "/entregas/", "/relatorios/indicadores/"])
@pytest.mark.parametrize("field", ["start", "end"])
def test_a_date_past_any_calendar_is_a_400_with_the_reason(
    client, supervisor_a, app_a, catalog_a, path, field
):
    client.force_login(supervisor_a)
    response = client.get(path, {field: "9999-12-31"})
    assert response.status_code == 400
    assert RANGE_MESSAGE in response.content.decode()


def test_json_nested_past_the_parsers_depth_is_refused(app_a):
    app = bearer(app_a, Scope.PUSH_REGISTER)
    response = app.post("/api/v1/push-targets", "[" * 100_000, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {
        "code": "invalid_json",
        "message": "O JSON tem níveis demais de aninhamento.",
    }


@pytest.mark.parametrize("where", ["key", "value"])
def test_a_nul_character_in_json_is_refused_before_the_database(app_a, where):
    app = bearer(app_a, Scope.PUSH_REGISTER)
    subscription = {
        "endpoint": "https://fcm.googleapis.com/fcm/send/abc123",
        "keys": {"p256dh": "B" + "A" * 86, "auth": "c2VjcmV0LWF1dGgtMTIzNA"},
    }
    if where == "key":
        subscription["x\u0000"] = "1"
    else:
        subscription["note"] = "a\u0000b"
    body = {"beneficiary_identifier": CPF().generate(), "kind": "webpush"}
    response = app.post(
        "/api/v1/push-targets",
        json.dumps({**body, "subscription": subscription}),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_json"
    assert "NUL" in response.json()["message"]
    assert not PushTarget.objects.exists()


def test_a_body_over_the_limit_gets_the_apis_json_error(app_a):
    app = bearer(app_a, Scope.PUSH_REGISTER)
    huge = json.dumps({"kind": "fcm", "token": "x" * (10 * 1024 * 1024)})
    response = app.post("/api/v1/push-targets", huge, content_type="application/json")
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response.json()["code"] == "too_large"
    assert "KB" in response.json()["message"]


class _Upload(io.RawIOBase):
    """An upload of ``size`` bytes that counts what the server reads of it."""

    def __init__(self, size: int) -> None:
        self.size, self.read_bytes = size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        count = min(len(buffer), self.size - self.read_bytes)
        buffer[:count] = b"0" * count
        self.read_bytes += count
        return count


@pytest.mark.parametrize("path", ["/api/v1/occurrences/{p}/attachments", "/painel/{p}/anexos/"])
def test_an_upload_declared_larger_than_an_attachment_is_refused_unread(
    client, attendant_a, app_a, catalog_a, path
):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a["Atualização Cadastral"]
    )
    client.force_login(attendant_a)
    size = 200 * 1024 * 1024
    upload = _Upload(size)
    response = client.generic(
        "POST",
        path.format(p=occurrence.protocol),
        CONTENT_TYPE="multipart/form-data; boundary=fronteira",
        CONTENT_LENGTH=str(size),
        **{"wsgi.input": upload},
    )
    assert response.status_code == 413
    assert "no máximo 10 MB" in response.content.decode()
    assert upload.read_bytes == 0
    assert not Attachment.objects.exists()


def test_only_a_signed_in_person_may_send_an_import_larger_than_an_attachment(client, operator_a):
    path = f"/configuracao/{operator_a.pk}/beneficiarios/importar/"
    size = 200 * 1024 * 1024

    def send():
        upload = _Upload(size)
        response = client.generic(
            "POST",
            path,
            CONTENT_TYPE="multipart/form-data; boundary=fronteira",
            CONTENT_LENGTH=str(size),
            **{"wsgi.input": upload},
        )
        return response, upload

    refused, unread = send()
    assert refused.status_code == 413 and unread.read_bytes == 0
    client.force_login(MembershipFactory(operator=operator_a, role=Role.ATTENDANT).user)
    passed, _upload = send()
    # Past the size check, the view itself answers: an attendant is not a configurator.
    assert passed.status_code == 404
