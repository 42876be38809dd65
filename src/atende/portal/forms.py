from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from atende.core.forms import MultipleFileField
from atende.occurrences.services import FILES_MAX, MESSAGE_MAX, attachment_check
from atende.tenancy.validators import cpf_parse


class CpfField(forms.CharField):
    def __init__(self, **kwargs: object) -> None:
        attrs = {
            "inputmode": "numeric",
            "autocomplete": "username",
            "placeholder": "000.000.000-00",
        }
        super().__init__(label="CPF", max_length=14, widget=forms.TextInput(attrs=attrs), **kwargs)

    def clean(self, value: str) -> str:
        digits = cpf_parse(super().clean(value))
        if digits is None:
            raise forms.ValidationError(_("Invalid CPF: check the 11 digits."))
        return digits


class SignInForm(forms.Form):
    cpf = CpfField()
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class ChooseLoginForm(forms.Form):
    login = forms.TypedChoiceField(label=_("Login"), coerce=int, widget=forms.RadioSelect)

    def __init__(self, *args: object, accounts: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["login"].choices = [(a.pk, _login_label(a)) for a in accounts]


def _login_label(account: object) -> str:
    """What each number is: the login, and the contract it belongs to."""
    if account.contract_number:
        return _("Login %(login)s · contract %(contract)s") % {
            "login": account.login,
            "contract": account.contract_number,
        }
    return _("Login %(login)s") % {"login": account.login}


class ResetRequestForm(forms.Form):
    cpf = CpfField()


class NewPasswordForm(SetPasswordMixin, forms.Form):
    new_password1, new_password2 = SetPasswordMixin.create_password_fields(
        label1=_("New password"), label2=_("New password again")
    )

    def __init__(self, *args: object, account: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.account = account

    def clean(self) -> dict:
        self.validate_passwords("new_password1", "new_password2")
        self.validate_password_for_user(self.account, "new_password2")
        return super().clean()


class FilesField(MultipleFileField):
    """Files a beneficiary sends, each checked by name, size and content at once, so a
    refused file is told before anything is registered."""

    def clean(self, data: object, initial: object = None) -> list:
        files = super().clean(data, initial)
        if len(files) > FILES_MAX:
            raise ValidationError(_("Send at most %(n)d files at once.") % {"n": FILES_MAX})
        for upload in files:
            try:
                attachment_check(upload)
            except ValidationError as error:
                raise ValidationError(
                    f"{upload.name}: {' '.join(error.messages)}", code="file"
                ) from None
        return files


class MessageForm(forms.Form):
    text = forms.CharField(
        label=_("Your message"),
        max_length=MESSAGE_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    files = FilesField(label=_("Files (optional)"))


class NewOccurrenceForm(forms.Form):
    subject = forms.TypedChoiceField(label=_("Subject"), coerce=int, required=False)
    description = forms.CharField(
        label=_("Describe your request"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
    )
    contact_email = forms.EmailField(label=_("E-mail for updates"), required=False, max_length=254)
    contact_phone = forms.CharField(
        label=_("Mobile phone for updates"), required=False, max_length=20
    )
    files = FilesField(label=_("Files (optional): photos, documents"))

    def __init__(self, *args: object, subjects: list, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["subject"]
        field.choices = [("", "—"), *((s.pk, s.name) for s in subjects)]
        field.required = bool(subjects)
        if not subjects:
            field.widget = forms.HiddenInput()
