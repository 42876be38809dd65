"""The Registro de Atendimento screens: a citizen's report analysed from the intake queue
(the list is the occurrences app's, for every kind of draft) with the duplicate check,
Inserir RA (full and simplified), routing many at once,
the registration's panel inside the occurrence page, and the configurator's settings and
locality rules."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from atende.catalog.views import configurator_page
from atende.core.forms import errors_onto
from atende.occurrences.forms import form_submission
from atende.occurrences.models import EventKind, Mode, Occurrence, State
from atende.occurrences.selectors import (
    occurrence_by_protocol,
    occurrences_visible_to,
)
from atende.occurrences.services import (
    Conflict,
    NotAllowed,
    actor_among,
    created_once,
    occurrence_discard,
    occurrence_relate,
    submitted,
)
from atende.occurrences.views import _occurrence, value_shown, working_actors
from atende.registrations.forms import (
    AttachForm,
    BatchClosingForm,
    BillingRuleForm,
    DiscardForm,
    GeneralForm,
    IncidentCloseForm,
    IncidentForm,
    IncidentReasonForm,
    LocalityRuleForm,
    ManualBlockForm,
    OrderForm,
    OrderMoveForm,
    PlaceForm,
    ProcedureFileForm,
    PromoteForm,
    ReactivateForm,
    RegistrationForm,
    RequesterForm,
    RouteManyForm,
    ServiceTypeForm,
    SettingsForm,
    SimplifiedForm,
    subjects_with_place,
)
from atende.registrations.models import (
    BatchClosing,
    BillingRule,
    Incident,
    IncidentReason,
    LocalityRule,
    ManualBlock,
    OpeningForm,
    OrderState,
    Place,
    ProcedureFile,
    PropertyAccount,
    RegistrationSettings,
    Requester,
    ServiceOrder,
    ServiceType,
)
from atende.registrations.selectors import (
    distance_of,
    duplicates_find,
    related_of,
    routings_of,
)
from atende.registrations.services import (
    REQUESTER_FIELDS,
    batch_closing_request,
    billing_rule_save,
    draft_attach,
    draft_promote,
    incident_close,
    incident_create,
    incident_for,
    locality_rule_save,
    manual_block_reserve,
    manual_blocks_used,
    order_create,
    order_move,
    order_refusal,
    place_update,
    procedure_file_add,
    procedure_file_remove,
    registration_open,
    registration_reactivate,
    registration_update,
    registrations_route,
    requester_add,
    requester_update,
    service_type_save,
    sms_token_new,
)

ROUTABLE_LISTED = 200


def _registration(request: HttpRequest, protocol: str, *, changing: bool = False):
    """A registration the person sees, with them as its actor (404 otherwise)."""
    occurrence, actor = _occurrence(request, protocol, changing=changing)
    if not occurrence.occurrence_type.has_place:
        raise Http404
    return occurrence, actor


# --- The intake queue ------------------------------------------------------------------


def _draft_context(draft: Occurrence, actor: object, **forms: object) -> dict:
    place = Place.objects.filter(occurrence=draft).first()
    values = {name: getattr(place, name) for name in PlaceForm.PLACE} if place else {}
    matches = []
    if draft.subject_id and place is not None:
        matches = duplicates_find(
            operator_id=draft.operator_id, subject_id=draft.subject_id, place=values
        )
    # Registrations of units the attendant does not work are counted, not shown.
    shown = [m for m in matches if actor.sees(m.occurrence)]
    incident = (
        incident_for(operator_id=draft.operator_id, subject=draft.subject, place=values)
        if draft.subject_id and place is not None
        else None
    )
    initial = {"version": draft.version}
    return {
        "draft": draft,
        "place": place,
        "requesters": list(draft.requesters.order_by("pk")),
        "photos": [
            a for a in draft.attachments.order_by("pk") if a.content_type.startswith("image/")
        ],
        "files": [
            a for a in draft.attachments.order_by("pk") if not a.content_type.startswith("image/")
        ],
        "matches": shown,
        "hidden_matches": len(matches) - len(shown),
        "incident": incident,
        "distance": distance_of(draft.operator_id),
        "promote_form": forms.get("promote_form")
        or PromoteForm(
            initial={**initial, **values, "subject": draft.subject_id},
            occurrence_type=draft.occurrence_type,
        ),
        "discard_form": forms.get("discard_form") or DiscardForm(initial=initial),
        "attach_form": AttachForm(initial=initial),
    }


@login_required
def draft(request: HttpRequest, protocol: str) -> HttpResponse:
    occurrence, _actor = _registration(request, protocol)
    if occurrence.mode != Mode.DRAFT or occurrence.state == State.CLOSED:
        # Already analysed: the registration it became (or the closed report) is shown.
        return redirect("occurrences:detail", protocol=occurrence.protocol)
    return render(request, "registrations/draft.html", _draft_context(occurrence, _actor))


def _draft_action(
    request: HttpRequest, protocol: str, form_class: type, key: str, do
) -> HttpResponse:
    occurrence, actor = _registration(request, protocol, changing=True)
    extra = {"occurrence_type": occurrence.occurrence_type} if form_class is PromoteForm else {}
    form = form_class(request.POST, **extra)
    if form.is_valid():
        try:
            result = do(occurrence, actor, form)
        except Conflict as conflict:
            messages.warning(request, str(conflict))
            return redirect("registrations:draft", protocol=occurrence.protocol)
        except NotAllowed as refusal:
            messages.error(request, str(refusal))
            return redirect("registrations:draft", protocol=occurrence.protocol)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            return result
    messages.error(request, _("Check the highlighted fields."))
    if form_class is AttachForm:
        return redirect("registrations:draft", protocol=occurrence.protocol)
    current = get_object_or_404(Occurrence, pk=occurrence.pk)
    context = _draft_context(current, actor, **{key: form})
    return render(request, "registrations/draft.html", context, status=400)


def _after_intake(actor: object, registration: Occurrence) -> HttpResponse:
    """The registration's page, or, when it went to a unit the attendant does not work,
    the intake queue again."""
    if actor.sees(registration):
        return redirect("occurrences:detail", protocol=registration.protocol)
    return redirect("registrations:intake")


@require_POST
@login_required
def draft_open(request: HttpRequest, protocol: str) -> HttpResponse:
    def do(occurrence: Occurrence, actor: object, form: PromoteForm) -> HttpResponse:
        draft_promote(
            actor=actor,
            draft=occurrence,
            subject=form.cleaned_data["subject"],
            place=form.place(),
            expected_version=form.cleaned_data["version"],
        )
        messages.success(
            request,
            _("Registration %(protocol)s opened; the protocol goes to the citizen by SMS.")
            % {"protocol": occurrence.protocol},
        )
        return _after_intake(actor, occurrence)

    return _draft_action(request, protocol, PromoteForm, "promote_form", do)


@require_POST
@login_required
def draft_join(request: HttpRequest, protocol: str) -> HttpResponse:
    def do(occurrence: Occurrence, actor: object, form: AttachForm) -> HttpResponse:
        try:
            target = occurrence_by_protocol(
                occurrences_visible_to(actors=[actor]), form.cleaned_data["target"], related=False
            )
        except Occurrence.DoesNotExist:
            raise ValidationError(_("The registration was not found.")) from None
        occurrence_relate(target, actor=actor)
        draft_attach(
            actor=actor,
            draft=occurrence,
            target=target,
            expected_version=form.cleaned_data["version"],
        )
        messages.success(
            request,
            _("Report attached to %(protocol)s; its protocol goes to the citizen by SMS.")
            % {"protocol": target.protocol},
        )
        return _after_intake(actor, target)

    return _draft_action(request, protocol, AttachForm, "attach_form", do)


@require_POST
@login_required
def draft_drop(request: HttpRequest, protocol: str) -> HttpResponse:
    def do(occurrence: Occurrence, actor: object, form: DiscardForm) -> HttpResponse:
        occurrence_discard(
            actor=actor,
            draft=occurrence,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
        messages.success(
            request, _("Report %(protocol)s discarded.") % {"protocol": occurrence.protocol}
        )
        return redirect("registrations:intake")

    return _draft_action(request, protocol, DiscardForm, "discard_form", do)


# --- Inserir RA ------------------------------------------------------------------------


def _insert(request: HttpRequest, form_class: type, title: str) -> HttpResponse:
    actors = working_actors(request)
    operator_ids = {a.operator_id for a in actors}
    chosen = request.POST.get("subject") or request.GET.get("subject", "")
    form = form_class(
        request.POST or None,
        request.FILES or None,
        operator_ids=operator_ids,
        chosen=chosen,
        path=request.path,
    )
    matches = []
    incident = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        subject = data["subject"]
        operator_id = subject.occurrence_type.operator_id
        application = data["application"]
        if application.operator_id != operator_id:
            form.add_error(
                "application", _("Choose an application of the specification's operator.")
            )
        else:
            place = form.place()
            actor = actor_among(actors, operator_id=operator_id)
            submission = form_submission(request.POST, request.user)
            earlier = submitted(submission)
            if earlier is not None:
                # The form sent again (before its duplicate check, which would offer the
                # registration the first send opened).
                messages.success(
                    request,
                    _("Registration %(protocol)s opened.") % {"protocol": earlier.protocol},
                )
                return _after_intake(actor, earlier)
            if not data.get("confirmed"):
                # The duplicate check comes before anything is saved (the registrations
                # the attendant sees: those of their units, or all).
                try:
                    matches = duplicates_find(
                        operator_id=operator_id, subject_id=subject.pk, place=_probe(place)
                    )
                except (TypeError, ValueError):
                    matches = []
                matches = [m for m in matches if actor.sees(m.occurrence)]
                incident = incident_for(
                    operator_id=operator_id, subject=subject, place=_probe(place)
                )
            if not matches and not (incident and not data.get("confirmed")):
                try:
                    occurrence, _replayed = created_once(
                        submission,
                        lambda: registration_open(
                            actor=actor,
                            application=application,
                            occurrence_type=subject.occurrence_type,
                            subject=subject,
                            channel=data.get("channel") or "telefone",
                            description=data["description"],
                            place=place,
                            requesters=form.requesters(),
                            document=data.get("document"),
                            manual_protocol=data.get("manual_protocol") or "",
                            form_data=form.opening_data(),
                        ),
                    )
                except ValidationError as error:
                    errors_onto(form, _requester_errors(error))
                else:
                    messages.success(
                        request,
                        _("Registration %(protocol)s opened.") % {"protocol": occurrence.protocol},
                    )
                    return _after_intake(actor, occurrence)
            else:
                data_copy = request.POST.copy()
                data_copy["confirmed"] = "on"
                form = form_class(
                    data_copy,
                    request.FILES or None,
                    operator_ids=operator_ids,
                    chosen=chosen,
                    path=request.path,
                )
                form.is_valid()
    if request.method == "POST" and not matches and form.errors:
        messages.error(request, _("Check the highlighted fields."))
    return render(
        request,
        "registrations/insert.html",
        {"form": form, "title": title, "matches": matches, "incident": incident},
        status=400 if request.method == "POST" and form.errors else 200,
    )


def _probe(place: dict) -> dict:
    """The typed place as the duplicate check reads it (coordinates as numbers)."""
    probe = dict(place)
    for name in ("latitude", "longitude"):
        raw = str(probe.get(name) or "").replace(",", ".")
        probe[name] = float(raw) if raw else None
    if (probe["latitude"] is None) != (probe["longitude"] is None):
        probe["latitude"] = probe["longitude"] = None
    return probe


def _requester_errors(error: ValidationError) -> ValidationError:
    """The service names a requester's fields plainly; the form prefixes them."""
    if not hasattr(error, "error_dict"):
        return error
    renamed = {
        (
            f"requester_{key}" if key in {"name", "identifier", "phone", "email", "unit"} else key
        ): value
        for key, value in error.message_dict.items()
    }
    return ValidationError(renamed)


