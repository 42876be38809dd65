"""A creation form's one-time key: ``{% submission_key %}`` inside the form."""

from django import template
from django.utils.html import format_html

from atende.occurrences.forms import SUBMISSION_FIELD, submission_key_new

register = template.Library()


@register.simple_tag
def submission_key() -> str:
    return format_html(
        '<input type="hidden" name="{}" value="{}">', SUBMISSION_FIELD, submission_key_new()
    )
