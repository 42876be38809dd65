"""The registry's screens: finding a person and a card's page (attendants and
supervisors; every page view is logged as an access), and the configurator's import,
procedure groups with their waiting periods, and critique settings."""

import contextlib
from decimal import Decimal
from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from atende.beneficiaries.critiques import registry_settings
from atende.beneficiaries.forms import (
    AnonymiseForm,
    ImportForm,
    ProcedureGroupForm,
    RegistrySettingsForm,
    SearchForm,
    WaitingPeriodsForm,
)
from atende.beneficiaries.imports import import_request, problems_csv
from atende.beneficiaries.models import (
    Address,
    Beneficiary,
    CardWaitingPeriod,
    Guide,
    Import,
    Invoice,
    PartialCoverage,
    ProcedureGroup,
    Product,
    WaitingPeriod,
)
from atende.beneficiaries.records import SCALARS
from atende.beneficiaries.selectors import (
    beneficiaries_for_user,
    beneficiary_record,
    beneficiary_search,
    reading_operators,
    supervises,
)
from atende.beneficiaries.services import (
    GUIDES,
    INVOICES,
    PARTIAL_COVERAGES,
    WAITING_PERIODS,
    access_record,
    person_anonymise,
    procedure_group_save,
    waiting_periods_set,
)
from atende.catalog.views import configurator_page
from atende.core.display import stored_shown
from atende.core.forms import errors_onto
from atende.tenancy.models import Operator

IMPORTS_LISTED = 20
# The rows hanging from a card, by the first word of their name in a change (``Kind``),
# and the card's addresses.
AUDITED_ROWS = {
    INVOICES.label: Invoice,
    GUIDES.label: Guide,
    WAITING_PERIODS.label: CardWaitingPeriod,
    PARTIAL_COVERAGES.label: PartialCoverage,
    "addresses": Address,
}
FIELD_LABELS = {
    **{name: Beneficiary._meta.get_field(name).verbose_name for name in SCALARS},
    "product": gettext_lazy("product"),
    "phones": gettext_lazy("phones"),
    "emails": gettext_lazy("e-mails"),
    "addresses": gettext_lazy("addresses"),
}
# The card's own fields first, in the record's order; the rows hanging from it after.
FIELD_ORDER = {name: i - len(FIELD_LABELS) for i, name in enumerate(FIELD_LABELS)}
PROBLEMS_SHOWN = 100


def _reader_check(request: HttpRequest) -> None:
    if not reading_operators(request.user):
        raise Http404


@login_required
def search(request: HttpRequest) -> HttpResponse:
    _reader_check(request)
    form = SearchForm(request.GET or None)
    results, searched = [], False
    if form.is_bound and form.is_valid():
        text, born = form.cleaned_data["q"], form.cleaned_data["birth_date"]
        searched = bool(text or born)
        results = beneficiary_search(user=request.user, text=text, birth_date=born)
    context = {"form": form, "results": results, "searched": searched}
    template = "beneficiaries/_results.html" if request.htmx else "beneficiaries/search.html"
    return render(request, template, context, status=400 if form.errors else 200)


