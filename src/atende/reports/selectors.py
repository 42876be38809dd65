"""Reads of reports: a supervisor sees the reports of the operators they supervise (the
requester is one of them; someone who stops supervising stops seeing the personal data)."""

from django.db.models import QuerySet
from django.utils.dateformat import format as date_format
from django.utils.translation import gettext as _

from atende.accounts.models import User
from atende.catalog.models import OccurrenceType, Subject
from atende.core.display import stored_shown
from atende.occurrences.models import State
from atende.reports.models import Report
from atende.reports.params import AttendantMovement, ModeFilter, Movement, ReportParams
from atende.tenancy.models import Application, Operator, Role

REPORT_ROLES = {Role.SUPERVISOR}


def reports_visible_to(*, user: object) -> QuerySet[Report]:
    return Report.objects.for_user(user, roles=REPORT_ROLES).select_related(
        "requested_by", "application"
    )


def operators_reporting(*, user: object) -> QuerySet[Operator]:
    """The operators whose reports this person may request."""
    return Operator.objects.for_user(user, roles=REPORT_ROLES).filter(is_active=True)


def report_filters_describe(reports: list[Report]) -> dict[int, list[tuple[str, str]]]:
    """What each report was asked for, in words; names are read once for the whole page."""
    params = {r.pk: ReportParams.from_json(r.params) for r in reports}
    type_ids = {i for p in params.values() for i in p.type_ids}
    subject_ids = {i for p in params.values() for i in p.subject_ids}
    people = {p.attendant_id for p in params.values() if p.attendant_id}
    types = dict(OccurrenceType.objects.filter(pk__in=type_ids).values_list("pk", "name"))
    subjects = dict(Subject.objects.filter(pk__in=subject_ids).values_list("pk", "name"))
    names = {
        u.pk: u.full_name or u.email
        for u in User.objects.filter(pk__in=people).only("full_name", "email")
    }
    described = {}
    for report in reports:
        p = params[report.pk]
        rows = [
            (_("Application instance"), _application_label(report.application)),
            (
                _("Period"),
                _("%(start)s to %(end)s")
                % {"start": date_format(p.start, "d/m/Y"), "end": date_format(p.end, "d/m/Y")},
            ),
            (_("Movement type"), Movement(p.movement).label),
            (
                _("Include occurrences NOT closed before the selected period"),
                stored_shown(p.include_open_before),
            ),
        ]
        if p.attendant_id:
            rows.append(
                (
                    _("Attendant"),
                    f"{names.get(p.attendant_id, '—')}"
                    f" ({AttendantMovement(p.attendant_movement).label})",
                )
            )
        rows.append((_("State"), ", ".join(str(State(s).label) for s in p.states) or _("All")))
        rows.append(
            (
                _("Occurrence type"),
                ", ".join(types.get(i, "—") for i in p.type_ids) or _("All"),
            )
        )
        rows.append(
            (_("Subject"), ", ".join(subjects.get(i, "—") for i in p.subject_ids) or _("All"))
        )
        rows.append((_("Mode"), ModeFilter(p.mode).label))
        described[report.pk] = rows
    return described


def _application_label(application: Application) -> str:
    return f"{application.get_instance_display()} — {application.bundle}"
