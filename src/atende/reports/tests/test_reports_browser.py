"""A supervisor in Chromium: requests a report through the form, watches the list follow
it from the queue to ready without reloading, reads the filters it was made with, and
downloads the file once."""

from datetime import timedelta

import pytest
from django.utils import timezone

from atende.reports.models import Report, ReportState
from atende.reports.services import report_generate
from atende.testing.browser import sign_in
from atende.testing.occurrences import new_occurrence

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def reports_root(settings, tmp_path):
    settings.REPORTS_ROOT = tmp_path / "reports"


def test_a_supervisor_requests_follows_and_downloads_a_report(
    page, live_server, supervisor_a, app_a, catalog_a
):
    occurrence = new_occurrence(
        user=supervisor_a,
        application=app_a,
        occurrence_type=catalog_a["Ocorrencia - Reembolso"],
        requester_name="Maria Souza",
    )
    today = timezone.localdate()
    sign_in(page, live_server.url, supervisor_a)
    page.get_by_role("link", name="Relatórios de ocorrências").click()
    page.get_by_role("link", name="Novo relatório").click()
    page.get_by_label("Título").fill("Reembolsos do mês")
    page.get_by_label("De", exact=True).fill((today - timedelta(days=30)).isoformat())
    page.get_by_label("Até", exact=True).fill(today.isoformat())
    page.get_by_role("button", name="Solicitar relatório").click()

    report = Report.objects.get()
    row = page.locator(f'tr[data-report="{report.pk}"]')
    assert row.get_attribute("data-state") == ReportState.QUEUED
    assert row.locator("progress").is_visible()
    # The worker's part; the open page follows by itself (htmx polls while one runs).
    assert report_generate(report_id=report.pk)
    page.wait_for_selector(
        f'tr[data-report="{report.pk}"][data-state="{ReportState.READY}"]', timeout=6000
    )
    filters = row.locator("dl.filters")
    assert not filters.is_visible()  # shown on demand
    row.get_by_text("Ver filtros").click()
    assert "Reembolsos do mês" in row.inner_text()
    assert "Tipo de movimentação" in filters.inner_text()
    assert today.strftime("%d/%m/%Y") in filters.inner_text()

    with page.expect_download() as download:
        row.get_by_role("button", name="Baixar").click()
    lines = download.value.path().read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("00;Relatório ocorrência;")
    assert lines[1].startswith(f"01;{occurrence.protocol};")
    assert lines[-1].startswith("99;")
    page.reload()
    assert row.get_attribute("data-state") == ReportState.DOWNLOADED
    assert row.get_by_role("button", name="Baixar").count() == 0
