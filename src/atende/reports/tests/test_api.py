"""The report endpoints: supervisors signed in request, follow and download once; anyone
else gets 401/404 and learns nothing."""

import json

import pytest
from django.utils import timezone

from atende.reports.models import Report
from atende.reports.services import report_generate
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def reports_root(settings, tmp_path):
    settings.REPORTS_ROOT = tmp_path / "reports"


def body(app, **changes):
    today = timezone.localdate().isoformat()
    return json.dumps(
        {"title": "Mensal", "application": app.pk, "start": today, "end": today, **changes}
    )


def post(client, url, data=None):
    return client.post(url, data or "{}", content_type="application/json")


def test_request_follow_and_download_once(client, supervisor_a, app_a):
    client.force_login(supervisor_a)
    created = post(client, "/api/v1/reports", body(app_a, states=[1, 2]))
    assert created.status_code == 201, created.content
    report_id = created.json()["id"]
    assert created.json()["state"] == "queued"
    report_generate(report_id=report_id)
    state = client.get(f"/api/v1/reports/{report_id}").json()
    assert (state["state"], state["progress_percent"]) == ("ready", 100)
    first = post(client, f"/api/v1/reports/{report_id}/download")
    assert first.status_code == 200
    assert b"".join(first.streaming_content).decode().startswith("00;Relatório ocorrência;")
    again = post(client, f"/api/v1/reports/{report_id}/download")
    assert again.status_code == 410
    assert again.json()["code"] == "report_unavailable"
    assert "já foi baixado" in again.json()["message"]


def test_bad_parameters_are_refused_with_the_field(client, supervisor_a, app_a):
    client.force_login(supervisor_a)
    response = post(client, "/api/v1/reports", body(app_a, start="2025-03-20", end="2025-03-10"))
    assert response.status_code == 400
    assert response.json()["errors"]["end"] == ["O período termina antes de começar."]
    unknown = post(client, "/api/v1/reports", body(app_a, movement="tudo"))
    assert unknown.status_code == 422
    assert not Report.objects.exists()


def test_others_reach_nothing(client, supervisor_a, attendant_a, attendant_b, app_a, app_b):
    client.force_login(supervisor_a)
    report_id = post(client, "/api/v1/reports", body(app_a)).json()["id"]
    refused = post(client, "/api/v1/reports", body(app_b))
    assert refused.status_code == 400  # another operator's application
    for outsider in (attendant_a, attendant_b):
        client.force_login(outsider)
        assert client.get(f"/api/v1/reports/{report_id}").status_code == 404
        assert post(client, f"/api/v1/reports/{report_id}/download").status_code == 404
        assert client.get("/api/v1/reports").json() == []
    client.logout()
    _, token = api_token_create(application=app_a, name="integração", scopes=Scope.values)
    with_token = client.get(f"/api/v1/reports/{report_id}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert with_token.status_code == 401
