from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atende.beneficiaries.models import ProcedureGroup, RegistrySettings
from atende.core.forms import date_field
from atende.tenancy.validators import only_digits


class SearchForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("CPF, card, name or phone"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "autofocus": True}),
    )
    birth_date = date_field(gettext_lazy("Birth date"), required=False)

    def clean(self) -> dict:
        cleaned = super().clean()
        text = (cleaned.get("q") or "").strip()
        if text and len(text) < 3 and not cleaned.get("birth_date"):
            self.add_error("q", _("Type at least 3 characters."))
        return cleaned


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File (CSV)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,text/csv"}),
    )

    def clean_file(self) -> object:
        upload = self.cleaned_data["file"]
        if not upload.name.lower().endswith((".csv", ".txt")):
            raise forms.ValidationError(_("Send a .csv file (see the layout below)."))
        if upload.size > settings.IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                _("The file must have at most %(mb)d MB.")
                % {"mb": settings.IMPORT_MAX_BYTES // (1024 * 1024)}
            )
        return upload


class ProcedureGroupForm(forms.ModelForm):
    class Meta:
        model = ProcedureGroup
        fields = ["code", "name", "ceiling"]


class RegistrySettingsForm(forms.ModelForm):
    class Meta:
        model = RegistrySettings
        fields = [
            "overdue_days",
            "suspended_blocks",
            "cancelled_blocks",
            "overdue_blocks",
            "card_expired_blocks",
            "waiting_blocks",
        ]


class WaitingPeriodsForm(forms.Form):
    """A product's days of waiting per procedure group; an empty field means none."""

    def __init__(self, *args: object, groups: list, current: dict, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.groups = groups
        for group in groups:
            self.fields[f"group_{group.pk}"] = forms.IntegerField(
                label=group.name,
                required=False,
                min_value=0,
                max_value=3650,
                initial=current.get(group.pk),
                help_text=_("Legal ceiling: %(days)d days.") % {"days": group.ceiling_days},
            )

    def days(self) -> dict:
        return {group: self.cleaned_data.get(f"group_{group.pk}") for group in self.groups}


class AnonymiseForm(forms.Form):
    """A supervisor confirms an anonymisation by typing the person's CPF."""

    confirmation = forms.CharField(
        label=gettext_lazy("Type the person's CPF to confirm"),
        max_length=14,
        widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "numeric"}),
    )

    def __init__(self, *args: object, cpf: str = "", **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.cpf = cpf

    def clean_confirmation(self) -> str:
        typed = only_digits(self.cleaned_data["confirmation"])
        if typed != self.cpf:
            raise forms.ValidationError(_("The CPF typed is not this person's: nothing was done."))
        return typed
