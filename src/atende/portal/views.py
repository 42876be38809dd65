"""The beneficiary portal: an operator's own site for its beneficiaries, at
``/portal/<bundle>/`` (the production application of that bundle).

A beneficiary signs in with CPF and password; the session then holds one login of one
operator, and every page reads only that operator's production occurrences whose
beneficiary is that CPF. Staff sign-in and the portal's are separate: an attendant's
session grants nothing here, nor a beneficiary's in the panel."""

import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac
from django.utils.encoding import force_str
from django.utils.http import url_has_allowed_host_and_scheme, urlsafe_base64_decode
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from atende.accounts.services import LoginThrottledError
from atende.callcenter.services import request_refusal
from atende.catalog.formdefs import FieldType
from atende.catalog.models import OccurrenceType, ViewMode
from atende.catalog.snapshots import type_snapshot
from atende.core.forms import errors_onto
from atende.core.http import client_address
from atende.core.jsonbody import JsonRefused, json_parse
from atende.notifications.models import SenderKind
from atende.notifications.services import push_target_register, webpush_key_for
from atende.occurrences.forms import form_submission, tab_form_class
from atende.occurrences.models import Channel, Mode, Nature, Occurrence
from atende.occurrences.selectors import (
    beneficiary_occurrences,
    conversation,
    customer_view,
    occurrence_by_protocol,
)
from atende.occurrences.services import (
    actor_for_application,
    created_once,
    done_once,
    occurrence_add_attachment,
    occurrence_create,
    occurrence_customer_message,
)
from atende.portal.forms import (
    ChooseLoginForm,
    MessageForm,
    NewOccurrenceForm,
    NewPasswordForm,
    ResetRequestForm,
    SignInForm,
)
from atende.portal.models import BeneficiaryLogin
from atende.portal.pdf import justification_pdf
from atende.portal.services import (
    beneficiary_authenticate,
    beneficiary_password_reset_request,
    beneficiary_password_set,
    beneficiary_signed_in,
    reset_tokens,
)
from atende.tenancy.models import Application, Instance
from atende.tenancy.timezones import operator_time_zone_activate

SESSION_KEY = "portal_login"
PENDING_KEY = "portal_pending"
# A password checked for several logins waits this long for the person to choose one.
PENDING_SECONDS = 300
# Requests per page of "Minhas solicitações".
PAGE_SIZE = 20


@dataclass(frozen=True)
class Visit:
    application: Application
    account: BeneficiaryLogin

    def occurrences(self) -> object:
        """The signed-in beneficiary's occurrences, and nobody else's."""
        mine = Occurrence.objects.filter(
            operator_id=self.application.operator_id,
            application__instance=self.application.instance,
        )
        return beneficiary_occurrences(mine, identifier=self.account.cpf)


def _application(bundle: str) -> Application:
    """The portal's application; the rest of the request speaks its operator's time."""
    application = get_object_or_404(
        Application.objects.select_related("operator"),
        bundle=bundle.lower(),
        instance=Instance.PRODUCTION,
        is_active=True,
        operator__is_active=True,
    )
    operator_time_zone_activate(application.operator.time_zone)
    return application


def _session_hash(account: BeneficiaryLogin) -> str:
    # A password change (a reset, say) ends the sessions opened with the old one.
    return salted_hmac("atende.portal.session", account.password, algorithm="sha256").hexdigest()


def _signed_in(request: HttpRequest, application: Application) -> BeneficiaryLogin | None:
    held = request.session.get(SESSION_KEY) or {}
    if held.get("operator") != application.operator_id:
        return None
    account = BeneficiaryLogin.objects.filter(
        pk=held.get("id"), operator_id=application.operator_id, is_active=True
    ).first()
    if account is None or not constant_time_compare(held.get("hash", ""), _session_hash(account)):
        return None
    return account


def _sign_in(request: HttpRequest, account: BeneficiaryLogin) -> None:
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    request.session[SESSION_KEY] = {
        "id": account.pk,
        "operator": account.operator_id,
        "hash": _session_hash(account),
    }
    beneficiary_signed_in(account)


