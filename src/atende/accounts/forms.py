from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.accounts.services import (
    LoginThrottledError,
    login_attempt_reserve,
    login_attempt_succeeded,
)
from atende.core.http import client_address


class ThrottledLoginMixin:
    """Refuses sign-in after repeated failures for the same account or address."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("E-mail or password incorrect. Check both and try again."),
        "throttled": _(
            "Too many failed attempts. Wait a few minutes before trying again, "
            "or reset your password."
        ),
    }

    def clean(self) -> dict:
        email = self.cleaned_data.get("username") or ""
        address = client_address(self.request) if self.request else ""
        try:
            reservation = login_attempt_reserve(account=email, address=address)
        except LoginThrottledError:
            raise ValidationError(self.error_messages["throttled"], code="throttled") from None
        # A refused password leaves the reservation standing as its failure.
        cleaned = super().clean()
        login_attempt_succeeded(reservation=reservation, account=email)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail"),
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "username"}),
    )


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass


class PasswordResetRequestForm(forms.Form):
    email = forms.EmailField(
        label=_("E-mail"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )


class NameForm(forms.Form):
    full_name = forms.CharField(label=_("Full name"), max_length=200)

    def clean_full_name(self) -> str:
        name = " ".join(self.cleaned_data["full_name"].split())
        if not name:
            raise ValidationError(_("Type your name."))
        return name


class EmailChangeForm(forms.Form):
    """A new address, with the current password: someone at an unlocked screen cannot
    move the account's mail elsewhere."""

    email = forms.EmailField(
        label=_("New e-mail address"), widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )
    password = forms.CharField(
        label=_("Current password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args: object, user: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise ValidationError(_("Your current password is not this one."))
        return password
