"""Report requests, their background generation, the one-time download and expiry.

A request is a row first (queued); a worker claims it with a conditional UPDATE that counts
an attempt and sets a lease, writes the file to a temporary name while a keeper thread
renews the lease and publishes progress, and only the attempt still holding the lease
turns the file into the report. A worker that dies leaves a lease that runs out; the
scheduler's ``reports_drive`` then queues the report again, and the next attempt starts
over. The first download consumes the report and deletes its file.
"""

import logging
import os
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.core.leases import lease_claim, stale_redrive
from atende.core.mail import mail_from_templates
from atende.notifications.models import Channel, Purpose
from atende.notifications.services import delivery_enqueue
from atende.occurrences.models import Event
from atende.reports.models import Report, ReportState
from atende.reports.params import ReportParams
from atende.reports.selectors import operators_reporting
from atende.reports.writer import report_write
from atende.tenancy.models import Operator

logger = logging.getLogger(__name__)

TITLE_MAX = 200


class ReportUnavailable(Exception):
    """The report's file cannot be downloaded (already downloaded, expired, not ready)."""

    def __init__(self, report: Report) -> None:
        self.state = report.state
        super().__init__(
            {
                ReportState.DOWNLOADED: _(
                    "This report was already downloaded. Each report is downloaded only "
                    "once: request a new one to get another copy."
                ),
                ReportState.EXPIRED: _(
                    "This report expired before it was downloaded. Request a new one."
                ),
                ReportState.FAILED: _("This report failed. Request a new one."),
            }.get(report.state, _("This report is not ready yet."))
        )


class _LeaseLost(Exception):
    pass


def reports_folder(operator_id: int) -> Path:
    return Path(settings.REPORTS_ROOT) / str(operator_id)


def report_supervisor_check(*, user: object, operator: Operator | int) -> None:
    operator_id = operator if isinstance(operator, int) else operator.pk
    if not operators_reporting(user=user).filter(pk=operator_id).exists():
        raise ValidationError(_("Only the operator's supervisors request reports."), code="denied")


def report_request(*, user: object, operator: Operator, title: str, params: ReportParams) -> Report:
    """Queue a report; the worker picks it up after the commit."""
    report_supervisor_check(user=user, operator=operator)
    title = (title or "").strip()
    if not title:
        raise ValidationError({"title": _("Give the report a title.")})
    if len(title) > TITLE_MAX:
        raise ValidationError({"title": _("At most %(max)d characters.") % {"max": TITLE_MAX}})
    if params.operator_id != operator.pk:
        raise ValidationError(_("These parameters belong to another operator."))
    now = timezone.now()
    report = Report.objects.create(
        operator=operator,
        application_id=params.application_id,
        requested_by=user,
        title=title,
        params=params.to_json(),
        created_at=now,
        enqueued_at=now,
    )
    transaction.on_commit(lambda: _enqueue(report.pk))
    return report


def _enqueue(report_id: int) -> None:
    from atende.reports.tasks import report_generate_task

    report_generate_task.enqueue(report_id=report_id)


def report_estimate(params: ReportParams, *, time_zone: str) -> int:
    """An upper bound of the file's lines, cheap to count: the application's report events
    up to the period end (the filters only take lines away), plus header and footer."""
    _first, after = params.bounds(time_zone)
    events = Event.objects.filter(
        operator_id=params.operator_id,
        occurrence__application_id=params.application_id,
        at__lt=after,
    ).exclude(report_code="")
    return events.count() + 2


def report_generate(*, report_id: int) -> bool:
    """Claim the report and write it; True when this call made it ready."""
    now = timezone.now()
    lease = timedelta(seconds=settings.REPORT_LEASE_SECONDS)
    claimed = lease_claim(
        Report,
        report_id,
        now=now,
        lease=lease,
        max_attempts=settings.REPORT_MAX_ATTEMPTS,
        lines_written=0,
        error="",
    )
    if not claimed:
        return False
    report = Report.objects.select_related("operator").get(pk=report_id)
    mine = Report.objects.filter(pk=report_id, state=ReportState.RUNNING, attempts=report.attempts)
    folder = reports_folder(report.operator_id)
    folder.mkdir(parents=True, exist_ok=True)
    part = folder / f"{report.pk}-{report.attempts}.part"
    final = folder / f"{report.pk}-{report.attempts}.txt"
    params = ReportParams.from_json(report.params)
    keeper = _LeaseKeeper(mine, lease)
    try:
        mine.update(lines_estimate=report_estimate(params, time_zone=report.operator.time_zone))
        keeper.start()
        with part.open("wb") as out:
            lines = report_write(params, out, progress=keeper.progress)
            out.flush()
            os.fsync(out.fileno())
        keeper.stop()
        if keeper.lost:
            raise _LeaseLost
        part.replace(final)
        finished = timezone.now()
        with transaction.atomic():
            done = mine.update(
                state=ReportState.READY,
                file_name=final.name,
                size=final.stat().st_size,
                lines_written=lines,
                finished_at=finished,
                expires_at=finished + timedelta(days=settings.REPORT_EXPIRY_DAYS),
                lease_until=None,
            )
            if not done:
                raise _LeaseLost
            # The notice is a delivery made with the state it announces: never one without
            # the other, and at most one per report.
            _ready_notice(Report.objects.select_related("requested_by").get(pk=report_id))
    except _LeaseLost:
        # Another attempt owns the report now; it writes its own file.
        part.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        return False
    except Exception:
        logger.exception("Report %s failed", report_id)
        part.unlink(missing_ok=True)
        mine.update(
            state=ReportState.FAILED,
            error=_("The report could not be generated (reference %(id)s).") % {"id": report_id},
            finished_at=timezone.now(),
            lease_until=None,
        )
        return False
    finally:
        keeper.stop()
    return True


