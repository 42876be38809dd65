"""Form pieces every app's pages share."""

from django import forms

# The browser's date input sends ISO dates; a person typing gets the Brazilian order.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


def date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
