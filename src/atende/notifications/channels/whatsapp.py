"""WhatsApp Cloud API: a template message with body parameters, sent as
``POST {base_url}/{api_version}/{phone_number_id}/messages`` with the account's token."""

import json

import httpx
from django.utils.translation import gettext as _

from atende.notifications.channels.base import (
    Permanent,
    Sent,
    Transient,
    http_result,
    transport_error,
)
from atende.notifications.models import Delivery
from atende.notifications.outbound import OutboundRefused, outbound_post

# Cloud API error codes a later try may get through: rate limits and temporary failures.
_RETRYABLE_CODES = {4, 80007, 130429, 131000, 131016, 131048, 131056, 133004}


def send(delivery: Delivery) -> Sent:
    sender = delivery.sender
    config = sender.settings
    base = config.get("base_url", "https://graph.facebook.com").rstrip("/")
    url = f"{base}/{config.get('api_version', 'v21.0')}/{config['phone_number_id']}/messages"
    template = delivery.payload
    body = {
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": delivery.recipient.lstrip("+"),
        "type": "template",
        "template": {
            "name": template["name"],
            "language": {"code": template["language"]},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": value} for value in template["parameters"]
                    ],
                }
            ],
        },
        "biz_opaque_callback_data": delivery.message_id,
    }
    headers = {"Authorization": f"Bearer {sender.secret}", "Content-Type": "application/json"}
    try:
        response = outbound_post(url, content=json.dumps(body).encode(), headers=headers)
    except OutboundRefused as error:
        raise Permanent(str(error)) from error
    except httpx.HTTPError as error:
        raise transport_error(error) from error
    if response.status_code == 400 and _error_code(response) in _RETRYABLE_CODES:
        raise Transient(
            _("WhatsApp asked to try later (%(code)s).") % {"code": _error_code(response)},
            status_code=400,
            response=response.text,
        )
    return http_result(response)


def _error_code(response: httpx.Response) -> int | None:
    try:
        return int(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return None
