"""E-mail through Django's mail backend (SMTP in production), text and HTML parts."""

import smtplib

from django.core.mail import EmailMultiAlternatives
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from atende.notifications.channels.base import Permanent, Sent, Transient
from atende.notifications.models import Delivery, Purpose

# Content that must not sit in a row (a password reset link) is made at send time by the
# app that owns it: a function of the delivery returning subject, text and HTML.
LATE_CONTENT = {
    Purpose.PASSWORD_RESET: "atende.accounts.services.password_reset_content",
    Purpose.PORTAL_PASSWORD_RESET: "atende.portal.services.password_reset_content",
    Purpose.PORTAL_TEMPORARY_PASSWORD: "atende.portal.services.temporary_password_content",
    Purpose.EMAIL_CONFIRM: "atende.accounts.services.email_confirm_content",
}


def send(delivery: Delivery) -> Sent:
    subject, body, html = delivery.subject, delivery.body, delivery.html
    if delivery.purpose in LATE_CONTENT:
        try:
            subject, body, html = import_string(LATE_CONTENT[delivery.purpose])(delivery)
        except LookupError as error:
            raise Permanent(str(error)) from error
    for header, value in ((_("subject"), subject), (_("recipient"), delivery.recipient)):
        if "\r" in value or "\n" in value:
            # A header cannot carry a line break (it would start another header): the same
            # message fails the same way on every try.
            raise Permanent(
                _("The e-mail's %(header)s has a line break, which an e-mail header cannot carry.")
                % {"header": header}
            )
    message = EmailMultiAlternatives(subject, body, to=[delivery.recipient])
    # One Message-ID for every try: a mail system that got it already can drop the repeat.
    message.extra_headers["Message-ID"] = f"<{delivery.message_id}@atende>"
    if html:
        message.attach_alternative(html, "text/html")
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _text in error.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise Permanent(
                _("The mail server refused the address: %(error)s") % {"error": error}
            ) from error
        raise Transient(str(error)) from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise Permanent(str(error), status_code=error.smtp_code) from error
        raise Transient(str(error), status_code=error.smtp_code) from error
    except (smtplib.SMTPException, OSError) as error:
        raise Transient(_("The mail server failed: %(error)s") % {"error": error}) from error
    return Sent(response="250")