def portal_page(view: Callable) -> Callable:
    """A page for a signed-in beneficiary: the view gets the ``Visit``; anyone else is
    sent to sign in and brought back afterwards."""

    @wraps(view)
    def wrapper(request: HttpRequest, bundle: str, **kwargs: object) -> HttpResponse:
        application = _application(bundle)
        account = _signed_in(request, application)
        if account is None:
            target = reverse("portal:sign_in", kwargs={"bundle": application.bundle})
            return redirect(f"{target}?next={request.path}")
        if account.must_change_password and not getattr(view, "changes_password", False):
            # Signed in with a temporary password: nothing else until a new one is chosen.
            return redirect("portal:password_change", bundle=application.bundle)
        return view(request, Visit(application, account), **kwargs)

    return wrapper


def _render(request: HttpRequest, template: str, application: Application, **context: object):
    status = context.pop("status", 200)
    return render(
        request,
        f"portal/{template}.html",
        {"application": application, "operator": application.operator, **context},
        status=status,
    )


@sensitive_post_parameters("password")
def sign_in(request: HttpRequest, bundle: str) -> HttpResponse:
    application = _application(bundle)
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = ""
    home = reverse("portal:home", kwargs={"bundle": application.bundle})
    if _signed_in(request, application) is not None:
        return redirect(next_url or home)
    form = SignInForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            accounts = beneficiary_authenticate(
                operator=application.operator,
                cpf=form.cleaned_data["cpf"],
                password=form.cleaned_data["password"],
                address=client_address(request),
            )
        except LoginThrottledError:
            form.add_error(None, _("Too many attempts. Wait a few minutes and try again."))
        else:
            if len(accounts) == 1:
                _sign_in(request, accounts[0])
                return redirect(next_url or home)
            if accounts:
                request.session[PENDING_KEY] = {
                    "ids": [a.pk for a in accounts],
                    "operator": application.operator_id,
                    "next": next_url,
                    "until": time.time() + PENDING_SECONDS,
                }
                return redirect("portal:choose", bundle=application.bundle)
            form.add_error(None, _("CPF or password incorrect."))
    status = 400 if form.errors else 200
    return _render(request, "sign_in", application, form=form, next=next_url, status=status)


def choose(request: HttpRequest, bundle: str) -> HttpResponse:
    """A person whose password opens several logins says which one to use now."""
    application = _application(bundle)
    pending = request.session.get(PENDING_KEY) or {}
    accounts = list(
        BeneficiaryLogin.objects.filter(
            pk__in=pending.get("ids", []), operator_id=application.operator_id, is_active=True
        )
    )
    fresh = pending.get("until", 0) > time.time()
    if not accounts or pending.get("operator") != application.operator_id or not fresh:
        request.session.pop(PENDING_KEY, None)
        return redirect("portal:sign_in", bundle=application.bundle)
    form = ChooseLoginForm(request.POST or None, accounts=accounts)
    if request.method == "POST" and form.is_valid():
        account = next(a for a in accounts if a.pk == form.cleaned_data["login"])
        _sign_in(request, account)
        return redirect(pending.get("next") or reverse("portal:home", args=[application.bundle]))
    return _render(request, "choose", application, form=form)


@require_POST
def sign_out(request: HttpRequest, bundle: str) -> HttpResponse:
    application = _application(bundle)
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()
    return redirect("portal:sign_in", bundle=application.bundle)


@portal_page
def home(request: HttpRequest, visit: Visit) -> HttpResponse:
    page = Paginator(visit.occurrences(), PAGE_SIZE).get_page(request.GET.get("pagina"))
    views = [customer_view(o) for o in page.object_list]
    return _render(
        request,
        "home",
        visit.application,
        account=visit.account,
        views=views,
        page=page,
        push_key=webpush_key_for(visit.application.operator_id),
    )


def _mine(visit: Visit, protocol: str) -> Occurrence:
    try:
        return occurrence_by_protocol(visit.occurrences(), protocol)
    except Occurrence.DoesNotExist:
        raise Http404 from None


