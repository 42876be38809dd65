"""The call center's screens: registering a contact (with the registry's search and the
phone system's calls waiting), the contact page where the attendant records each
manifestation, raises pendencies, consults the side panel and ends the call."""

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from atende.beneficiaries.critiques import beneficiary_critiques, waiting_periods
from atende.beneficiaries.models import GuideSituation, ProcedureGroup
from atende.beneficiaries.selectors import beneficiary_search
from atende.beneficiaries.services import access_record
from atende.callcenter.forms import (
    AuditForm,
    ContactDataForm,
    ManifestationForm,
    PendencyForm,
    SearchForm,
    SendForm,
    ServiceForm,
    SettingsForm,
    StartForm,
)
from atende.callcenter.models import (
    Call,
    CallCenterSettings,
    Contact,
    ContactStatus,
    EntryKind,
    Service,
)
from atende.callcenter.selectors import (
    calls_missed,
    calls_waiting,
    contact_for,
    contact_items,
    contacts_visible_to,
    with_status,
)
from atende.callcenter.services import (
    audit_record,
    contact_abandon,
    contact_data_update,
    contact_finish,
    contact_new_event,
    contact_start,
    entry_record,
    erp_records,
    manifestation_record,
    pendency_create,
    portal_logins,
    portal_password_reset,
    protocol_send,
    service_refusal,
    service_request,
    service_type,
    settings_of,
    settings_save,
)
from atende.catalog.views import configurator_page
from atende.core.forms import errors_onto
from atende.occurrences.forms import form_submission
from atende.occurrences.models import Occurrence
from atende.occurrences.selectors import beneficiary_occurrences
from atende.occurrences.services import Actor, NotAllowed
from atende.occurrences.views import working_actors

CONTACTS_LISTED = 20
HISTORY_LISTED = 30
SERVICES = {
    "indicacao": Service.INDICATION,
    "reembolso": Service.REFUND,
    "autorizacao-reembolso": Service.REFUND_AUTHORISATION,
    "segunda-via": Service.CARD_COPY,
}
SECTIONS = {
    "requests": EntryKind.REQUESTS,
    "detail": EntryKind.DETAIL,
    "history": EntryKind.HISTORY,
    "waiting": EntryKind.WAITING,
    "financial": EntryKind.FINANCIAL,
}


def _operators(actors: list[Actor]) -> list:
    return sorted((a.operator for a in actors), key=lambda o: o.name)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    actors = working_actors(request)
    names = {a.operator_id: a.operator.name for a in actors}
    call = None
    if request.method == "POST":
        form = StartForm(request.POST, operators=_operators(actors))
        if form.is_valid():
            data = form.cleaned_data
            call = _call(request, data.get("call"))
            try:
                contact = contact_start(
                    user=request.user,
                    attendant_operator_id=data["attendant_operator"],
                    operator_id=data["operator"],
                    card=data["card"],
                    channel=data["channel"],
                    call=call,
                    actors=actors,
                    submission=form_submission(request.POST, request.user),
                )
            except (ValidationError, NotAllowed) as error:
                errors_onto(form, _as_validation(error))
            else:
                if request.htmx:
                    # The page itself, at once: the protocol on screen in one round trip. The
                    # address becomes the contact's, so a reload reads it, never posts again.
                    response = contact_page(request, contact.pk)
                    response["HX-Push-Url"] = reverse("callcenter:contact", args=[contact.pk])
                    return response
                return redirect("callcenter:contact", pk=contact.pk)
    else:
        initial = {k: v for k, v in request.GET.items() if k in ("card", "operator", "channel")}
        call = _call(request, request.GET.get("call"))
        if call is not None:
            initial.update(
                operator=call.operator_id,
                attendant_operator=call.operator_id,
                channel=call.channel,
                call=call.pk,
                ivr_code=call.ivr_code,
                card=call.ivr_code,
            )
        form = StartForm(initial=initial or None, operators=_operators(actors))
    visible = with_status(contacts_visible_to(actors)).select_related("beneficiary")
    supervised = [a.operator_id for a in actors if a.is_supervisor]
    context = {
        "form": form,
        "search_form": SearchForm(operators=names),
        "call": call,
        "live": list(
            visible.filter(attendant=request.user, finished_at=None, abandoned_at=None).order_by(
                "-started_at"
            )[:CONTACTS_LISTED]
        ),
        "recent": list(visible.order_by("-started_at")[:CONTACTS_LISTED]),
        "missed": list(calls_missed(supervised)[:CONTACTS_LISTED]) if supervised else [],
        "statuses": ContactStatus,
    }
    return render(request, "callcenter/home.html", context, status=400 if form.errors else 200)


