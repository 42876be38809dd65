"""The reports pages: who reaches them, the form's checks in Portuguese next to their
field, the list refreshing itself while a report is generated, the one-time download."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from atende.reports.models import Report, ReportState
from atende.reports.params import ReportParams
from atende.reports.services import report_generate, report_request

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reports_root(settings, tmp_path):
    settings.REPORTS_ROOT = tmp_path / "reports"


def form_data(app, **changes):
    today = timezone.localdate()
    data = {
        "title": "Reembolsos do mês",
        "application": app.pk,
        "start": (today - timedelta(days=30)).isoformat(),
        "end": today.isoformat(),
        "movement": "todos",
        "attendant_movement": "todos",
        "mode": "todas",
    }
    data.update(changes)
    return data


def test_the_form_shows_the_seeds_labels_in_portuguese(client, supervisor_a, app_a, catalog_a):
    client.force_login(supervisor_a)
    page = client.get(reverse("reports:new")).content.decode()
    for label in [
        "Título",
        "Instância Aplicação",
        "Período",
        "Tipo de movimentação",
        "Incluir ocorrências NÃO encerradas anteriores ao período selecionado",
        "Atendente",
        "Estado",
        "Tipo de Ocorrência",
        "Assunto",
        "Modo",
    ]:
        assert label in page, label
    assert "Ocorrencia - Reembolso" in page


def test_a_supervisor_requests_a_report_and_sees_it_queued(
    client, supervisor_a, app_a, catalog_a, django_capture_on_commit_callbacks
):
    client.force_login(supervisor_a)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(reverse("reports:new"), form_data(app_a, states=["1", "4"]))
    assert response.status_code == 302
    report = Report.objects.get()
    assert report.params["states"] == [1, 4] and report.requested_by == supervisor_a
    assert len(callbacks) == 1
    page = client.get(reverse("reports:list")).content.decode()
    assert "Reembolsos do mês" in page and "Na fila" in page
    assert 'hx-trigger="every 2s"' in page  # refreshes itself while one is pending
    partial = client.get(reverse("reports:list"), HTTP_HX_REQUEST="true").content.decode()
    assert partial.lstrip().startswith('<div id="report-table"')
    # What was asked, in the reader's language: the period and the yes/no.
    today = timezone.localdate()
    period = f"{today - timedelta(days=30):%d/%m/%Y} a {today:%d/%m/%Y}"
    assert period in page and "<dd>Não</dd>" in page
    client.cookies["django_language"] = "en"
    english = client.get(reverse("reports:list")).content.decode()
    assert period.replace(" a ", " to ") in english and "<dd>No</dd>" in english


def test_a_period_ending_before_it_starts_is_refused_next_to_the_field(
    client, supervisor_a, app_a, operator_a
):
    client.force_login(supervisor_a)
    response = client.post(
        reverse("reports:new"), form_data(app_a, start="2025-03-20", end="2025-03-10")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["end"] == ["O período termina antes de começar."]
    operator_a.report_max_days = 31
    operator_a.save()
    response = client.post(
        reverse("reports:new"), form_data(app_a, start="2025-01-01", end="2025-03-10")
    )
    assert response.context["form"].errors["end"] == ["O período pode ter no máximo 31 dias."]
    assert not Report.objects.exists()


def test_an_attendant_and_another_operator_reach_nothing(
    client, attendant_a, attendant_b, supervisor_a, operator_a, app_a
):
    params = ReportParams(
        operator_id=operator_a.pk,
        application_id=app_a.pk,
        start=timezone.localdate(),
        end=timezone.localdate(),
    )
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    for outsider in (attendant_a, attendant_b):
        client.force_login(outsider)
        assert client.get(reverse("reports:list")).status_code == 404
        assert client.get(reverse("reports:new")).status_code == 404
        download = client.post(reverse("reports:download", args=[report.pk]))
        assert download.status_code == 404


def test_another_operators_application_is_refused(client, supervisor_a, app_a, app_b):
    client.force_login(supervisor_a)
    response = client.post(reverse("reports:new"), form_data(app_a, application=app_b.pk))
    assert "application" in response.context["form"].errors
    assert not Report.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_the_download_button_gives_the_file_once(client, supervisor_a, operator_a, app_a):
    params = ReportParams(
        operator_id=operator_a.pk,
        application_id=app_a.pk,
        start=timezone.localdate(),
        end=timezone.localdate(),
    )
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    report_generate(report_id=report.pk)
    client.force_login(supervisor_a)
    page = client.get(reverse("reports:list")).content.decode()
    assert "Baixar" in page and 'hx-trigger="every 2s"' not in page
    assert client.get(reverse("reports:download", args=[report.pk])).status_code == 405
    first = client.post(reverse("reports:download", args=[report.pk]))
    assert first.status_code == 200
    assert first["Content-Disposition"].startswith("attachment")
    assert b"".join(first.streaming_content).startswith("00;Relatório ocorrência;".encode())
    second = client.post(reverse("reports:download", args=[report.pk]), follow=True)
    assert "já foi baixado" in second.content.decode()
    assert Report.objects.get().state == ReportState.DOWNLOADED
