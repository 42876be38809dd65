"""Form pieces every app's pages share."""

from datetime import date

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

# The empty choice of every select is Django's own "- Select an option -", which its pt-BR
# catalog does not translate: named here so that ours does.
gettext_noop("- Select an option -")

# The browser's date input sends ISO dates; a person typing gets the Brazilian order.
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
# The days anyone may ask about: every record fits, and the day after the last one still
# exists (9999-12-31 has none, so a period ending then cannot even be computed).
DATE_MIN = date(1900, 1, 1)
DATE_MAX = date(2999, 12, 31)


def date_in_range(value: date) -> None:
    """Refuse a date outside ``DATE_MIN`` to ``DATE_MAX`` (forms, the API and commands)."""
    if not DATE_MIN <= value <= DATE_MAX:
        raise ValidationError(
            _("Give a date between %(first)s and %(last)s.")
            % {
                "first": date_format(DATE_MIN, "SHORT_DATE_FORMAT"),
                "last": date_format(DATE_MAX, "SHORT_DATE_FORMAT"),
            },
            code="date_range",
        )


def date_field(label: str, *, required: bool = True) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=required,
        input_formats=DATE_FORMATS,
        validators=[date_in_range],
        # A date field's value is ISO whatever the language (what the browser shows is its
        # own): a localised "07/11/2026" would be drawn empty.
        widget=forms.DateInput(
            format="%Y-%m-%d",
            attrs={"type": "date", "min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()},
        ),
    )


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input (Django's documented pattern); cleans to a list, empty
    when none was chosen."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data: object, initial: object = None) -> list:
        one = super().clean
        if isinstance(data, list | tuple):
            return [one(item, initial) for item in data]
        return [one(data, initial)] if data else []


def errors_onto(form: forms.Form, error: Exception) -> None:
    """A service's refusal shown on the form: each field's message next to that field,
    the rest at the top (a refusal that is not a ValidationError, such as NotAllowed,
    by its message)."""
    if not isinstance(error, ValidationError):
        form.add_error(None, str(error))
        return
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for key, messages in error.message_dict.items():
        form.add_error(key if key in form.fields else None, messages)