def _as_validation(error: Exception) -> ValidationError:
    return error if isinstance(error, ValidationError) else ValidationError(str(error))


def _call(request: HttpRequest, pk: object) -> Call | None:
    if not pk:
        return None
    try:
        return Call.objects.filter(pk=int(pk), attendant=request.user).first()
    except (TypeError, ValueError):
        return None


@login_required
def search(request: HttpRequest) -> HttpResponse:
    """The registry's search, each card offered to start the contact with."""
    names = {a.operator_id: a.operator.name for a in working_actors(request)}
    form = SearchForm(request.GET, operators=names)
    results = []
    if form.is_valid() and (form.cleaned_data["q"] or form.cleaned_data["birth_date"]):
        data = form.cleaned_data
        results = beneficiary_search(
            user=request.user,
            text=data["q"],
            birth_date=data["birth_date"],
            operator_id=data["search_operator"],
        )
        results = [(found, names.get(found.beneficiary.operator_id, "")) for found in results]
    return render(
        request,
        "callcenter/_search.html",
        {"results": results, "searched": form.is_bound, "search_form": form},
        status=400 if form.errors else 200,
    )


@login_required
def calls(request: HttpRequest) -> HttpResponse:
    """The calls waiting for the signed-in attendant (polled by every panel page)."""
    working_actors(request)
    return render(request, "callcenter/_calls.html", {"calls": calls_waiting(request.user)})


def _contact(request: HttpRequest, pk: int) -> Contact:
    contact = contact_for(working_actors(request), pk)
    if contact is None:
        raise Http404
    return contact


@login_required
def contact(request: HttpRequest, pk: int) -> HttpResponse:
    return contact_page(request, pk)


def contact_page(request: HttpRequest, pk: int) -> HttpResponse:
    item = _contact(request, pk)
    access_record(user=request.user, beneficiary=item.beneficiary, screen="call_center")
    return _page(request, item)


def _page(request: HttpRequest, contact: Contact, bound: dict | None = None) -> HttpResponse:
    """The contact page; ``bound`` holds a refused form by its key, shown as typed. The
    protocols' forms come in a request of their own each (``protocol_forms``), so the
    protocol is on screen first; a refused one is drawn in the page with what was typed."""
    bound = bound or {}
    items = contact_items(contact)
    live = contact.status == ContactStatus.IN_PROGRESS
    for item in items:
        pk = item.occurrence.pk
        item.inline = any(key in bound for key in (f"m{pk}", f"p{pk}", f"s{pk}"))
        if item.inline:
            _item_forms(item, contact, bound)
    context = {
        "contact": contact,
        "b": contact.beneficiary,
        "items": items,
        "live": live,
        "critiques": beneficiary_critiques(contact.beneficiary, today=timezone.localdate()),
        "audit_form": bound.get("audit") or AuditForm(),
        "entries": list(contact.entries.select_related("actor")),
        "side": bound.get("service"),
        "statuses": ContactStatus,
    }
    status = 400 if bound else 200
    return render(request, "callcenter/contact.html", context, status=status)


def _item_forms(item: object, contact: Contact, bound: dict) -> None:
    """A protocol's forms: its manifestation, a pendency and sending it."""
    pk, operator_id = item.occurrence.pk, contact.operator_id
    item.form = bound.get(f"m{pk}") or ManifestationForm(
        operator_id=operator_id,
        prefix=f"m{pk}",
        initial=ManifestationForm.initial_of(item.occurrence),
    )
    item.parents = json.dumps(item.form.parents())
    item.pendency_form = bound.get(f"p{pk}") or PendencyForm(
        operator_id=operator_id, prefix=f"p{pk}"
    )
    item.send_form = bound.get(f"s{pk}") or SendForm(
        prefix=f"s{pk}", initial={"channel": "email", "recipient": item.occurrence.contact_email}
    )


@login_required
def protocol_forms(request: HttpRequest, pk: int, occurrence_id: int) -> HttpResponse:
    """One protocol's forms, fetched by the contact page once it is on screen."""
    contact = _contact(request, pk)
    item = next((i for i in contact_items(contact) if i.occurrence.pk == occurrence_id), None)
    if item is None:
        raise Http404
    _item_forms(item, contact, {})
    context = {
        "contact": contact,
        "item": item,
        "o": item.occurrence,
        "live": contact.status == ContactStatus.IN_PROGRESS,
    }
    return render(request, "callcenter/_protocol_forms.html", context)