class _LeaseKeeper(threading.Thread):
    """Renews the lease and publishes the line count every few seconds, from its own
    database connection, while the main thread streams the file in a transaction."""

    def __init__(self, mine: object, lease: timedelta) -> None:
        super().__init__(daemon=True, name="report-lease")
        self.mine = mine
        self.lease = lease
        self.lines = 0
        self.lost = False
        self._stopped = threading.Event()
        self.interval = max(0.5, min(3.0, lease.total_seconds() / 4))

    def progress(self, lines: int) -> None:
        self.lines = lines
        if self.lost:
            raise _LeaseLost

    def run(self) -> None:
        try:
            while not self._stopped.wait(self.interval):
                renewed = self.mine.update(
                    lines_written=self.lines, lease_until=timezone.now() + self.lease
                )
                if not renewed:
                    self.lost = True
                    return
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopped.set()
        if self.is_alive():
            self.join()


def report_consume(*, user: object, report: Report) -> tuple[BinaryIO, str]:
    """The one download: marks the report downloaded, opens its file and deletes it from
    the disk (the open handle still reads it). Any other caller gets ReportUnavailable."""
    report_supervisor_check(user=user, operator=report.operator_id)
    now = timezone.now()
    taken = Report.objects.filter(pk=report.pk, state=ReportState.READY).update(
        state=ReportState.DOWNLOADED, downloaded_at=now, downloaded_by=user
    )
    report.refresh_from_db()
    if not taken:
        raise ReportUnavailable(report)
    path = reports_folder(report.operator_id) / report.file_name
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        Report.objects.filter(pk=report.pk).update(
            state=ReportState.FAILED, error=_("The report's file was lost. Request a new one.")
        )
        report.refresh_from_db()
        raise ReportUnavailable(report) from None
    path.unlink()
    return handle, report_download_name(report)


def report_download_name(report: Report) -> str:
    return f"relatorio-ocorrencias-{report.pk}.txt"


def reports_drive(*, now: datetime | None = None) -> dict[str, int]:
    """The scheduler's pass: queue again what a dead worker left or a lost task never
    started, fail what was interrupted too often, expire unread files."""
    now = now or timezone.now()
    exhausted, again = stale_redrive(
        Report,
        now=now,
        max_attempts=settings.REPORT_MAX_ATTEMPTS,
        exhausted_error=_("The report was interrupted %(n)d times; request it again.")
        % {"n": settings.REPORT_MAX_ATTEMPTS},
        enqueue=_enqueue,
    )
    expired = 0
    for report in Report.objects.filter(state=ReportState.READY, expires_at__lte=now):
        if Report.objects.filter(pk=report.pk, state=ReportState.READY).update(
            state=ReportState.EXPIRED
        ):
            (reports_folder(report.operator_id) / report.file_name).unlink(missing_ok=True)
            expired += 1
    return {"failed": exhausted, "requeued": again, "expired": expired}


def _ready_notice(report: Report) -> None:
    """E-mail the requester through the delivery pipeline. Only the report's number and
    where to fetch it: the title may name someone, and the file never travels by e-mail."""
    if not report.requested_by.is_active:
        return
    context = {
        "report": report,
        "user": report.requested_by,
        "link": settings.SITE_URL + reverse("reports:list"),
        "days": settings.REPORT_EXPIRY_DAYS,
    }
    message = mail_from_templates(
        name="reports/ready", context=context, to=[report.requested_by.email]
    )
    delivery_enqueue(
        key=f"report:{report.pk}:ready",
        purpose=Purpose.REPORT_READY,
        channel=Channel.EMAIL,
        operator_id=report.operator_id,
        recipient=report.requested_by.email,
        subject=message.subject,
        body=message.body,
        html=message.alternatives[0].content if message.alternatives else "",
    )


def reports_sweep(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete files no report points at (left by an attempt that died before finishing)."""
    root = Path(settings.REPORTS_ROOT)
    if not root.exists():
        return 0
    keep = set(
        Report.objects.filter(state=ReportState.READY).values_list("operator_id", "file_name")
    )
    limit = (timezone.now() - older_than).timestamp()
    removed = 0
    for path in root.glob("*/*"):
        if (int(path.parent.name), path.name) in keep or path.stat().st_mtime > limit:
            continue
        path.unlink(missing_ok=True)
        removed += 1
    return removed
