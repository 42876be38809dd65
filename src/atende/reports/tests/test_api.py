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


def test_a_field_of_the_wrong_type_is_named_as_sent(client, supervisor_a, app_a):
    client.force_login(supervisor_a)
    response = post(client, "/api/v1/reports", body(app_a, start="ontem"))
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["body.start"]


def test_a_date_past_any_calendar_is_refused_before_it_reaches_the_worker(
    client, supervisor_a, app_a
):
    client.force_login(supervisor_a)
    response = post(client, "/api/v1/reports", body(app_a, start="9999-12-30", end="9999-12-31"))
    assert response.status_code == 400
    for field in ("start", "end"):
        assert response.json()["errors"][field] == [
            "Informe uma data entre 01/01/1900 e 31/12/2999."
        ]
    assert not Report.objects.exists()


def test_an_application_token_is_told_reports_need_a_person(client, app_a):
    _, secret = api_token_create(application=app_a, name="App", scopes=[Scope.OCCURRENCES_READ])
    response = client.post(
        "/api/v1/reports",
        body(app_a),
        content_type="application/json",
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert response.status_code == 401
    assert response.json()["code"] == "session_required"
    assert "CSRF" not in response.content.decode()
