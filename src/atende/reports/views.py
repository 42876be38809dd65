"""The reports pages: the list (refreshing itself while a report is generated), the
new-report form, and the one-time download."""

from datetime import timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.reports.dashboard import dashboard
from atende.reports.forms import DashboardForm, ReportForm
from atende.reports.selectors import (
    operators_reporting,
    report_filters_describe,
    reports_visible_to,
)
from atende.reports.services import ReportUnavailable, report_consume, report_request

LIST_SIZE = 50


@login_required
def report_list(request: HttpRequest) -> HttpResponse:
    if not operators_reporting(user=request.user).exists():
        raise Http404
    reports = list(reports_visible_to(user=request.user)[:LIST_SIZE])
    described = report_filters_describe(reports)
    for report in reports:
        report.filters = described[report.pk]
    context = {"reports": reports, "refreshing": any(r.is_active for r in reports)}
    template = "reports/_table.html" if request.htmx else "reports/list.html"
    return render(request, template, context)


@login_required
def report_new(request: HttpRequest) -> HttpResponse:
    operators = list(operators_reporting(user=request.user))
    if not operators:
        raise Http404
    chosen = request.POST.get("operator") or request.GET.get("operator")
    operator = next((o for o in operators if str(o.pk) == chosen), operators[0])
    form = ReportForm(request.POST or None, operator=operator)
    if request.method == "POST" and form.is_valid():
        try:
            report = report_request(
                user=request.user,
                operator=operator,
                title=form.cleaned_data["title"],
                params=form.params,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                _("Report no. %(number)d requested. You will get an e-mail when it is ready.")
                % {"number": report.pk},
            )
            return redirect("reports:list")
    return render(
        request,
        "reports/new.html",
        {"form": form, "operator": operator, "operators": operators},
    )


@login_required
@require_POST
def report_download(request: HttpRequest, report_id: int) -> HttpResponse:
    # POST: a link previewer or a prefetch must never use up the one download.
    report = reports_visible_to(user=request.user).filter(pk=report_id).first()
    if report is None:
        raise Http404
    try:
        handle, name = report_consume(user=request.user, report=report)
    except ReportUnavailable as error:
        # The list only holds reports of operators this person supervises, so the
        # service's own supervisor check cannot refuse here.
        messages.error(request, str(error))
        return redirect("reports:list")
    return FileResponse(
        handle, as_attachment=True, filename=name, content_type="text/plain; charset=utf-8"
    )


@login_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    """The supervisor's indicators for one of their operators and a period (last 30 days
    by default), as charts drawn by the server with the figures as tables."""
    operators = list(operators_reporting(user=request.user))
    if not operators:
        raise Http404
    today = timezone.localdate()
    start, end, operator = today - timedelta(days=29), today, operators[0]
    # The period shown is in its fields, to be moved from there.
    form = DashboardForm(
        request.GET or None, operators=operators, initial={"start": start, "end": end}
    )
    if form.is_valid():
        operator = form.cleaned_data["operator"] or operator
        start = form.cleaned_data["start"] or start
        end = form.cleaned_data["end"] or end
    figures = dashboard(operator_id=operator.pk, start=start, end=end)
    context = {"form": form, "operator": operator, "start": start, "end": end, **figures}
    return render(request, "reports/dashboard.html", context, status=400 if form.errors else 200)
