"""Platform administration of beneficiary logins, until the beneficiary registry (the
call-center issue) brings its own screens. Passwords are only ever set, never shown."""

from django import forms
from django.contrib import admin
from django.contrib.auth.password_validation import validate_password
from django.utils.translation import gettext_lazy as _

from atende.portal.models import BeneficiaryLogin
from atende.tenancy.validators import cpf_parse


class BeneficiaryLoginForm(forms.ModelForm):
    new_password = forms.CharField(
        label=_("New password"),
        required=False,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = BeneficiaryLogin
        fields = ["operator", "login", "cpf", "name", "email", "contract_number", "is_active"]

    def clean_cpf(self) -> str:
        digits = cpf_parse(self.cleaned_data["cpf"])
        if digits is None:
            raise forms.ValidationError(_("Invalid CPF: check the 11 digits."))
        return digits

    def clean(self) -> dict:
        cleaned = super().clean()
        password = cleaned.get("new_password")
        if password:
            try:
                validate_password(password)
            except forms.ValidationError as error:
                self.add_error("new_password", error)
        elif not self.instance.pk:
            self.add_error("new_password", _("A new login needs a password."))
        return cleaned

    def save(self, commit: bool = True) -> BeneficiaryLogin:
        account = super().save(commit=False)
        if self.cleaned_data.get("new_password"):
            account.set_password(self.cleaned_data["new_password"])
        if commit:
            account.save()
        return account


@admin.register(BeneficiaryLogin)
class BeneficiaryLoginAdmin(admin.ModelAdmin):
    form = BeneficiaryLoginForm
    list_display = ["login", "name", "cpf", "operator", "is_active", "last_login"]
    list_filter = ["operator", "is_active"]
    search_fields = ["login", "cpf", "name", "email"]
    readonly_fields = ["last_login", "created_at"]
