"""The configurator's screens (role configurator, per operator): protocol types, occurrence
types with their subjects, statuses, tabs and status actions, outcome reasons, units,
business calendars, SLA policies and the form builder.

Every save goes through the catalog services, in a transaction: what they refuse is shown
next to the field it concerns and nothing is half-stored. Every save also moves the
operator's catalog version, so the panel, the portal and the API use it at once."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Prefetch, Q
from django.forms import modelform_factory
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from atende.catalog.formdefs import fields_clean
from atende.catalog.forms import (
    ActionForm,
    CalendarForm,
    CannedReplyForm,
    ClassificationEditForm,
    ClassificationForm,
    DayOffRows,
    FieldRows,
    FormNameForm,
    LevelEditForm,
    LevelForm,
    NewOccurrenceTypeForm,
    NewStatusRows,
    OccurrenceTypeForm,
    OutcomeReasonForm,
    ProtocolTypeEditForm,
    ProtocolTypeForm,
    SlaPolicyForm,
    StatusForm,
    SubjectForm,
    TabForm,
    UnitForm,
    field_rows_initial,
)
from atende.catalog.models import (
    ActionKind,
    AttendanceTab,
    BusinessCalendar,
    CannedReply,
    Classification,
    Form,
    Level,
    OccurrenceType,
    OutcomeReason,
    ProtocolType,
    SlaPolicy,
    Status,
    StatusAction,
    Subject,
)
from atende.catalog.services import (
    calendar_create,
    calendar_days_off_set,
    canned_reply_create,
    catalog_record_update,
    classification_create,
    form_create,
    form_current_version,
    form_version_publish,
    level_create,
    occurrence_type_create,
    occurrence_type_update,
    outcome_reason_create,
    protocol_type_create,
    sla_policy_create,
    status_action_create,
    status_action_rotate_secret,
    status_action_update,
    status_create,
    status_update,
    subject_create,
    tab_create,
)
from atende.core.display import stored_shown
from atende.core.forms import errors_onto
from atende.notifications.forms import TestSendForm
from atende.occurrences.forms import tab_form_class
from atende.occurrences.models import Channel
from atende.tenancy.models import Operator, Role, Unit
from atende.tenancy.services import unit_create, unit_update

CONFIGURATORS = {Role.CONFIGURATOR}


def _configured(user: object) -> object:
    return Operator.objects.for_user(user, roles=CONFIGURATORS).filter(is_active=True)


def configurator_page(view: Callable) -> Callable:
    """A page of one operator's catalog, for that operator's configurators only; anyone
    else (another operator's configurator included) gets "not found"."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, operator_id: int, **kwargs: object) -> HttpResponse:
        operator = _configured(request.user).filter(pk=operator_id).first()
        if operator is None:
            raise Http404
        return view(request, operator, **kwargs)

    return wrapper


@login_required
def start(request: HttpRequest) -> HttpResponse:
    operators = list(_configured(request.user))
    if not operators:
        raise Http404
    if len(operators) == 1:
        return redirect("catalog:index", operator_id=operators[0].pk)
    return render(request, "catalog/start.html", {"operators": operators})


def _page(request: HttpRequest, operator: Operator, template: str, **context: object):
    status = context.pop("status", 200)
    return render(
        request, f"catalog/{template}.html", {"operator": operator, **context}, status=status
    )


def _saved(
    request: HttpRequest,
    form: object,
    save: Callable[[], object],
    *,
    done: str,
    formset: object = None,
) -> object | None:
    """Run ``save`` when the form (and formset) is valid: its result, or None with the
    service's refusal put on the form."""
    if request.method != "POST" or not form.is_valid():
        return None
    if formset is not None and not formset.is_valid():
        return None
    try:
        with transaction.atomic():
            result = save()
    except ValidationError as error:
        errors_onto(form, error)
        return None
    messages.success(request, done)
    return result


def _record_page(
    request: HttpRequest,
    operator: Operator,
    *,
    form: object,
    title: str,
    back: str,
    status_code: int | None = None,
    **context: object,
) -> HttpResponse:
    failed = request.method == "POST"
    return _page(
        request,
        operator,
        "record_form",
        form=form,
        title=title,
        back=back,
        status=status_code or (400 if failed else 200),
        **context,
    )


@configurator_page
def index(request: HttpRequest, operator: Operator) -> HttpResponse:
    # Filtrar tipo de solicitação com especificações: by the type's or a subject's name.
    query = request.GET.get("q", "").strip()[:120]
    types = OccurrenceType.objects.for_operator(operator).prefetch_related(
        Prefetch("subjects", queryset=Subject.objects.order_by("name"))
    )
    if query:
        types = types.filter(Q(name__icontains=query) | Q(subjects__name__icontains=query))
    context = {
        "q": query,
        "types": types.distinct().order_by("name"),
        "forms": Form.objects.for_operator(operator).order_by("name"),
        "kinds": [(slug, kind.title) for slug, kind in SIMPLE.items()],
    }
    return _page(request, operator, "index", **context)


# --- Simple records: one list, one form to add, one to change ------------------------


@dataclass(frozen=True)
class Simple:
    model: type
    title: str
    columns: tuple[tuple[str, str], ...]
    new_form: type
    edit_form: type
    create: Callable[[Operator, dict], object]
    update: Callable[[object, dict], object]
    related: tuple[str, ...] = ()  # read with each row, for its columns


def _update(record: object, data: dict) -> object:
    return catalog_record_update(record=record, **data)


SIMPLE = {
    "protocolos": Simple(
        ProtocolType,
        gettext_lazy("Protocol types"),
        (("name", gettext_lazy("Name")), ("get_scheme_display", gettext_lazy("Scheme"))),
        modelform_factory(ProtocolType, form=ProtocolTypeForm, exclude=["is_active"]),
        ProtocolTypeEditForm,
        lambda operator, d: protocol_type_create(
            operator=operator,
            name=d["name"],
            scheme=d["scheme"],
            prefix=d["prefix"],
            origin_digit=d["origin_digit"] if d["origin_digit"] is not None else 1,
        ),
        _update,
    ),
    "motivos": Simple(
        OutcomeReason,
        gettext_lazy("Outcome reasons"),
        (("description", gettext_lazy("Description")),),
        modelform_factory(
            OutcomeReason, form=OutcomeReasonForm, fields=["description", "marks_duplicate"]
        ),
        OutcomeReasonForm,
        lambda operator, d: outcome_reason_create(operator=operator, **d),
        _update,
    ),
    "unidades": Simple(
        Unit,
        gettext_lazy("Units"),
        (("name", gettext_lazy("Name")), ("code", gettext_lazy("Code"))),
        modelform_factory(Unit, form=UnitForm, fields=["name", "code"]),
        UnitForm,
        lambda operator, d: unit_create(operator=operator, **d),
        lambda unit, d: unit_update(unit=unit, **d),
    ),
    "calendarios": Simple(
        BusinessCalendar,
        gettext_lazy("Business calendars"),
        (("name", gettext_lazy("Name")), ("state", gettext_lazy("State (UF)"))),
        CalendarForm,
        CalendarForm,
        lambda operator, d: calendar_create(operator=operator, **d),
        _update,
    ),
    "manifestacoes": Simple(
        Classification,
        gettext_lazy("Manifestation types, categories and subcategories"),
        (
            ("get_level_display", gettext_lazy("Level")),
            ("path", gettext_lazy("Belongs to")),
            ("name", gettext_lazy("Name")),
        ),
        ClassificationForm,
        ClassificationEditForm,
        lambda operator, d: classification_create(operator=operator, **d),
        _update,
        ("parent__parent",),
    ),
    "escalas": Simple(
        Level,
        gettext_lazy("Urgency, sentiment and priority scales"),
        (
            ("get_scale_display", gettext_lazy("Scale")),
            ("rank", gettext_lazy("Rank")),
            ("name", gettext_lazy("Name")),
        ),
        LevelForm,
        LevelEditForm,
        lambda operator, d: level_create(operator=operator, **d),
        _update,
    ),
    "respostas": Simple(
        CannedReply,
        gettext_lazy("Canned replies"),
        (("title", gettext_lazy("Title")), ("is_active", gettext_lazy("Active"))),
        modelform_factory(CannedReply, form=CannedReplyForm, fields=["title", "text"]),
        CannedReplyForm,
        lambda operator, d: canned_reply_create(operator=operator, **d),
        _update,
    ),
    "prazos": Simple(
        SlaPolicy,
        gettext_lazy("SLA policies"),
        (("name", gettext_lazy("Name")), ("amount", gettext_lazy("Amount"))),
        SlaPolicyForm,
        SlaPolicyForm,
        lambda operator, d: sla_policy_create(operator=operator, **d),
        lambda policy, d: catalog_record_update(
            record=policy, **{k: v for k, v in d.items() if k != "preset"}
        ),
    ),
}


def _simple(slug: str) -> Simple:
    if slug not in SIMPLE:
        raise Http404
    return SIMPLE[slug]


def _form_kwargs(form_class: type, operator: Operator) -> dict:
    return {"operator": operator} if "scoped" in vars(form_class) else {}


@configurator_page
def record_list(request: HttpRequest, operator: Operator, kind: str) -> HttpResponse:
    simple = _simple(kind)
    records = simple.model.objects.for_operator(operator).order_by("pk")
    if simple.related:
        # select_related() without names is deprecated: only when there is something to join.
        records = records.select_related(*simple.related)
    rows = [
        (record, [_cell(record, attr) for attr, _label in simple.columns]) for record in records
    ]
    return _page(request, operator, "record_list", kind=kind, simple=simple, rows=rows)


def _cell(record: object, attr: str) -> object:
    value = getattr(record, attr)
    value = value() if callable(value) else value
    return stored_shown(value) if isinstance(value, bool) else value


@configurator_page
def record_new(request: HttpRequest, operator: Operator, kind: str) -> HttpResponse:
    simple = _simple(kind)
    form = simple.new_form(request.POST or None, **_form_kwargs(simple.new_form, operator))
    record = _saved(
        request, form, lambda: simple.create(operator, form.cleaned_data), done=_("Saved.")
    )
    back = reverse("catalog:records", args=[operator.pk, kind])
    if record is not None:
        return redirect(back)
    return _record_page(request, operator, form=form, title=simple.title, back=back)


@configurator_page
def record_edit(request: HttpRequest, operator: Operator, kind: str, pk: int) -> HttpResponse:
    simple = _simple(kind)
    record = get_object_or_404(simple.model.objects.for_operator(operator), pk=pk)
    form = simple.edit_form(
        request.POST or None, instance=record, **_form_kwargs(simple.edit_form, operator)
    )
    fields = list(form.fields)
    # A ModelForm writes into its instance while validating: the service gets a fresh copy.
    fresh = type(record).objects.get(pk=record.pk)
    saved = _saved(
        request,
        form,
        lambda: simple.update(fresh, {name: form.cleaned_data[name] for name in fields}),
        done=_("Saved."),
    )
    back = reverse("catalog:records", args=[operator.pk, kind])
    if saved is not None:
        return redirect(back)
    return _record_page(request, operator, form=form, title=simple.title, back=back)


@configurator_page
def days_off(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    calendar = get_object_or_404(BusinessCalendar.objects.for_operator(operator), pk=pk)
    initial = [
        {"date": d.date, "description": d.description, "every_year": d.every_year}
        for d in calendar.days_off.order_by("date")
    ]
    rows = DayOffRows(request.POST or None, prefix="days", initial=initial)
    form = forms.Form(request.POST or None)

    def save() -> object:
        kept = [
            (
                row.cleaned_data["date"],
                row.cleaned_data["description"],
                row.cleaned_data["every_year"],
            )
            for row in rows
            if row.cleaned_data.get("date") and row not in rows.deleted_forms
        ]
        return calendar_days_off_set(calendar=calendar, days_off=kept)

    back = reverse("catalog:records", args=[operator.pk, "calendarios"])
    if _saved(request, form, save, done=_("Days off saved."), formset=rows) is not None:
        return redirect(back)
    return _record_page(
        request,
        operator,
        form=form,
        title=_("Days off of %(calendar)s") % {"calendar": calendar.name},
        back=back,
        formset=rows,
        formset_title=_("Days off"),
        formset_help=_(
            "National, state and municipal holidays are known already; list here the "
            "operator's own days off. Tick Every year for a date that repeats."
        ),
        row_label=_("Day off"),
    )


# --- Occurrence types and what hangs from them ----------------------------------------


def _type(operator: Operator, pk: int) -> OccurrenceType:
    return get_object_or_404(OccurrenceType.objects.for_operator(operator), pk=pk)


def _type_url(occurrence_type: OccurrenceType) -> str:
    return reverse("catalog:type", args=[occurrence_type.operator_id, occurrence_type.pk])


@configurator_page
def type_new(request: HttpRequest, operator: Operator) -> HttpResponse:
    form = NewOccurrenceTypeForm(request.POST or None, operator=operator)
    rows = NewStatusRows(request.POST or None, prefix="status")

    def save() -> OccurrenceType:
        data = dict(form.cleaned_data)
        statuses = [row.cleaned_data for row in rows if row.has_changed() and row.cleaned_data]
        return occurrence_type_create(
            operator=operator,
            statuses=statuses,
            subjects=data.pop("subjects"),
            **data,
        )

    created = _saved(request, form, save, done=_("Occurrence type created."), formset=rows)
    if created is not None:
        return redirect(_type_url(created))
    back = reverse("catalog:index", args=[operator.pk])
    return _record_page(
        request,
        operator,
        form=form,
        title=_("New occurrence type"),
        back=back,
        formset=rows,
        formset_title=_("Statuses"),
        formset_help=_(
            "At least one default status and one closing status; rows left blank are skipped."
        ),
    )


@configurator_page
def type_detail(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    occurrence_type = _type(operator, pk)
    form = OccurrenceTypeForm(request.POST or None, instance=occurrence_type, operator=operator)
    fields = list(form.fields)
    fresh = OccurrenceType.objects.get(pk=pk)
    saved = _saved(
        request,
        form,
        lambda: occurrence_type_update(
            occurrence_type=fresh, **{name: form.cleaned_data[name] for name in fields}
        ),
        done=_("Saved."),
    )
    if saved is not None:
        return redirect(_type_url(occurrence_type))
    statuses = list(occurrence_type.statuses.order_by("order", "pk").prefetch_related("actions"))
    names = {s.pk: s.internal_description for s in statuses}
    for status in statuses:
        for action in status.actions.all():
            action.conditions = _action_conditions(action, names)
    return _page(
        request,
        operator,
        "type_detail",
        occurrence_type=occurrence_type,
        form=form,
        statuses=statuses,
        subjects=occurrence_type.subjects.order_by("name"),
        tabs=occurrence_type.tabs.select_related("form").order_by("order", "pk"),
        status=400 if request.method == "POST" else 200,
    )


def _action_conditions(action: StatusAction, names: dict[int, str]) -> str:
    """An action's conditions in a line, shown next to it on its type's page."""
    parts = []
    if action.from_statuses:
        parts.append(
            _("coming from %(statuses)s")
            % {"statuses": ", ".join(names.get(pk, "?") for pk in action.from_statuses)}
        )
    if action.channels:
        labels = dict(Channel.choices)
        parts.append(
            _("channels %(channels)s")
            % {"channels": ", ".join(str(labels.get(c, c)) for c in action.channels)}
        )
    return "; ".join(parts)


@dataclass(frozen=True)
class Child:
    """A record of an occurrence type (or of one of its statuses) with its own form."""

    model: type
    form: type
    title: str
    create: Callable[[object, dict], object]
    update: Callable[[object, dict], object]
    parent_model: type = OccurrenceType

    def parent_type(self, parent: object) -> OccurrenceType:
        return parent if isinstance(parent, OccurrenceType) else parent.occurrence_type


CHILDREN = {
    "status": Child(
        Status,
        StatusForm,
        gettext_lazy("Status"),
        lambda parent, d: status_create(occurrence_type=parent, **d),
        lambda status, d: status_update(status=status, **d),
    ),
    "assunto": Child(
        Subject,
        SubjectForm,
        gettext_lazy("Subject"),
        lambda parent, d: subject_create(
            occurrence_type=parent, **{k: v for k, v in d.items() if k != "is_active"}
        ),
        _update,
    ),
    "aba": Child(
        AttendanceTab,
        TabForm,
        gettext_lazy("Attendance tab"),
        lambda parent, d: tab_create(
            occurrence_type=parent, **{k: v for k, v in d.items() if k != "is_active"}
        ),
        _update,
    ),
    "acao": Child(
        StatusAction,
        ActionForm,
        gettext_lazy("Status action"),
        lambda parent, d: status_action_create(status=parent, **d),
        lambda action, d: status_action_update(action=action, **d),
        parent_model=Status,
    ),
}


def _child(kind: str) -> Child:
    if kind not in CHILDREN:
        raise Http404
    return CHILDREN[kind]


def _scoped(model: type, operator: Operator) -> object:
    return model.objects.for_operator(operator)


@configurator_page
def child_new(request: HttpRequest, operator: Operator, kind: str, parent: int) -> HttpResponse:
    child = _child(kind)
    owner = get_object_or_404(_scoped(child.parent_model, operator), pk=parent)
    form = child.form(request.POST or None, **_form_kwargs(child.form, operator))
    if kind == "acao":
        form.for_type(owner.occurrence_type)
    created = _saved(
        request, form, lambda: child.create(owner, form.cleaned_data), done=_("Saved.")
    )
    occurrence_type = child.parent_type(owner)
    if created is not None:
        if kind == "acao":
            return redirect("catalog:child_edit", operator.pk, kind, created.pk)
        return redirect(_type_url(occurrence_type))
    return _record_page(
        request,
        operator,
        form=form,
        title=_child_title(child, kind, owner),
        back=_type_url(occurrence_type),
    )


def _child_title(child: "Child", kind: str, owner: object) -> str:
    """An action's page names the status and the type it belongs to."""
    if kind != "acao":
        return str(child.title)
    return _("Action of the status %(status)s (%(type)s)") % {
        "status": owner.internal_description,
        "type": owner.occurrence_type.name,
    }


@configurator_page
def child_edit(request: HttpRequest, operator: Operator, kind: str, pk: int) -> HttpResponse:
    child = _child(kind)
    record = get_object_or_404(_scoped(child.model, operator), pk=pk)
    form = child.form(request.POST or None, instance=record, **_form_kwargs(child.form, operator))
    fields = list(form.fields)
    fresh = child.model.objects.get(pk=pk)
    saved = _saved(
        request,
        form,
        lambda: child.update(fresh, {name: form.cleaned_data[name] for name in fields}),
        done=_("Saved."),
    )
    owner = record.status if kind == "acao" else record
    back = _type_url(owner.occurrence_type)
    if saved is not None:
        return redirect(request.path if kind == "acao" else back)
    extra = {}
    if kind == "acao":
        # Its own ids: the action's form above has a recipient field too.
        extra = {"test_form": TestSendForm(auto_id="test_%s"), "action": record}
    title = _child_title(child, kind, owner)
    return _record_page(request, operator, form=form, title=title, back=back, **extra)


HOOK_SECRET_GRACE = timedelta(hours=24)


@configurator_page
@require_POST
def action_rotate(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    """A new signing secret for a hook; the old one keeps signing for a day, so the
    receiver can switch over without refusing a hook."""
    action = get_object_or_404(
        StatusAction.objects.for_operator(operator), pk=pk, kind=ActionKind.HOOK
    )
    with transaction.atomic():
        status_action_rotate_secret(action=action, grace=HOOK_SECRET_GRACE)
    messages.success(
        request, _("New signing secret made; the previous one still signs for 24 hours.")
    )
    return redirect("catalog:child_edit", operator.pk, "acao", action.pk)


# --- Form builder ----------------------------------------------------------------------


def _rows_fields(rows: object) -> list[tuple[object, dict]]:
    """The field definitions in the order the rows say: the formset's ordered rows leave
    out the deleted ones and the blank extra ones; rows already there stay even when
    unchanged."""
    return [(row, row.definition()) for row in rows.ordered_forms if row.cleaned_data]


def _publish(form: object, rows: object, save: Callable[[list[dict]], object]) -> object:
    definitions = _rows_fields(rows)
    try:
        return save([d for _row, d in definitions])
    except ValidationError as error:
        position = getattr(error, "position", None)
        if position is not None and position <= len(definitions):
            definitions[position - 1][0].add_error(None, error)
            raise ValidationError(_("Check the highlighted field.")) from None
        raise


def _builder(
    request: HttpRequest, operator: Operator, *, form: Form | None, initial_fields: list[dict]
) -> HttpResponse:
    name_form = FormNameForm(request.POST or None, initial={"name": form.name if form else ""})
    rows = FieldRows(
        request.POST or None, prefix="fields", initial=field_rows_initial(initial_fields)
    )
    if request.method == "POST" and "add_field" in request.POST:
        # One more empty row, the typed ones kept: nothing is published until "Save form",
        # so a form of four new fields is one version, not four.
        data = request.POST.copy()
        data["fields-TOTAL_FORMS"] = str(rows.total_form_count() + 1)
        return _page(
            request,
            operator,
            "form_builder",
            builder=form,
            version=form_current_version(form) if form else None,
            name_form=FormNameForm(data),
            rows=FieldRows(data, prefix="fields"),
            preview=_preview_form(initial_fields),
        )
    if form is None:

        def save() -> Form:
            return _publish(
                name_form,
                rows,
                lambda fields: form_create(
                    operator=operator,
                    name=name_form.cleaned_data["name"],
                    fields=fields,
                    user=request.user,
                ),
            )

    else:

        def save() -> object:
            return _publish(
                name_form,
                rows,
                lambda fields: form_version_publish(form=form, fields=fields, user=request.user),
            )

    saved = _saved(request, name_form, save, done=_("Form saved as a new version."), formset=rows)
    if saved is not None:
        target = saved if isinstance(saved, Form) else form
        return redirect("catalog:form", operator.pk, target.pk)
    version = form_current_version(form) if form else None
    return _page(
        request,
        operator,
        "form_builder",
        builder=form,
        version=version,
        name_form=name_form,
        rows=rows,
        preview=_preview_form(initial_fields),
        status=400 if request.method == "POST" else 200,
    )


def _preview_form(fields: list[dict]) -> object:
    return tab_form_class(fields)(prefix="preview") if fields else None


@configurator_page
def form_new(request: HttpRequest, operator: Operator) -> HttpResponse:
    return _builder(request, operator, form=None, initial_fields=[])


@configurator_page
def form_edit(request: HttpRequest, operator: Operator, pk: int) -> HttpResponse:
    form = get_object_or_404(Form.objects.for_operator(operator), pk=pk)
    return _builder(request, operator, form=form, initial_fields=form_current_version(form).fields)


@configurator_page
@require_POST
def form_preview(request: HttpRequest, operator: Operator) -> HttpResponse:
    """The form as attendants will see it, from the builder's rows as they are now."""
    rows = FieldRows(request.POST, prefix="fields")
    fields, problem = [], ""
    if rows.is_valid():
        try:
            fields = fields_clean([d for _row, d in _rows_fields(rows)])
        except ValidationError as error:
            problem = " ".join(error.messages)
    else:
        problem = _("Fill in the label, key and type of every field.")
    context = {"preview": _preview_form(fields), "problem": problem}
    return render(request, "catalog/_preview.html", context)