@login_required
def insert(request: HttpRequest) -> HttpResponse:
    return _insert(request, RegistrationForm, _("New registration (RA)"))


@login_required
def insert_simplified(request: HttpRequest) -> HttpResponse:
    return _insert(request, SimplifiedForm, _("New registration — simplified"))


# --- Routing many ----------------------------------------------------------------------


@login_required
def route_many(request: HttpRequest) -> HttpResponse:
    """Tramitar conjunto de registros: the open registrations the person sees, selected and
    sent to one unit with one opinion."""
    actors = working_actors(request)
    operator_ids = {a.operator_id for a in actors}
    routable = (
        occurrences_visible_to(actors=actors)
        .filter(mode=Mode.ACTIVE, occurrence_type__has_place=True)
        .exclude(state=State.CLOSED)
        .select_related("subject", "unit", "place")
        .order_by("-registered_at")
    )
    unit_filter = request.GET.get("unidade", "")
    if unit_filter.isdigit():
        routable = routable.filter(unit_id=int(unit_filter))
    form = RouteManyForm(request.POST or None, queryset=routable, operator_ids=operator_ids)
    if request.method == "POST" and form.is_valid():
        chosen = list(form.cleaned_data["occurrences"])
        operator_id = form.cleaned_data["unit"].operator_id
        try:
            if any(o.operator_id != operator_id for o in chosen):
                raise ValidationError({"unit": _("Choose a unit of the registrations' operator.")})
            actor = actor_among(actors, operator_id=operator_id)
            for occurrence in chosen:
                occurrence_relate(occurrence, actor=actor)
            routed = registrations_route(
                actor=actor,
                occurrences=chosen,
                unit=form.cleaned_data["unit"],
                opinion=form.cleaned_data["opinion"],
            )
        except (ValidationError, NotAllowed) as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("%(count)d registrations routed.") % {"count": routed})
            return redirect("registrations:route")
    if request.method == "POST" and form.errors:
        messages.error(request, _("Check the highlighted fields."))
    rows = list(routable[:ROUTABLE_LISTED])
    chosen = {str(v) for v in (form["occurrences"].value() or [])}
    return render(
        request,
        "registrations/route.html",
        {"form": form, "rows": rows, "chosen": chosen},
        status=400 if request.method == "POST" and form.errors else 200,
    )


