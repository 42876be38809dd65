"""The channel registry: one module per kind, each with one ``send(delivery)`` that returns
``Sent`` or raises ``Transient`` / ``Permanent``."""

from collections.abc import Callable

from atende.notifications.channels import email, hook, push, sms, whatsapp
from atende.notifications.channels.base import DeliveryError, Permanent, Sent, Transient
from atende.notifications.models import Channel, Delivery

ADAPTERS: dict[str, Callable[[Delivery], Sent]] = {
    Channel.EMAIL: email.send,
    Channel.HOOK: hook.send,
    Channel.WHATSAPP: whatsapp.send,
    Channel.SMS: sms.send,
    Channel.PUSH: push.send,
}

__all__ = ["ADAPTERS", "DeliveryError", "Permanent", "Sent", "Transient"]