@portal_page
def detail(request: HttpRequest, visit: Visit, protocol: str) -> HttpResponse:
    occurrence = _mine(visit, protocol)
    return _detail(request, visit, occurrence, MessageForm())


def _detail(
    request: HttpRequest, visit: Visit, occurrence: Occurrence, form: MessageForm, status: int = 200
) -> HttpResponse:
    talk = conversation(occurrence)
    in_messages = {f.token for message in talk for f in message.files}
    context = {
        "account": visit.account,
        "occurrence": occurrence,
        "talk": talk,
        "message_form": form,
        "chat": occurrence.occurrence_type.is_chat,
        "status": status,
    }
    if request.htmx and request.method == "POST":
        return _render(request, "_talk", visit.application, **context)
    return _render(
        request,
        "detail",
        visit.application,
        view=customer_view(occurrence),
        # Files sent at the opening (those of messages are shown with them).
        files=[a for a in occurrence.attachments.filter(public=True) if a.token not in in_messages],
        **context,
    )


@portal_page
def talk(request: HttpRequest, visit: Visit, protocol: str) -> HttpResponse:
    """The conversation (GET: its messages, polled by a chat's page); a POST sends the
    beneficiary's message with its files."""
    occurrence = _mine(visit, protocol)
    if request.method != "POST":
        return _render(
            request,
            "_messages",
            visit.application,
            occurrence=occurrence,
            talk=conversation(occurrence),
            chat=occurrence.occurrence_type.is_chat,
        )
    form = MessageForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            done_once(
                form_submission(request.POST, visit.account),
                occurrence,
                lambda: occurrence_customer_message(
                    application=visit.application,
                    occurrence=occurrence,
                    author=visit.account.name,
                    text=form.cleaned_data["text"],
                    uploads=form.cleaned_data["files"],
                ),
            )
        except ValidationError as error:
            errors_onto(form, error)
        else:
            if request.htmx:
                occurrence.refresh_from_db()
                return _detail(request, visit, occurrence, MessageForm())
            messages.success(request, _("Message sent. We will answer here."))
            return redirect("portal:detail", bundle=visit.application.bundle, protocol=protocol)
    return _detail(request, visit, occurrence, form, status=400)


@portal_page
def attachment(request: HttpRequest, visit: Visit, protocol: str, token: str) -> HttpResponse:
    """A file of the conversation (or of the opening): never the operator's internal ones."""
    occurrence = _mine(visit, protocol)
    found = get_object_or_404(occurrence.attachments.filter(public=True), token=token)
    # Served as a download, never rendered: an uploaded file is not trusted content.
    return FileResponse(
        found.file.open("rb"),
        as_attachment=True,
        filename=found.name,
        content_type="application/octet-stream",
    )


@portal_page
def justification(request: HttpRequest, visit: Visit, protocol: str) -> HttpResponse:
    occurrence = _mine(visit, protocol)
    view = customer_view(occurrence)
    if view.closed_at is None:
        raise Http404
    content = justification_pdf(
        occurrence=occurrence,
        view=view,
        beneficiary=visit.account.name,
        talk=conversation(occurrence),
    )
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="resposta-{view.protocol}.pdf"'
    response["Cache-Control"] = "private, no-store"
    return response


def _portal_types(application: Application) -> list[OccurrenceType]:
    """What the portal opens. A registration (a type with a place) is not among them: the
    portal does not ask for a place; citizens report through the app or by SMS."""
    return list(
        OccurrenceType.objects.filter(
            operator_id=application.operator_id,
            is_active=True,
            offered_in_portal=True,
            has_place=False,
        ).order_by("name")
    )


