"""E-mail through Django's mail backend (SMTP in production), text and HTML parts."""

import smtplib

from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from atende.notifications.channels.base import Permanent, Sent, Transient
from atende.notifications.models import Delivery


def send(delivery: Delivery) -> Sent:
    message = EmailMultiAlternatives(delivery.subject, delivery.body, to=[delivery.recipient])
    # One Message-ID for every try: a mail system that got it already can drop the repeat.
    message.extra_headers["Message-ID"] = f"<{delivery.message_id}@atende>"
    if delivery.html:
        message.attach_alternative(delivery.html, "text/html")
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
