"""Hooks: an HTTP POST of the delivery's JSON, signed per the Standard Webhooks spec.

While a rotated secret is in its grace period both the new and the previous secret sign, so
a receiver that has not switched yet still verifies."""

import json
from datetime import UTC, datetime

import httpx
from django.utils import timezone
from standardwebhooks import Webhook

from atende.notifications.channels.base import Permanent, Sent, http_result, transport_error
from atende.notifications.models import Delivery
from atende.notifications.outbound import OutboundRefused, outbound_post


def send(delivery: Delivery) -> Sent:
    action = delivery.action
    body = json.dumps(delivery.payload, ensure_ascii=False, separators=(",", ":"))
    now = datetime.now(tz=UTC)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Atende-Hooks/1",
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signatures(action, msg_id=delivery.message_id, at=now, body=body),
    }
    try:
        response = outbound_post(delivery.recipient, content=body.encode(), headers=headers)
    except OutboundRefused as error:
        raise Permanent(str(error)) from error
    except httpx.HTTPError as error:
        raise transport_error(error) from error
    return http_result(response)


def signatures(action: object, *, msg_id: str, at: datetime, body: str) -> str:
    secrets = [action.hook_secret]
    if action.hook_previous_secret and (
        action.hook_previous_until is None or action.hook_previous_until > timezone.now()
    ):
        secrets.append(action.hook_previous_secret)
    return " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
