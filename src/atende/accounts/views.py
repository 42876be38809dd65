from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import PasswordChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from atende.accounts.forms import EmailChangeForm, LoginForm, NameForm, PasswordResetRequestForm
from atende.accounts.services import (
    EmailChangeRefused,
    email_change_confirm,
    email_change_request,
    password_reset_request,
)
from atende.core.forms import errors_onto
from atende.core.http import client_address


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True


@csrf_protect
@sensitive_post_parameters("email")
def password_reset(request: HttpRequest) -> HttpResponse:
    form = PasswordResetRequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        password_reset_request(email=form.cleaned_data["email"], address=client_address(request))
        return render(request, "accounts/password_reset_sent.html")
    return render(request, "accounts/password_reset.html", {"form": form})


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "accounts/password_reset_complete.html"


PROFILE_FORMS = ("name", "email", "password")


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """The person's own name, e-mail address (confirmed by a link sent to it), password and
    language. Each form posts on its own; a refused one keeps what was typed."""
    user = request.user
    which = request.POST.get("form") if request.method == "POST" else None
    name_form = NameForm(
        request.POST if which == "name" else None, initial={"full_name": user.full_name}
    )
    email_form = EmailChangeForm(request.POST if which == "email" else None, user=user)
    password_form = PasswordChangeForm(user, request.POST if which == "password" else None)
    if which == "name" and name_form.is_valid():
        user.full_name = name_form.cleaned_data["full_name"]
        user.save(update_fields=["full_name"])
        messages.success(request, _("Name saved."))
        return redirect("accounts:profile")
    if which == "email" and email_form.is_valid():
        try:
            with transaction.atomic():
                email_change_request(user=user, email=email_form.cleaned_data["email"])
        except ValidationError as error:
            errors_onto(email_form, error)
        else:
            messages.success(
                request,
                _("We sent a link to %(email)s: open it to confirm the new address.")
                % {"email": email_form.cleaned_data["email"]},
            )
            return redirect("accounts:profile")
    if which == "password" and password_form.is_valid():
        password_form.save()
        update_session_auth_hash(request, password_form.user)
        messages.success(request, _("Password changed."))
        return redirect("accounts:profile")
    context = {
        "name_form": name_form,
        "email_form": email_form,
        "password_form": password_form,
    }
    return render(request, "accounts/profile.html", context, status=400 if which else 200)


@login_required
def email_confirm(request: HttpRequest, token: str) -> HttpResponse:
    try:
        email = email_change_confirm(user=request.user, token=token)
    except EmailChangeRefused as refused:
        messages.error(request, str(refused))
    else:
        messages.success(request, _("Your e-mail address is now %(email)s.") % {"email": email})
    return redirect("accounts:profile")