def _refused(request: HttpRequest, contact: Contact, error: Exception, **bound) -> HttpResponse:
    error = _as_validation(error)
    form = next(iter(bound.values()), None)
    if form is not None:
        errors_onto(form, error)
    else:
        for message in error.messages:
            messages.error(request, message)
        return redirect("callcenter:contact", pk=contact.pk)
    return _page(request, contact, bound)


@login_required
@require_POST
def manifestation(request: HttpRequest, pk: int, occurrence_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    key = f"m{occurrence_id}"
    form = ManifestationForm(
        request.POST, request.FILES, operator_id=contact.operator_id, prefix=key
    )
    if not form.is_valid():
        return _page(request, contact, {key: form})
    data = form.cleaned_data
    try:
        occurrence = manifestation_record(
            user=request.user,
            contact=contact,
            occurrence_id=occurrence_id,
            classification=data["classification"],
            procedure_group=data["procedure_group"],
            urgency=data["urgency"],
            sentiment=data["sentiment"],
            priority=data["priority"],
            description=data["description"],
            observation=data["observation"],
            guides=form.guides(),
            upload=data.get("file"),
        )
    except (ValidationError, NotAllowed) as error:
        return _refused(request, contact, error, **{key: form})
    messages.success(
        request, _("Manifestation of protocol %(protocol)s saved.") % {"protocol": occurrence}
    )
    return redirect("callcenter:contact", pk=contact.pk)


@login_required
@require_POST
def pendency(request: HttpRequest, pk: int, occurrence_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    key = f"p{occurrence_id}"
    form = PendencyForm(request.POST, operator_id=contact.operator_id, prefix=key)
    if not form.is_valid():
        return _page(request, contact, {key: form})
    data = form.cleaned_data
    try:
        child = pendency_create(
            user=request.user,
            contact=contact,
            occurrence_id=occurrence_id,
            occurrence_type=data["occurrence_type"],
            subject=data["subject"],
            unit=data["unit"],
            description=data["description"],
            submission=form_submission(request.POST, request.user),
        )
    except (ValidationError, NotAllowed) as error:
        return _refused(request, contact, error, **{key: form})
    messages.success(
        request,
        _("Pendency %(protocol)s sent to %(unit)s.")
        % {"protocol": child.protocol, "unit": data["unit"]},
    )
    return redirect("callcenter:contact", pk=contact.pk)


def _step(request: HttpRequest, pk: int, act, done: str) -> HttpResponse:
    contact = _contact(request, pk)
    try:
        result = act(contact)
    except (ValidationError, NotAllowed) as error:
        return _refused(request, contact, error)
    messages.success(request, done % {"protocol": getattr(result, "protocol", "")})
    return redirect("callcenter:contact", pk=contact.pk)


@login_required
@require_POST
def new_event(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda c: contact_new_event(
            user=request.user,
            contact=c,
            submission=form_submission(request.POST, request.user),
        ),
        _("New protocol %(protocol)s issued."),
    )


@login_required
@require_POST
def finish(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda c: contact_finish(user=request.user, contact=c),
        _("Attendance finished."),
    )


@login_required
@require_POST
def abandon(request: HttpRequest, pk: int) -> HttpResponse:
    return _step(
        request,
        pk,
        lambda c: contact_abandon(user=request.user, contact=c),
        _("Attendance marked as abandoned; its protocols are kept."),
    )


@login_required
@require_POST
def send(request: HttpRequest, pk: int, occurrence_id: int) -> HttpResponse:
    contact = _contact(request, pk)
    key = f"s{occurrence_id}"
    form = SendForm(request.POST, prefix=key)
    if not form.is_valid():
        return _page(request, contact, {key: form})
    try:
        protocol_send(
            user=request.user,
            contact=contact,
            occurrence_id=occurrence_id,
            channel=form.cleaned_data["channel"],
            recipient=form.cleaned_data["recipient"],
        )
    except (ValidationError, NotAllowed) as error:
        return _refused(request, contact, error, **{key: form})
    messages.success(request, _("The protocol is on its way."))
    return redirect("callcenter:contact", pk=contact.pk)


@login_required
@require_POST
def audit(request: HttpRequest, pk: int) -> HttpResponse:
    contact = _contact(request, pk)
    form = AuditForm(request.POST)
    if not form.is_valid():
        return _page(request, contact, {"audit": form})
    try:
        audit_record(user=request.user, contact=contact, text=form.cleaned_data["text"])
    except (ValidationError, NotAllowed) as error:
        return _refused(request, contact, error, audit=form)
    messages.success(request, _("Interaction registered."))
    return redirect("callcenter:contact", pk=contact.pk)


@login_required
def section(request: HttpRequest, pk: int, name: str) -> HttpResponse:
    """One part of the side panel, recorded on the contact as consulted."""
    if name not in SECTIONS:
        raise Http404
    contact = _contact(request, pk)
    try:
        entry_record(user=request.user, contact=contact, kind=SECTIONS[name])
    except NotAllowed as error:
        raise Http404 from error
    beneficiary = contact.beneficiary
    context = {"contact": contact, "b": beneficiary, "name": name}
    today = timezone.localdate()
    if name == "detail":
        context["contacts"] = list(beneficiary.contacts.all())
        context["addresses"] = list(beneficiary.addresses.all())
    elif name == "history":
        mine = Occurrence.objects.filter(operator_id=contact.operator_id)
        context["occurrences"] = list(
            beneficiary_occurrences(mine, identifier=beneficiary.cpf)[:HISTORY_LISTED]
        )
    elif name == "waiting":
        group = ProcedureGroup.objects.filter(
            operator_id=contact.operator_id, pk=request.GET.get("group") or 0
        ).first()
        context["groups"] = ProcedureGroup.objects.filter(operator_id=contact.operator_id)
        context["group"] = group
        context["waiting"] = [
            (w, w.describe(today))
            for w in waiting_periods(beneficiary)
            if group is None or w.group.pk == group.pk
        ]
        context["coverages"] = list(
            beneficiary.partial_coverages.select_related("group").filter(
                **({"group": group} if group else {})
            )
        )
    elif name == "requests":
        kinds = settings_of(contact.operator_id).type_ids(Service.values)
        context["requested"] = list(
            Occurrence.objects.filter(
                operator_id=contact.operator_id,
                beneficiary_identifier=beneficiary.cpf,
                occurrence_type_id__in=kinds,
            )
            .select_related("occurrence_type", "status")
            .order_by("-registered_at")[:HISTORY_LISTED]
        )
        context["guides"] = list(beneficiary.guides.all()[:HISTORY_LISTED])
    elif name == "financial":
        context["overdue"] = list(
            beneficiary.invoices.filter(paid_on__isnull=True, due_on__lt=today).order_by("due_on")
        )
        context["denied"] = list(beneficiary.guides.filter(situation=GuideSituation.DENIED))
    context["today"] = today
    return render(request, "callcenter/_section.html", context)


@configurator_page
def settings(request: HttpRequest, operator: object) -> HttpResponse:
    """The configurator's page: what the call center issues its protocols as."""
    current = CallCenterSettings.objects.filter(operator=operator).first()
    form = SettingsForm(
        request.POST or None,
        instance=current or CallCenterSettings(operator=operator),
        operator=operator,
    )
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                settings_save(config=form.instance)
        except ValidationError as error:
            errors_onto(form, error)
        else:
            messages.success(request, _("Saved."))
            return redirect("callcenter:settings", operator_id=operator.pk)
    return render(
        request,
        "callcenter/settings.html",
        {"operator": operator, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def portal(request: HttpRequest, pk: int) -> HttpResponse:
    """Seed 003's Resetar senha: no login, an alert; one, the question; several, the
    logins to choose from, then the question. The attendant never sees the password."""
    contact = _contact(request, pk)
    logins = portal_logins(contact)
    context = {"contact": contact, "logins": logins, "step": "choose"}
    if request.method == "POST":
        try:
            chosen = int(request.POST.get("login", ""))
        except ValueError:
            chosen = None
        login = next((a for a in logins if a.pk == chosen), None)
        if login is None:
            context["error"] = _("Choose one of the beneficiary's portal logins.")
        elif request.POST.get("confirmed") != "1":
            context.update(step="confirm", login=login)
        else:
            try:
                portal_password_reset(user=request.user, contact=contact, login_id=login.pk)
            except (ValidationError, NotAllowed) as error:
                context.update(
                    step="confirm", login=login, error=" ".join(_as_validation(error).messages)
                )
            else:
                context.update(step="done", login=login)
    elif len(logins) == 1:
        context.update(step="confirm", login=logins[0])
    status = 400 if context.get("error") else 200
    return render(request, "callcenter/_portal.html", context, status=status)


def _service_context(request: HttpRequest, contact: Contact, slug: str, form=None) -> dict:
    service = SERVICES[slug]
    kind = service_type(contact, service)
    manifestations = [item.occurrence for item in contact_items(contact)]
    context = {
        "contact": contact,
        "b": contact.beneficiary,
        "slug": slug,
        "service": service,
        "form": form
        or ServiceForm(occurrence_type=kind, protocols=manifestations, prefix="service"),
        "earlier": None,
    }
    if service == Service.INDICATION:
        context["earlier"] = list(
            Occurrence.objects.filter(
                operator_id=contact.operator_id,
                beneficiary_identifier=contact.beneficiary.cpf,
                occurrence_type=kind,
            )
            .select_related("status", "subject")
            .order_by("-registered_at")[:HISTORY_LISTED]
        )
    return context


@login_required
def service(request: HttpRequest, pk: int, slug: str) -> HttpResponse:
    """Seed 003's services: the request's form with the card filled and locked, or the
    blocking critique's message instead of it."""
    if slug not in SERVICES:
        raise Http404
    contact = _contact(request, pk)
    try:
        refusal = service_refusal(user=request.user, contact=contact, service=SERVICES[slug])
    except NotAllowed as error:
        raise Http404 from error
    if refusal:
        context = {"contact": contact, "slug": slug, "service": SERVICES[slug], "refusal": refusal}
        return render(request, "callcenter/_service.html", context)
    if request.method != "POST":
        context = _service_context(request, contact, slug)
        context["live"] = contact.status == ContactStatus.IN_PROGRESS
        return render(request, "callcenter/_service.html", context)
    kind = service_type(contact, SERVICES[slug])
    protocols = [item.occurrence for item in contact_items(contact)]
    form = ServiceForm(request.POST, occurrence_type=kind, protocols=protocols, prefix="service")
    if form.is_valid():
        data = form.cleaned_data
        try:
            child = service_request(
                user=request.user,
                contact=contact,
                service=SERVICES[slug],
                occurrence_id=data["occurrence"],
                subject=data["subject"],
                unit=data["unit"],
                description=data["description"],
                submission=form_submission(request.POST, request.user),
            )
        except (ValidationError, NotAllowed) as error:
            errors_onto(form, _as_validation(error))
        else:
            messages.success(
                request,
                _("%(service)s registered: protocol %(protocol)s.")
                % {"service": SERVICES[slug].label, "protocol": child.protocol},
            )
            return redirect("callcenter:contact", pk=contact.pk)
    context = _service_context(request, contact, slug, form)
    context["live"] = contact.status == ContactStatus.IN_PROGRESS
    return _page(request, contact, {"service": context})


@login_required
def contact_data(request: HttpRequest, pk: int) -> HttpResponse:
    """Seed 002's Atualizar dados: the card's phones and e-mails, in edit mode."""
    contact = _contact(request, pk)
    beneficiary = contact.beneficiary
    current = list(beneficiary.contacts.order_by("-is_main", "id"))
    initial = {
        kind: "\n".join(c.display if kind == "phones" else c.value for c in current if c.kind == k)
        for kind, k in (("phones", "phone"), ("emails", "email"))
    }
    form = ContactDataForm(request.POST or None, initial=initial)
    done = False
    if request.method == "POST" and form.is_valid():
        try:
            contact_data_update(
                user=request.user,
                contact=contact,
                phones=form.lines(form.cleaned_data["phones"]),
                emails=form.lines(form.cleaned_data["emails"]),
            )
        except (ValidationError, NotAllowed) as error:
            errors_onto(form, _as_validation(error))
        else:
            done = True
    context = {"contact": contact, "form": form, "done": done}
    status = 400 if form.errors else 200
    return render(request, "callcenter/_contact_data.html", context, status=status)


@login_required
def erp(request: HttpRequest, pk: int) -> HttpResponse:
    """Seed 002's Ocorrências: the card's records in the operator's management system."""
    contact = _contact(request, pk)
    context = {"contact": contact}
    try:
        records = erp_records(user=request.user, contact=contact)
    except NotAllowed as error:
        raise Http404 from error
    except ValidationError as error:
        context["error"] = " ".join(error.messages)
    else:
        columns = list(dict.fromkeys(key for record in records for key in record))
        context.update(columns=columns, rows=[[r.get(c, "") for c in columns] for r in records])
    return render(request, "callcenter/_erp.html", context)