@portal_page
def new(request: HttpRequest, visit: Visit) -> HttpResponse:
    """Open a request: first its type, then its subject and description. The protocol is
    on the next page at once."""
    types = _portal_types(visit.application)
    chosen = next((t for t in types if str(t.pk) == request.GET.get("tipo", "")), None)
    if chosen is None:
        return _render(request, "new_type", visit.application, account=visit.account, types=types)
    # A refund to a card with a blocking critique gets the critique's message, no form.
    refusal = request_refusal(beneficiary=visit.account.beneficiary, occurrence_type=chosen)
    subjects = list(chosen.subjects.filter(is_active=True).order_by("name"))
    initial = {"contact_email": visit.account.email}
    form = NewOccurrenceForm(
        request.POST or None, request.FILES or None, subjects=subjects, initial=initial
    )
    opening = opening_form_for(visit.application, chosen, request.POST or None)
    # Both forms checked, so every refusal is told at once.
    valid = all([form.is_valid(), opening is None or opening.is_valid()])
    if request.method == "POST" and not refusal and valid:
        data = form.cleaned_data
        account = visit.account
        actor = actor_for_application(application=visit.application)

        def register() -> Occurrence:
            with transaction.atomic():
                occurrence = occurrence_create(
                    opening_form=opening.cleaned_data if opening is not None else None,
                    actor=actor,
                    application=visit.application,
                    occurrence_type=chosen,
                    subject=next((s for s in subjects if s.pk == data["subject"]), None),
                    channel=Channel.WEB,
                    nature=Nature.SELF_SERVICE,
                    mode=Mode.ACTIVE,
                    requester_identifier=account.cpf,
                    requester_name=account.name,
                    beneficiary_identifier=account.cpf,
                    beneficiary_name=account.name,
                    contract_number=account.contract_number,
                    contact_email=data["contact_email"],
                    contact_phone=data["contact_phone"],
                    description=data["description"],
                )
                for upload in data["files"]:
                    occurrence_add_attachment(
                        actor=actor, occurrence=occurrence, upload=upload, public=True
                    )
                return occurrence

        try:
            occurrence, _replayed = created_once(form_submission(request.POST, account), register)
        except ValidationError as error:
            _refusal_shown(form, opening, error)
        else:
            messages.success(
                request,
                _("Request registered. Your protocol is %(protocol)s.")
                % {"protocol": occurrence.protocol},
            )
            return redirect(
                "portal:detail", bundle=visit.application.bundle, protocol=occurrence.protocol
            )
    return _render(
        request,
        "new",
        visit.application,
        account=visit.account,
        occurrence_type=chosen,
        form=form,
        opening=opening,
        refusal=refusal,
        status=400
        if request.method == "POST" and (refusal or form.errors or (opening and opening.errors))
        else 200,
    )


def opening_form_for(
    application: Application, occurrence_type: OccurrenceType, data: object
) -> forms.Form | None:
    """The form a *Solicitações* type asks at opening (its tab filled at opening), as the
    beneficiary fills it; None when the type asks none. Files are not asked here."""
    snapshot = type_snapshot(operator=application.operator, type_id=occurrence_type.pk)
    if (
        snapshot is None
        or snapshot.opening_tab is None
        or snapshot.occurrence_type.view_mode != ViewMode.REQUESTS
    ):
        return None
    fields = [f for f in snapshot.opening_version.fields if f["type"] != FieldType.FILE]
    # Missing answers are told with the request's own fields; the service checks again.
    form = tab_form_class(fields, versioned=False, required=True)(data, prefix="form")
    form.title = snapshot.opening_tab.name
    return form


def _refusal_shown(form: forms.Form, opening: forms.Form | None, error: ValidationError) -> None:
    """The service's refusal on the page: what it says of the opening form's answers
    (``form.<key>``) next to those answers, the rest on the request's own form."""
    if opening is None or not hasattr(error, "error_dict"):
        errors_onto(form, error)
        return
    rest = {}
    for key, messages_ in error.message_dict.items():
        name = key.removeprefix("form.")
        if key.startswith("form.") and name in opening.fields:
            opening.add_error(name, messages_)
        else:
            rest[key] = messages_
    if rest:
        errors_onto(form, ValidationError(rest))


