"""Report endpoints, for supervisors signed in (session): request a report, follow it,
download it once. The download is a POST: fetching it consumes it, which a GET must not do.
"""

from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.http import FileResponse, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema
from ninja import Status as Reply
from pydantic import Field

from atende.occurrences.schemas import ErrorOut
from atende.reports.models import Report
from atende.reports.params import AttendantMovement, ModeFilter, Movement, report_params_clean
from atende.reports.selectors import REPORT_ROLES, reports_visible_to
from atende.reports.services import ReportUnavailable, report_consume, report_request
from atende.tenancy.auth import ApiError, PersonSessionAuth
from atende.tenancy.models import Application

router = Router(tags=["reports"], auth=PersonSessionAuth())

ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class ReportIn(Schema):
    title: str = Field(max_length=200)
    application: int = Field(description="The application (bundle and instance) reported on.")
    start: date = Field(description="First day of the period, in the operator's time zone.")
    end: date = Field(description="Last day of the period (up to 23:59:59).")
    movement: Movement = Movement.ALL
    include_open_before: bool = False
    attendant: int | None = None
    attendant_movement: AttendantMovement = AttendantMovement.ALL
    states: list[int] = Field(
        default_factory=list, description="1 Novo, 2 Aberto, 3 Em atendimento, 4 Encerrado"
    )
    types: list[int] = Field(default_factory=list)
    subjects: list[int] = Field(default_factory=list)
    mode: ModeFilter = ModeFilter.ALL


class ReportOut(Schema):
    id: int
    title: str
    state: str
    params: dict
    lines_written: int
    lines_estimate: int | None
    progress_percent: int
    error: str
    created_at: datetime
    finished_at: datetime | None
    expires_at: datetime | None
    downloaded_at: datetime | None

    @staticmethod
    def from_report(report: Report) -> "ReportOut":
        return ReportOut(
            id=report.pk,
            title=report.title,
            state=report.state,
            params=report.params,
            lines_written=report.lines_written,
            lines_estimate=report.lines_estimate,
            progress_percent=report.progress_percent,
            error=report.error,
            created_at=report.created_at,
            finished_at=report.finished_at,
            expires_at=report.expires_at,
            downloaded_at=report.downloaded_at,
        )


@router.post(
    "/reports",
    response={201: ReportOut, 400: ErrorOut, **ERRORS},
    summary="Request an occurrence report",
)
def request_report(request: HttpRequest, body: ReportIn) -> Reply:
    application = (
        Application.objects.for_user(request.user, roles=REPORT_ROLES)
        .select_related("operator")
        .filter(pk=body.application)
        .first()
    )
    if application is None:
        raise ValidationError(
            {"application": _("Choose an application instance of an operator you supervise.")}
        )
    params = report_params_clean(
        operator=application.operator,
        application_id=application.pk,
        start=body.start,
        end=body.end,
        movement=body.movement,
        include_open_before=body.include_open_before,
        attendant_id=body.attendant,
        attendant_movement=body.attendant_movement,
        states=body.states,
        type_ids=body.types,
        subject_ids=body.subjects,
        mode=body.mode,
    )
    report = report_request(
        user=request.user, operator=application.operator, title=body.title, params=params
    )
    return Reply(201, ReportOut.from_report(report))


@router.get("/reports", response={200: list[ReportOut], **ERRORS}, summary="Reports I may see")
def list_reports(request: HttpRequest) -> list[ReportOut]:
    return [ReportOut.from_report(r) for r in reports_visible_to(user=request.user)[:100]]


@router.get("/reports/{report_id}", response={200: ReportOut, **ERRORS}, summary="A report's state")
def read_report(request: HttpRequest, report_id: int) -> ReportOut:
    return ReportOut.from_report(reports_visible_to(user=request.user).get(pk=report_id))


@router.post(
    "/reports/{report_id}/download",
    response={410: ErrorOut, **ERRORS},
    summary="Download a report (once)",
    openapi_extra={
        "responses": {
            200: {
                "description": "The report file (UTF-8 text); it is deleted once sent.",
                "content": {"text/plain": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_report(request: HttpRequest, report_id: int) -> FileResponse:
    report = reports_visible_to(user=request.user).get(pk=report_id)
    try:
        handle, name = report_consume(user=request.user, report=report)
    except ReportUnavailable as error:
        raise ApiError(410, "report_unavailable", str(error)) from None
    return FileResponse(
        handle, as_attachment=True, filename=name, content_type="text/plain; charset=utf-8"
    )
