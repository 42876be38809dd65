"""E-mails made from templates: ``<name>_subject.txt``, ``<name>_email.txt`` and
``<name>_email.html``, rendered in the site's language (Portuguese) whoever triggers them."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation


def mail_from_templates(*, name: str, context: dict, to: list[str]) -> EmailMultiAlternatives:
    with translation.override(settings.LANGUAGE_CODE):
        subject = render_to_string(f"{name}_subject.txt", context).strip()
        body = render_to_string(f"{name}_email.txt", context)
        html = render_to_string(f"{name}_email.html", context)
    message = EmailMultiAlternatives(subject, body, to=to)
    message.attach_alternative(html, "text/html")
    return message