# --- The registration's panel ----------------------------------------------------------


def _panel_context(occurrence: Occurrence, actor: object, **forms: object) -> dict:
    place = Place.objects.filter(occurrence=occurrence).first()
    values = {name: getattr(place, name) for name in PlaceForm.PLACE} if place else {}
    visible = occurrences_visible_to(actors=[actor])
    subject = occurrence.subject if occurrence.subject_id else None
    editing = forms.get("editing")
    people = []
    for requester in occurrence.requesters.select_related("unit", "origin").order_by("pk"):
        if editing is not None and editing[0] == requester.pk:
            form = editing[1]
        else:
            form = RequesterForm(
                initial={name: getattr(requester, name) for name in REQUESTER_FIELDS},
                operator_id=occurrence.operator_id,
                auto_id=f"rq{requester.pk}_%s",
            )
        people.append((requester, form))
    requester_form = forms.get("requester_form") or RequesterForm(
        operator_id=occurrence.operator_id, auto_id="rq_%s"
    )
    place_form = forms.get("place_form") or PlaceForm(initial=values, auto_id="pl_%s")
    general_form = forms.get("general_form") or GeneralForm(
        initial={"subject": occurrence.subject_id, "description": occurrence.description},
        occurrence_type=occurrence.occurrence_type,
        auto_id="gd_%s",
    )
    order_form = forms.get("order_form") or OrderForm(occurrence=occurrence, auto_id="os_%s")
    reactivate_form = None
    if occurrence.is_closed and actor.is_supervisor and occurrence.mode == Mode.ACTIVE:
        reactivate_form = forms.get("reactivate_form") or ReactivateForm(
            initial={"version": occurrence.version}, auto_id="ra_%s"
        )
    return {
        "occurrence": occurrence,
        "place": place,
        "requesters": people,
        "orders": list(
            occurrence.service_orders.select_related("service_type", "unit").order_by("number")
        ),
        "order_form": order_form,
        "reactivate_form": reactivate_form,
        "routings": list(routings_of(occurrence)),
        "related": related_of(place, visible=visible) if place is not None else None,
        "debtor": place is not None
        and bool(place.property_registration)
        and PropertyAccount.objects.filter(
            operator_id=occurrence.operator_id,
            property_registration=place.property_registration,
            debtor=True,
        ).exists(),
        "opening_form": _opening_items(occurrence),
        "procedure": subject.procedure if subject is not None else "",
        "procedure_files": list(subject.procedure_files.filter(is_active=True))
        if subject is not None
        else [],
        "required_document": subject.required_document if subject is not None else "",
        "open": occurrence.state != State.CLOSED,
        "requester_form": requester_form,
        "place_form": place_form,
        "general_form": general_form,
        "panel_forms": [
            requester_form,
            place_form,
            general_form,
            order_form,
            *([reactivate_form] if reactivate_form is not None else []),
            *([editing[1]] if editing is not None else []),
        ],
    }


