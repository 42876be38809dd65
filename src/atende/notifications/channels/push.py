"""Push: Firebase Cloud Messaging HTTP v1 for the apps, Web Push (RFC 8030/8291/8292)
for the portal. A push delivery carries one target: an FCM registration token or a
browser's subscription."""

import base64
import json
import threading
import time
from urllib.parse import urlencode, urlsplit

import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from django.utils.translation import gettext as _
from py_vapid import Vapid02

from atende.notifications.channels.base import (
    Permanent,
    Sent,
    Transient,
    http_result,
    transport_error,
)
from atende.notifications.models import Delivery, SenderKind
from atende.notifications.outbound import OutboundRefused, outbound_post

FCM_SCOPE = "https://www.googleapis.com/auth/firebase.messaging"
WEBPUSH_TTL = 24 * 3600


def send(delivery: Delivery) -> Sent:
    try:
        if delivery.sender.kind == SenderKind.FCM:
            return _fcm_send(delivery)
        return _webpush_send(delivery)
    except OutboundRefused as error:
        raise Permanent(str(error)) from error
    except httpx.HTTPError as error:
        raise transport_error(error) from error


# --- FCM HTTP v1 -------------------------------------------------------------------------

_tokens: dict[int, tuple[str, float]] = {}
_tokens_lock = threading.Lock()


def _fcm_send(delivery: Delivery) -> Sent:
    sender = delivery.sender
    base = sender.settings.get("base_url", "https://fcm.googleapis.com").rstrip("/")
    url = f"{base}/v1/projects/{sender.settings['project_id']}/messages:send"
    message = {
        "message": {
            "token": delivery.recipient,
            "notification": {"title": delivery.subject, "body": delivery.body},
            "data": {"message_id": delivery.message_id, "protocol": delivery.protocol},
        }
    }
    headers = {"Authorization": f"Bearer {_fcm_token(sender)}", "Content-Type": "application/json"}
    response = outbound_post(url, content=json.dumps(message).encode(), headers=headers)
    if response.status_code == 401:
        with _tokens_lock:
            _tokens.pop(sender.pk, None)
        raise Transient(
            _("FCM refused the access token; a new one is asked next time."), status_code=401
        )
    if response.status_code == 404:
        raise Permanent(
            _("The app is no longer installed on this device."),
            status_code=404,
            response=response.text,
        )
    return http_result(response)


def _fcm_token(sender: object) -> str:
    """An OAuth 2 access token from the service account (RFC 7523 JWT bearer grant), kept
    until five minutes before it expires."""
    with _tokens_lock:
        cached = _tokens.get(sender.pk)
    if cached is not None and cached[1] > time.time() + 300:
        return cached[0]
    try:
        account = json.loads(sender.secret)
        now = int(time.time())
        assertion = jwt.encode(
            {
                "iss": account["client_email"],
                "scope": FCM_SCOPE,
                "aud": account["token_uri"],
                "iat": now,
                "exp": now + 3600,
            },
            account["private_key"],
            algorithm="RS256",
            headers={"kid": account.get("private_key_id", "")},
        )
    except (ValueError, KeyError, TypeError, jwt.PyJWTError) as error:
        raise Permanent(
            _("The FCM service account is not valid: %(error)s") % {"error": error}
        ) from error
    form = urlencode(
        {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
    )
    response = outbound_post(
        account["token_uri"],
        content=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    if response.status_code != 200:
        http_result(response)
        raise Transient(
            _("FCM's token service answered %(code)d.") % {"code": response.status_code}
        )
    grant = response.json()
    token = grant["access_token"]
    with _tokens_lock:
        _tokens[sender.pk] = (token, time.time() + int(grant.get("expires_in", 3600)))
    return token


# --- Web Push ----------------------------------------------------------------------------


def webpush_public_key(sender: object) -> str:
    """The VAPID public key a browser subscribes with (``applicationServerKey``): the
    uncompressed point of the sender's key, base64url without padding."""
    point = Vapid02.from_pem(sender.secret.encode()).public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def _webpush_send(delivery: Delivery) -> Sent:
    sender = delivery.sender
    subscription = delivery.payload["subscription"]
    data = json.dumps(
        {
            "title": delivery.subject,
            "body": delivery.body,
            "message_id": delivery.message_id,
            "protocol": delivery.protocol,
        },
        ensure_ascii=False,
    ).encode()
    # pywebpush brings aiohttp along: a tenth of a second at every process start, for
    # the few processes that send Web Push.
    from pywebpush import WebPusher

    try:
        encoded = WebPusher(subscription).encode(data, content_encoding="aes128gcm")
        endpoint = urlsplit(subscription["endpoint"])
        vapid = Vapid02.from_pem(sender.secret.encode())
        claims = {
            "sub": sender.settings.get("subject", "mailto:nao-responda@atende.local"),
            "aud": f"{endpoint.scheme}://{endpoint.netloc}",
            "exp": int(time.time()) + 12 * 3600,
        }
        headers = {
            **vapid.sign(claims),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(WEBPUSH_TTL),
            "Urgency": "normal",
            "Topic": delivery.message_id[-32:],
        }
    except (ValueError, KeyError, TypeError) as error:
        raise Permanent(
            _("The browser subscription is not valid: %(error)s") % {"error": error}
        ) from error
    response = outbound_post(subscription["endpoint"], content=encoded["body"], headers=headers)
    if response.status_code in {404, 410}:
        raise Permanent(
            _("The browser subscription has expired."), status_code=response.status_code
        )
    return http_result(response)