@login_required
def detail(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_object_or_404(
        beneficiaries_for_user(request.user).select_related("product", "operator"), pk=pk
    )
    return _detail_page(request, beneficiary)


def _detail_page(
    request: HttpRequest,
    beneficiary: Beneficiary,
    *,
    anonymise_form: AnonymiseForm | None = None,
    status: int = 200,
) -> HttpResponse:
    """The person's page (each showing logged as an access), with the anonymisation form
    as it was sent when it was refused."""
    access_record(user=request.user, beneficiary=beneficiary, screen="beneficiary_page")
    record = beneficiary_record(beneficiary=beneficiary)
    unpaid = record.unpaid_since
    supervising = supervises(request.user, beneficiary.operator_id)
    context = {
        "b": beneficiary,
        "record": record,
        "contacts": list(beneficiary.contacts.all()),
        "addresses": list(beneficiary.addresses.all()),
        "coverages": list(beneficiary.partial_coverages.select_related("group")),
        "invoices": list(beneficiary.invoices.all()[:24]),
        "guides": list(beneficiary.guides.all()[:50]),
        "overdue_days": (record.today - unpaid).days if unpaid and unpaid < record.today else 0,
        "supervising": supervising,
    }
    if supervising:
        context["history"] = [
            (change, _described(change.fields))
            for change in beneficiary.changes.select_related("user", "job", "token")[:50]
        ]
        context["accesses"] = list(beneficiary.accesses.select_related("user")[:50])
        context["anonymise_form"] = anonymise_form or AnonymiseForm()
    return render(request, "beneficiaries/detail.html", context, status=status)


def _described(fields: dict) -> list[tuple[str, str, str]]:
    """A change's fields with their names and values as the reader reads them."""
    described = []
    for name, values in sorted(fields.items(), key=lambda item: FIELD_ORDER.get(item[0], 0)):
        before, after = values if isinstance(values, list) and len(values) == 2 else (None, values)
        model = AUDITED_ROWS.get(name.split(" ")[0])
        shown = partial(_shown, model=model or Beneficiary, name=None if model else name)
        described.append((FIELD_LABELS.get(name, name), shown(before), shown(after)))
    return described


def _shown(value: object, *, model: type, name: str | None) -> str:
    """An audited value (JSON: text, number, ISO date, list, a row's fields) in the
    reader's words: a choice by its label, a date as dd/mm/aaaa, a row field by field."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list):  # rows (addresses) hold commas of their own
        return "; ".join(_shown(item, model=model, name=name) for item in value)
    if isinstance(value, dict):
        return ", ".join(
            f"{getattr(_field(model, key), 'verbose_name', key)}: "
            f"{_shown(item, model=model, name=key)}"
            for key, item in _in_model_order(model, value)
        )
    field = _field(model, name)
    if field is not None and field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DecimalField):
        with contextlib.suppress(ArithmeticError, ValueError, TypeError):
            return number_format(Decimal(value), field.decimal_places, use_l10n=True)
    return stored_shown(value, is_date=isinstance(field, models.DateField))


def _in_model_order(model: type, values: dict) -> list[tuple[str, object]]:
    """A stored row's fields in the order its model declares them (PostgreSQL's jsonb
    keeps keys in an order of its own)."""
    order = {field.name: i for i, field in enumerate(model._meta.fields)}
    return sorted(values.items(), key=lambda item: order.get(item[0], len(order)))


def _field(model: type, name: str | None) -> models.Field | None:
    try:
        return model._meta.get_field(name) if name else None
    except FieldDoesNotExist:
        return None


@login_required
@require_POST
def anonymise(request: HttpRequest, pk: int) -> HttpResponse:
    beneficiary = get_object_or_404(
        beneficiaries_for_user(request.user).select_related("product", "operator"), pk=pk
    )
    if not supervises(request.user, beneficiary.operator_id):
        raise Http404
    form = AnonymiseForm(request.POST, cpf=beneficiary.cpf)
    if form.is_valid():
        with transaction.atomic():
            counts = person_anonymise(
                operator=beneficiary.operator, cpf=beneficiary.cpf, user=request.user
            )
        messages.success(
            request,
            _(
                "The person's data was replaced by placeholders: %(cards)d cards, "
                "%(occurrences)d occurrences, %(deliveries)d messages."
            )
            % counts,
        )
        return redirect("beneficiaries:detail", pk=beneficiary.pk)
    return _detail_page(request, beneficiary, anonymise_form=form, status=400)


# --- Configurator -------------------------------------------------------------------


def _config(request: HttpRequest, operator: Operator, template: str, **context: object):
    status = context.pop("status", 200)
    return render(
        request, f"beneficiaries/{template}.html", {"operator": operator, **context}, status=status
    )


@configurator_page
def imports(request: HttpRequest, operator: Operator) -> HttpResponse:
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                job = import_request(
                    user=request.user, operator=operator, upload=form.cleaned_data["file"]
                )
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("File received: the import runs in the background."))
            return redirect("beneficiaries:import", operator_id=operator.pk, pk=job.pk)
    jobs = list(
        Import.objects.for_operator(operator).select_related("requested_by")[:IMPORTS_LISTED]
    )
    status = 400 if form.errors else 200
    return _config(request, operator, "imports", form=form, jobs=jobs, status=status)


@configurator_page
def import_detail(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    job = get_object_or_404(Import.objects.for_operator(operator), pk=pk)
    problems = list(job.problems.all()[:PROBLEMS_SHOWN]) if not job.is_active else []
    context = {"job": job, "problems": problems, "shown": PROBLEMS_SHOWN}
    if request.htmx:
        return render(request, "beneficiaries/_import.html", {"operator": operator, **context})
    return _config(request, operator, "import", **context)


@configurator_page
def import_problems(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    job = get_object_or_404(Import.objects.for_operator(operator), pk=pk)
    response = StreamingHttpResponse(problems_csv(job), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="importacao-{job.pk}-erros.csv"'
    return response


@configurator_page
def groups(request: HttpRequest, operator: Operator) -> HttpResponse:
    form = ProcedureGroupForm(request.POST or None, instance=ProcedureGroup(operator=operator))
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                procedure_group_save(group=form.instance)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("beneficiaries:groups", operator_id=operator.pk)
    context = {
        "form": form,
        "groups": ProcedureGroup.objects.for_operator(operator),
        "products": Product.objects.for_operator(operator),
        "status": 400 if form.errors else 200,
    }
    return _config(request, operator, "groups", **context)


@configurator_page
def product(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    item = get_object_or_404(Product.objects.for_operator(operator), pk=pk)
    current = dict(WaitingPeriod.objects.filter(product=item).values_list("group_id", "days"))
    form = WaitingPeriodsForm(
        request.POST or None,
        groups=list(ProcedureGroup.objects.for_operator(operator)),
        current=current,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                waiting_periods_set(product=item, days=form.days())
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("beneficiaries:groups", operator_id=operator.pk)
    status = 400 if form.errors else 200
    return _config(request, operator, "product", product=item, form=form, status=status)


@configurator_page
def critique_settings(request: HttpRequest, operator: Operator) -> HttpResponse:
    form = RegistrySettingsForm(request.POST or None, instance=registry_settings(operator.pk))
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, _("Saved."))
        return redirect("beneficiaries:critiques", operator_id=operator.pk)
    status = 400 if form.errors else 200
    return _config(request, operator, "critiques", form=form, status=status)
