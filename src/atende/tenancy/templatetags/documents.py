"""Brazilian documents and phones as people read them, for the screens:
``{% load documents %}``, then ``{{ b.cpf|document }}``, ``{{ a.postal_code|postal_code }}``
and ``{{ o.contact_phone|phone }}``. What is stored stays digits (a phone, E.164)."""

from django import template

from atende.tenancy.validators import document_display, phone_display, postal_code_display

register = template.Library()
register.filter("document", document_display, is_safe=True)
register.filter("postal_code", postal_code_display, is_safe=True)
register.filter("phone", phone_display, is_safe=True)