def _opening_items(occurrence: Occurrence) -> list[tuple[str, object]]:
    """The specification's form as filled at opening, labelled by its version."""
    filled = OpeningForm.objects.filter(occurrence=occurrence).select_related("form_version")
    opening = filled.first()
    if opening is None:
        return []
    return [
        (field["label"], value_shown(opening.data.get(field["key"]), field))
        for field in opening.form_version.fields
    ]


@login_required
def panel(request: HttpRequest, protocol: str) -> HttpResponse:
    occurrence, actor = _registration(request, protocol)
    return render(request, "registrations/_panel.html", _panel_context(occurrence, actor))


def _panel_change(
    request: HttpRequest,
    protocol: str,
    make_form: Callable[[Occurrence], object],
    key: str,
    do,
    *,
    bound: Callable[[object], object] | None = None,
    go: Callable[[object], str] | None = None,
) -> HttpResponse:
    """One change from the registration's panel: the registration read once, the form
    made for it from what was posted, the service called; refused, the panel again with
    the form as typed (``bound`` says how the panel takes it)."""
    occurrence, actor = _registration(request, protocol, changing=True)
    form = make_form(occurrence)
    if form.is_valid():
        try:
            result = do(occurrence, actor, form.cleaned_data)
        except (NotAllowed, Conflict) as refusal:
            form.add_error(None, str(refusal))
        except ValidationError as error:
            errors_onto(form, error)
        else:
            if go is None:
                messages.success(request, _("Saved."))
                target = occurrence.protocol
            else:
                target = go(result)
            response = HttpResponse(status=204)
            # The whole page again: the history shows the event, the version is current.
            response["HX-Redirect"] = reverse("occurrences:detail", args=[target])
            return response
    context = _panel_context(occurrence, actor, **{key: bound(form) if bound else form})
    return render(request, "registrations/_panel.html", context, status=400)


@require_POST
@login_required
def requester_new(request: HttpRequest, protocol: str) -> HttpResponse:
    return _panel_change(
        request,
        protocol,
        lambda o: RequesterForm(request.POST, operator_id=o.operator_id, auto_id="rq_%s"),
        "requester_form",
        lambda o, a, data: requester_add(actor=a, occurrence=o, values=data),
    )