@portal_page
def push_subscribe(request: HttpRequest, visit: Visit) -> HttpResponse:
    """The browser's Web Push subscription, for the signed-in beneficiary's CPF."""
    if request.method != "POST":
        return JsonResponse({"error": _("Send the subscription with POST.")}, status=405)
    try:
        subscription = json_parse(request.body or b"null")
        target = push_target_register(
            application=visit.application,
            beneficiary_identifier=visit.account.cpf,
            kind=SenderKind.WEBPUSH,
            subscription=subscription if isinstance(subscription, dict) else None,
        )
    except JsonRefused as error:
        return JsonResponse({"error": str(error)}, status=400)
    except ValidationError as error:
        return JsonResponse({"error": " ".join(error.messages)}, status=400)
    return JsonResponse({"id": target.pk}, status=201)


def service_worker(request: HttpRequest, bundle: str) -> HttpResponse:
    application = _application(bundle)
    response = render(
        request,
        "portal/sw.js",
        {"operator": application.operator},
        content_type="application/javascript",
    )
    response["Cache-Control"] = "no-cache"
    return response


def password_reset(request: HttpRequest, bundle: str) -> HttpResponse:
    application = _application(bundle)
    form = ResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        beneficiary_password_reset_request(
            application=application,
            cpf=form.cleaned_data["cpf"],
            address=client_address(request),
        )
        return _render(request, "password_reset_sent", application)
    return _render(
        request, "password_reset", application, form=form, status=400 if form.errors else 200
    )


def _password_change(request: HttpRequest, visit: Visit) -> HttpResponse:
    """After a temporary password: the person chooses their own, under the normal policy."""
    account = visit.account
    form = NewPasswordForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        beneficiary_password_set(account=account, password=form.cleaned_data["new_password1"])
        account.refresh_from_db()
        _sign_in(request, account)  # the session follows the new password
        messages.success(request, _("Password changed."))
        return redirect("portal:home", bundle=visit.application.bundle)
    return _render(
        request,
        "password_change",
        visit.application,
        account=account,
        form=form,
        status=400 if form.errors else 200,
    )


_password_change.changes_password = True
password_change = sensitive_post_parameters("new_password1", "new_password2")(
    portal_page(_password_change)
)


# The link's token leaves the address at the first visit (Django's own pattern): it is kept
# in the session and the browser is sent to the same address with this word instead, so the
# token is not in the history, in a Referer, nor in a later request's log line.
RESET_TOKEN_KEY = "portal_reset_token"  # noqa: S105 (a session key, not a secret)
RESET_URL_WORD = "definir"


@sensitive_post_parameters("new_password1", "new_password2")
def password_reset_confirm(
    request: HttpRequest, bundle: str, uidb64: str, token: str
) -> HttpResponse:
    application = _application(bundle)
    try:
        pk = int(force_str(urlsafe_base64_decode(uidb64)))
    except (TypeError, ValueError, OverflowError):
        pk = None
    account = BeneficiaryLogin.objects.filter(
        pk=pk, operator_id=application.operator_id, is_active=True
    ).first()
    from_link = token != RESET_URL_WORD
    if not from_link:
        token = request.session.get(RESET_TOKEN_KEY, "")
    if account is None or not reset_tokens.check_token(account, token):
        return _render(request, "password_reset_invalid", application, status=400)
    if from_link:
        request.session[RESET_TOKEN_KEY] = token
        return redirect(
            "portal:password_reset_confirm",
            bundle=application.bundle,
            uidb64=uidb64,
            token=RESET_URL_WORD,
        )
    form = NewPasswordForm(request.POST or None, account=account)
    if request.method == "POST" and form.is_valid():
        beneficiary_password_set(account=account, password=form.cleaned_data["new_password1"])
        request.session.pop(RESET_TOKEN_KEY, None)
        messages.success(request, _("Password changed. Sign in with the new one."))
        return redirect("portal:sign_in", bundle=application.bundle)
    return _render(
        request,
        "password_reset_confirm",
        application,
        account=account,
        form=form,
        status=400 if form.errors else 200,
    )
