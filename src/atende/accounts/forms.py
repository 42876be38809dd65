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
