"""Report requests through generation, e-mail, the one download and expiry. These tests
commit (transaction=True): the generator's lease keeper works from its own connection."""

import io
import threading
from datetime import date, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from atende.catalog.presets import REIMBURSEMENT
from atende.notifications.models import Delivery, Purpose
from atende.notifications.services import deliveries_drain
from atende.reports.models import Report, ReportState
from atende.reports.params import ReportParams
from atende.reports.services import (
    ReportUnavailable,
    report_consume,
    report_generate,
    report_request,
    reports_drive,
    reports_folder,
    reports_sweep,
)
from atende.reports.writer import report_write
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reports_root(settings, tmp_path):
    settings.REPORTS_ROOT = tmp_path / "reports"
    return settings.REPORTS_ROOT


@pytest.fixture
def params(app_a, catalog_a, attendant_a):
    today = timezone.localdate()
    for _ in range(3):
        new_occurrence(
            user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
        )
    return ReportParams(
        operator_id=app_a.operator_id,
        application_id=app_a.pk,
        start=today - timedelta(days=1),
        end=today,
    )


def expected_file(params: ReportParams) -> str:
    out = io.StringIO(newline="")
    report_write(params, out)
    return out.getvalue()


def test_only_supervisors_of_the_operator_request_reports(
    params, operator_a, attendant_a, reports_root
):
    with pytest.raises(ValidationError):
        report_request(user=attendant_a, operator=operator_a, title="Mensal", params=params)
    assert not Report.objects.exists()


def test_a_requested_report_is_generated_mailed_and_downloaded_once(
    params, operator_a, supervisor_a, reports_root
):
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    assert report.state == ReportState.QUEUED

    assert report_generate(report_id=report.pk) is True

    report.refresh_from_db()
    assert report.state == ReportState.READY
    assert report.lines_written == 5 and report.lines_estimate >= 5
    assert report.expires_at - report.finished_at == timedelta(days=7)
    # The notice is a delivery, made with the ready state, sent by the pipeline.
    notice = Delivery.objects.get(purpose=Purpose.REPORT_READY)
    assert notice.key == f"report:{report.pk}:ready"
    assert deliveries_drain() == 1
    (message,) = mail.outbox
    assert message.to == [supervisor_a.email]
    assert f"nº {report.pk}" in message.subject
    assert "/relatorios/" in message.body
    assert not message.attachments
    assert "Mensal" not in message.body  # only the number: a title may name someone

    handle, name = report_consume(user=supervisor_a, report=report)
    with handle:
        assert handle.read().decode() == expected_file(params)
    assert name == f"relatorio-ocorrencias-{report.pk}.txt"
    assert not any(reports_folder(operator_a.pk).iterdir())  # the file is gone
    with pytest.raises(ReportUnavailable, match="já foi baixado"):
        report_consume(user=supervisor_a, report=report)


def test_two_downloads_at_the_same_instant_give_the_file_once(
    params, operator_a, supervisor_a, reports_root
):
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    report_generate(report_id=report.pk)
    outcomes, barrier = [], threading.Barrier(4)

    def download() -> None:
        from django.db import connection

        barrier.wait()
        try:
            handle, _ = report_consume(user=supervisor_a, report=Report.objects.get(pk=report.pk))
            outcomes.append(handle.read())
            handle.close()
        except ReportUnavailable:
            outcomes.append(None)
        finally:
            connection.close()

    threads = [threading.Thread(target=download) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes, key=lambda o: o is None)[1:] == [None, None, None]
    assert outcomes.count(None) == 3


def test_a_report_left_by_a_dead_worker_is_taken_again_and_finished_once(
    params, operator_a, supervisor_a, reports_root
):
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    # What a worker killed mid-report leaves: the claim, a lease, a partial file.
    past = timezone.now() - timedelta(minutes=5)
    Report.objects.filter(pk=report.pk).update(
        state=ReportState.RUNNING, attempts=1, lease_until=past, lines_written=2
    )
    folder = reports_folder(operator_a.pk)
    folder.mkdir(parents=True)
    (folder / f"{report.pk}-1.part").write_text("00;parcial\n")

    assert reports_drive()["requeued"] == 1
    queued = DBTaskResult.objects.filter(task_path__endswith="report_generate_task")
    # One task from the request, one from the re-drive.
    assert [t.args_kwargs["kwargs"] for t in queued] == [{"report_id": report.pk}] * 2

    assert report_generate(report_id=report.pk) is True
    assert report_generate(report_id=report.pk) is False  # finished once
    report.refresh_from_db()
    assert (report.state, report.attempts) == (ReportState.READY, 2)
    assert (folder / report.file_name).read_text(encoding="utf-8") == expected_file(params)
    # The dead attempt's partial file is swept once old.
    assert reports_sweep(older_than=timedelta(0)) == 1
    assert sorted(p.name for p in folder.iterdir()) == [report.file_name]


def test_an_attempt_that_lost_its_lease_does_not_publish_its_file(
    params, operator_a, supervisor_a, reports_root
):
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    # Another worker took the report over (a later attempt) while this one was writing.
    Report.objects.filter(pk=report.pk).update(state=ReportState.RUNNING, attempts=2)
    assert report_generate(report_id=report.pk) is False
    report.refresh_from_db()
    assert report.state == ReportState.RUNNING and report.attempts == 2


def test_a_report_interrupted_too_often_fails_with_its_reason(
    params, operator_a, supervisor_a, reports_root
):
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    Report.objects.filter(pk=report.pk).update(
        state=ReportState.RUNNING, attempts=3, lease_until=timezone.now() - timedelta(minutes=1)
    )
    assert reports_drive()["failed"] == 1
    report.refresh_from_db()
    assert report.state == ReportState.FAILED
    assert "interrompida 3 vezes" in report.error


def test_a_report_nobody_downloads_expires_and_its_file_is_deleted(
    params, operator_a, supervisor_a, reports_root
):
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=params)
    report_generate(report_id=report.pk)
    report.refresh_from_db()
    path = reports_folder(operator_a.pk) / report.file_name
    assert path.exists()
    assert reports_drive(now=report.expires_at - timedelta(seconds=1))["expired"] == 0
    assert reports_drive(now=report.expires_at)["expired"] == 1
    report.refresh_from_db()
    assert report.state == ReportState.EXPIRED and not path.exists()
    with pytest.raises(ReportUnavailable, match="expirou"):
        report_consume(user=supervisor_a, report=report)


def test_a_generation_error_fails_the_report_with_a_reason(
    params, operator_a, supervisor_a, reports_root
):
    bad = ReportParams(**{**params.__dict__, "start": date(2025, 1, 1)})
    report = report_request(user=supervisor_a, operator=operator_a, title="Mensal", params=bad)
    # The application row it points at no longer matches the operator.
    Report.objects.filter(pk=report.pk).update(
        params={**bad.to_json(), "operator_id": operator_a.pk + 1000}
    )
    assert report_generate(report_id=report.pk) is False
    report.refresh_from_db()
    assert report.state == ReportState.FAILED
    assert f"referência {report.pk}" in report.error
    assert not any(reports_folder(operator_a.pk).glob("*"))