@require_POST
@login_required
def requester_edit(request: HttpRequest, protocol: str, pk: int) -> HttpResponse:
    def make_form(o: Occurrence) -> RequesterForm:
        get_object_or_404(Requester, occurrence=o, pk=pk)
        return RequesterForm(request.POST, operator_id=o.operator_id, auto_id=f"rq{pk}_%s")

    def do(o: Occurrence, a: object, data: dict) -> None:
        requester = Requester.objects.get(occurrence=o, pk=pk)
        requester.occurrence = o
        requester_update(actor=a, requester=requester, values=data)

    return _panel_change(request, protocol, make_form, "editing", do, bound=lambda form: (pk, form))


@require_POST
@login_required
def general_edit(request: HttpRequest, protocol: str) -> HttpResponse:
    return _panel_change(
        request,
        protocol,
        lambda o: GeneralForm(request.POST, occurrence_type=o.occurrence_type, auto_id="gd_%s"),
        "general_form",
        lambda o, a, data: registration_update(
            actor=a, occurrence=o, subject=data["subject"], description=data["description"]
        ),
    )


@require_POST
@login_required
def place_edit(request: HttpRequest, protocol: str) -> HttpResponse:
    return _panel_change(
        request,
        protocol,
        lambda o: PlaceForm(request.POST, auto_id="pl_%s"),
        "place_form",
        lambda o, a, data: place_update(actor=a, occurrence=o, values=data),
    )


# --- Configurator ----------------------------------------------------------------------


