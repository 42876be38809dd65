"""Form pieces every app's pages share."""

from django import forms
from django.core.exceptions import ValidationError

# The browser's date input sends ISO dates; a person typing gets the Brazilian order.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def errors_onto(form: forms.Form, error: ValidationError) -> None:
    """A service's refusal shown on the form: each field's message next to that field,
    the rest at the top."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages in error.message_dict.items():
        form.add_error(key if key in form.fields else None, messages)