@configurator_page
def settings(request: HttpRequest, operator: object) -> HttpResponse:
    current = RegistrationSettings.objects.filter(operator=operator).first()
    form = SettingsForm(
        request.POST or None,
        instance=current or RegistrationSettings(operator=operator),
        operator=operator,
    )
    token = None
    if request.method == "POST" and "new_token" in request.POST and current is not None:
        token = sms_token_new(config=current)
        form = SettingsForm(instance=current, operator=operator)
    elif request.method == "POST" and "billing_remove" in request.POST:
        BillingRule.objects.filter(operator=operator, pk=request.POST["billing_remove"]).delete()
        messages.success(request, _("Rule removed."))
        return redirect("registrations:settings", operator_id=operator.pk)
    elif (
        request.method == "POST"
        and not {"billing", "incident_reason"} & set(request.POST)
        and form.is_valid()
    ):
        form.save()
        messages.success(request, _("Saved."))
        return redirect("registrations:settings", operator_id=operator.pk)
    billing_form = BillingRuleForm(
        request.POST if "billing" in request.POST else None,
        instance=BillingRule(operator=operator),
        operator=operator,
        prefix="billing",
    )
    if "billing" in request.POST and billing_form.is_valid():
        try:
            billing_rule_save(rule=billing_form.instance)
        except ValidationError as error:
            errors_onto(billing_form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("registrations:settings", operator_id=operator.pk)
    reason_form = IncidentReasonForm(
        request.POST if "incident_reason" in request.POST else None,
        instance=IncidentReason(operator=operator),
        prefix="incident",
    )
    if "incident_reason" in request.POST and reason_form.is_valid():
        reason_form.instance.description = reason_form.instance.description.strip()
        reason_form.save()
        messages.success(request, _("Saved."))
        return redirect("registrations:settings", operator_id=operator.pk)
    query = request.GET.get("q", "").strip()
    rules = LocalityRule.objects.filter(operator=operator).select_related("subject", "unit")
    if query:
        rules = (
            rules.filter(city__icontains=query)
            | rules.filter(neighbourhood__icontains=query)
            | rules.filter(subject__name__icontains=query)
        )
    return render(
        request,
        "registrations/settings.html",
        {
            "operator": operator,
            "form": form,
            "configured": current is not None,
            "token": token,
            "rules": rules.order_by("city", "neighbourhood", "pk")[:500],
            "q": query,
            "billing_form": billing_form,
            "reason_form": reason_form,
            "incident_reasons": IncidentReason.objects.filter(operator=operator, is_active=True),
            "specifications": subjects_with_place({operator.pk})
            .filter(occurrence_type__operator=operator)
            .select_related("default_unit")
            .order_by("occurrence_type__name", "name"),
            "billing_rules": BillingRule.objects.filter(operator=operator).select_related(
                "subject", "unit"
            ),
        },
        status=400
        if request.method == "POST" and (form.errors or billing_form.errors or reason_form.errors)
        else 200,
    )


@configurator_page
def rule(request: HttpRequest, operator: object, pk: int | None = None) -> HttpResponse:
    instance = (
        get_object_or_404(LocalityRule, operator=operator, pk=pk)
        if pk is not None
        else LocalityRule(operator=operator)
    )
    form = LocalityRuleForm(request.POST or None, instance=instance, operator=operator)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                locality_rule_save(rule=form.instance)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("registrations:settings", operator_id=operator.pk)
    return render(
        request,
        "registrations/rule.html",
        {"operator": operator, "form": form, "rule": instance if pk else None},
        status=400 if request.method == "POST" and form.errors else 200,
    )


# --- POP files -------------------------------------------------------------------------


@configurator_page
def procedure(request: HttpRequest, operator: object, subject_id: int) -> HttpResponse:
    """The files of a specification's POP (its text is edited with the specification)."""
    subject = get_object_or_404(
        subjects_with_place({operator.pk}).filter(occurrence_type__operator=operator),
        pk=subject_id,
    )
    form = ProcedureFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and "remove" in request.POST:
        found = ProcedureFile.objects.filter(subject=subject, pk=request.POST["remove"]).first()
        if found is not None:
            procedure_file_remove(procedure=found)
            messages.success(request, _("File removed from the POP."))
        return redirect("registrations:procedure", operator_id=operator.pk, subject_id=subject.pk)
    if request.method == "POST" and form.is_valid():
        try:
            procedure_file_add(subject=subject, upload=form.cleaned_data["file"])
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("File added to the POP."))
            return redirect(
                "registrations:procedure", operator_id=operator.pk, subject_id=subject.pk
            )
    return render(
        request,
        "registrations/procedure.html",
        {
            "operator": operator,
            "subject": subject,
            "form": form,
            "files": subject.procedure_files.filter(is_active=True),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
def procedure_download(request: HttpRequest, token: str) -> FileResponse:
    """A POP file, for whoever works for its operator."""
    operators = {a.operator_id for a in working_actors(request)}
    found = ProcedureFile.objects.filter(
        token=token, operator_id__in=operators, is_active=True
    ).first()
    if found is None:
        raise Http404
    # Served as a download, never rendered: an uploaded file is not trusted content.
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.name,
        content_type="application/octet-stream",
    )


# --- Service orders --------------------------------------------------------------------


@require_POST
@login_required
def order_new(request: HttpRequest, protocol: str) -> HttpResponse:
    return _panel_change(
        request,
        protocol,
        lambda o: OrderForm(request.POST, occurrence=o, auto_id="os_%s"),
        "order_form",
        lambda o, a, data: order_create(
            actor=a,
            occurrence=o,
            service_type=data["service_type"],
            unit=data["unit"],
            priority=data["priority"],
            scheduled_for=data["scheduled_for"],
        ),
    )


def _of_my_units(actors: list) -> Q:
    """Rows with a unit (orders, blocks) of the units the person works: every unit for a
    supervisor or whoever is not bound to units."""
    scope = Q(pk__in=[])
    for actor in actors:
        mine = Q(operator_id=actor.operator_id)
        if actor.unit_ids and not actor.is_supervisor:
            mine &= Q(unit_id__in=actor.unit_ids)
        scope |= mine
    return scope


def _orders_of(actors: list) -> object:
    return ServiceOrder.objects.filter(_of_my_units(actors))


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    """The executing units' work queue: open service orders, most urgent and oldest first."""
    actors = working_actors(request)
    open_orders = (
        _orders_of(actors)
        .exclude(state=OrderState.CLOSED)
        .select_related("service_type", "unit", "occurrence__place")
        .order_by("-priority", "scheduled_for", "created_at")
    )
    unit = request.GET.get("unidade", "")
    if unit.isdigit():
        open_orders = open_orders.filter(unit_id=int(unit))
    return render(
        request, "registrations/orders.html", {"orders": list(open_orders[:ROUTABLE_LISTED])}
    )


def _order(request: HttpRequest, pk: int) -> tuple[ServiceOrder, object]:
    actors = working_actors(request)
    order = (
        _orders_of(actors)
        .select_related("service_type", "unit", "occurrence")
        .filter(pk=pk)
        .first()
    )
    if order is None:
        raise Http404
    return order, actor_among(actors, operator_id=order.operator_id)


# What the order's page offers from each state: (state it moves to, button, asks outcome).
ORDER_BUTTONS = {
    OrderState.PENDING: [(OrderState.RUNNING, gettext_lazy("Start execution"))],
    OrderState.RUNNING: [
        (OrderState.RELEASE, gettext_lazy("Executed: awaiting release")),
        (OrderState.PENDING, gettext_lazy("Back to pending")),
    ],
    OrderState.RELEASE: [(OrderState.RUNNING, gettext_lazy("Back to execution"))],
}


def _order_context(order: ServiceOrder, actor: object, form: object = None) -> dict:
    place = Place.objects.filter(occurrence_id=order.occurrence_id).first()
    return {
        "order": order,
        "place": place,
        "registration": order.occurrence,
        "sees_registration": actor.sees(order.occurrence),
        "refusal": order_refusal(actor, order),
        "buttons": ORDER_BUTTONS.get(order.state, []),
        "close_form": form
        or OrderMoveForm(initial={"version": order.version, "state": OrderState.CLOSED}),
        "events": order.occurrence.events.filter(
            kind=EventKind.SERVICE_ORDER, payload__order=order.number
        ).order_by("seq"),
    }


@login_required
def order(request: HttpRequest, pk: int) -> HttpResponse:
    order, actor = _order(request, pk)
    if request.method == "POST":
        form = OrderMoveForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                order_move(
                    actor=actor,
                    order=order,
                    state=data["state"],
                    expected_version=data["version"],
                    outcome=data["outcome"],
                    opinion=data["opinion"],
                )
            except Conflict as conflict:
                messages.warning(request, str(conflict))
            except (NotAllowed, Occurrence.DoesNotExist) as refusal:
                messages.error(request, str(refusal) or _("Not allowed."))
            except ValidationError as error:
                errors_onto(form, error)
                if data["state"] != OrderState.CLOSED:
                    messages.error(request, " ".join(error.messages))
                    return redirect("registrations:order", pk=order.pk)
                messages.error(request, _("Check the highlighted fields."))
                context = _order_context(order, actor, form)
                return render(request, "registrations/order.html", context, status=400)
            else:
                messages.success(request, _("Service order updated."))
            return redirect("registrations:order", pk=order.pk)
        messages.error(request, _("Check the highlighted fields."))
        return render(
            request, "registrations/order.html", _order_context(order, actor, form), status=400
        )
    return render(request, "registrations/order.html", _order_context(order, actor))


@configurator_page
def service_types(request: HttpRequest, operator: object) -> HttpResponse:
    form = ServiceTypeForm(
        request.POST or None, instance=ServiceType(operator=operator), operator=operator
    )
    if request.method == "POST" and "deactivate" in request.POST:
        ServiceType.objects.filter(operator=operator, pk=request.POST["deactivate"]).update(
            is_active=False
        )
        messages.success(request, _("Service type deactivated."))
        return redirect("registrations:service_types", operator_id=operator.pk)
    if request.method == "POST" and form.is_valid():
        try:
            service_type_save(service_type=form.instance)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("registrations:service_types", operator_id=operator.pk)
    return render(
        request,
        "registrations/service_types.html",
        {
            "operator": operator,
            "form": form,
            "types": ServiceType.objects.filter(operator=operator, is_active=True).select_related(
                "subject", "default_unit"
            ),
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def reactivate(request: HttpRequest, protocol: str) -> HttpResponse:
    """Reativar RA, from the closed registration's page (supervisors)."""

    def do(o: Occurrence, a: object, data: dict) -> Occurrence:
        created = registration_reactivate(
            actor=a, occurrence=o, reason=data["reason"], expected_version=data["version"]
        )
        messages.success(
            request,
            _("Registration %(protocol)s reactivated as %(new)s.")
            % {"protocol": o.protocol, "new": created.protocol},
        )
        return created

    return _panel_change(
        request,
        protocol,
        lambda o: ReactivateForm(request.POST, auto_id="ra_%s"),
        "reactivate_form",
        do,
        go=lambda created: created.protocol,
    )


# --- Manual numbering ------------------------------------------------------------------


@login_required
def manual_blocks(request: HttpRequest) -> HttpResponse:
    """Gerar numeração de RA manual: supervisors reserve blocks for a unit's paper forms;
    everyone sees the blocks of their units and which numbers were used."""
    actors = working_actors(request)
    supervising = {a.operator_id for a in actors if a.is_supervisor}
    form = ManualBlockForm(request.POST or None, operator_ids=supervising)
    if request.method == "POST":
        if not supervising:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            operator_id = data["occurrence_type"].operator_id
            try:
                if data["unit"].operator_id != operator_id:
                    raise ValidationError({"unit": _("Choose a unit of the type's operator.")})
                block = manual_block_reserve(
                    actor=actor_among(actors, operator_id=operator_id),
                    unit=data["unit"],
                    occurrence_type=data["occurrence_type"],
                    count=data["count"],
                )
            except (ValidationError, NotAllowed) as error:
                errors_onto(form, error)
            else:
                messages.success(
                    request,
                    _("Numbers %(block)s reserved for %(unit)s.")
                    % {"block": block, "unit": block.unit.name},
                )
                return redirect("registrations:manual_blocks")
    blocks = list(
        ManualBlock.objects.filter(_of_my_units(actors)).select_related("unit", "occurrence_type")[
            :200
        ]
    )
    used = manual_blocks_used(blocks)
    return render(
        request,
        "registrations/manual_blocks.html",
        {
            "form": form if supervising else None,
            "blocks": [(b, used[b.pk]) for b in blocks],
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Operational incidents -------------------------------------------------------------


@login_required
def incidents(request: HttpRequest) -> HttpResponse:
    """Ocorrências operacionais: the open ones and the latest closed; supervisors register."""
    actors = working_actors(request)
    supervising = {a.operator_id for a in actors if a.is_supervisor}
    form = IncidentForm(request.POST or None, operator_ids=supervising)
    if request.method == "POST":
        if not supervising:
            raise Http404
        if form.is_valid():
            data = form.cleaned_data
            operator_id = data["reason"].operator_id
            try:
                incident = incident_create(
                    actor=actor_among(actors, operator_id=operator_id),
                    reason=data["reason"],
                    description=data["description"],
                    subjects=list(data["subjects"]),
                    city=data["city"],
                    neighbourhoods=data["neighbourhoods"].splitlines(),
                    latitude=data["latitude"],
                    longitude=data["longitude"],
                    radius_m=data["radius_m"],
                    starts_at=data["starts_at"],
                    expected_end_at=data["expected_end_at"],
                )
            except (ValidationError, NotAllowed) as error:
                errors_onto(form, error)
            else:
                messages.success(request, _("Operational incident registered."))
                return redirect("registrations:incident", pk=incident.pk)
        messages.error(request, _("Check the highlighted fields."))
    listed = (
        Incident.objects.filter(operator_id__in={a.operator_id for a in actors})
        .select_related("reason")
        .annotate(linked=Count("places"))
        .order_by(F("closed_at").desc(nulls_first=True), "-starts_at")[:100]
    )
    return render(
        request,
        "registrations/incidents.html",
        {"form": form if supervising else None, "incidents": listed},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def incident(request: HttpRequest, pk: int) -> HttpResponse:
    actors = working_actors(request)
    found = (
        Incident.objects.filter(operator_id__in={a.operator_id for a in actors}, pk=pk)
        .select_related("reason")
        .first()
    )
    if found is None:
        raise Http404
    actor = actor_among(actors, operator_id=found.operator_id)
    form = IncidentCloseForm(request.POST or None, incident=found)
    if request.method == "POST":
        if not actor.is_supervisor:
            raise Http404
        if form.is_valid():
            try:
                closed, refused = incident_close(
                    actor=actor,
                    incident=found,
                    status=form.cleaned_data["status"],
                    outcome_text=form.cleaned_data["outcome_text"],
                )
            except ValidationError as error:
                errors_onto(form, error)
            else:
                messages.success(
                    request,
                    _("Incident closed; registrations closed with it: %(n)d.") % {"n": closed},
                )
                for protocol, reason in refused:
                    messages.warning(request, f"{protocol}: {reason}")
                return redirect("registrations:incident", pk=found.pk)
    linked = (
        Occurrence.objects.filter(place__incident=found)
        .select_related("status", "subject", "place")
        .order_by("-registered_at")[:500]
    )
    return render(
        request,
        "registrations/incident.html",
        {
            "incident": found,
            "subjects": found.subjects.select_related("occurrence_type"),
            "linked": linked,
            "form": form if actor.is_supervisor and found.closed_at is None else None,
        },
        status=400 if request.method == "POST" else 200,
    )


# --- Comandar encerramento -------------------------------------------------------------


@login_required
def batch_closings(request: HttpRequest) -> HttpResponse:
    """Supervisors command the closing of every open registration matching criteria; the
    worker does it, the list shows its progress and what was refused."""
    actors = [a for a in working_actors(request) if a.is_supervisor]
    if not actors:
        raise Http404
    operator_ids = {a.operator_id for a in actors}
    form = BatchClosingForm(request.POST or None, operator_ids=operator_ids)
    if request.method == "POST":
        if form.is_valid():
            status = form.cleaned_data["status"]
            try:
                batch = batch_closing_request(
                    actor=actor_among(actors, operator_id=status.occurrence_type.operator_id),
                    criteria=form.criteria(),
                    status=status,
                    reason=form.cleaned_data["reason"],
                    outcome_text=form.cleaned_data["outcome_text"],
                )
            except (ValidationError, NotAllowed) as error:
                errors_onto(form, error)
            else:
                messages.success(
                    request,
                    _("Batch closing commanded: %(n)d registrations match.") % {"n": batch.total},
                )
                return redirect("registrations:batch_closings")
        messages.error(request, _("Check the highlighted fields."))
    batches = BatchClosing.objects.filter(operator_id__in=operator_ids).select_related(
        "status", "requested_by"
    )[:30]
    return render(
        request,
        "registrations/batch_closings.html",
        {"form": form, "batches": batches},
        status=400 if request.method == "POST" else 200,
    )


@login_required
def batch_closing(request: HttpRequest, pk: int) -> HttpResponse:
    """One batch's progress, polled while it runs."""
    actors = [a for a in working_actors(request) if a.is_supervisor]
    batch = (
        BatchClosing.objects.filter(operator_id__in={a.operator_id for a in actors}, pk=pk)
        .select_related("status", "requested_by")
        .first()
    )
    if batch is None:
        raise Http404
    return render(request, "registrations/_batch.html", {"batch": batch})
