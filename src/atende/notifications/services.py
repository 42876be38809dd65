"""The delivery pipeline: deliveries are made in the transaction of their cause, then
claimed, sent and retried by the workers.

- ``actions_enqueue`` turns an event that entered a status into one delivery per active
  action of that status (and per device, for push), content rendered there and then.
- ``delivery_enqueue`` is the same door for every other message (report ready, password
  reset, protocol sent by the call center).
- ``deliveries_drain`` claims due deliveries — pending, or ``sending`` whose lease ran out
  because a worker died — and sends them. On PostgreSQL many workers claim at once with
  ``SKIP LOCKED``; each claim is a conditional UPDATE stamped with the worker's token, so a
  delivery is in one worker's hands at a time.
- A transient failure is retried with exponential backoff and jitter for
  ``DELIVERY_RETRY_HOURS``; a permanent one fails at once. Failures stay listed until a
  supervisor resends them (``delivery_resend``).
"""

import functools
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import jsonschema
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks_db.utils import exclusive_transaction
from validate_docbr import CNPJ, CPF

from atende.catalog.models import ActionKind, StatusAction
from atende.notifications.channels import ADAPTERS, DeliveryError, Permanent, Sent
from atende.notifications.channels.push import webpush_public_key
from atende.notifications.models import (
    SENDER_CHANNEL,
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryAttempt,
    DeliveryState,
    Purpose,
    PushTarget,
    Sender,
    SenderKind,
)
from atende.notifications.outbound import OutboundRefused, url_check
from atende.notifications.templating import template_render
from atende.registrations.models import Requester
from atende.tenancy.models import Application, Instance
from atende.tenancy.timezones import operator_clock
from atende.tenancy.validators import only_digits, phone_parse

logger = logging.getLogger(__name__)

BACKOFF_FIRST = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=4)


# --- Making deliveries -----------------------------------------------------------------


def actions_enqueue(*, occurrence: object, event: object, actions: list | None = None) -> int:
    """In the caller's transaction: one delivery per active action of the status the event
    entered. ``actions`` may come from a catalog snapshot; otherwise they are read."""
    if actions is None:
        actions = list(StatusAction.objects.filter(status_id=event.status_after_id, is_active=True))
    actions = [
        a
        for a in actions
        if a.applies(status_before_id=event.status_before_id, channel=occurrence.channel)
    ]
    if not actions:
        return 0
    values = _LazyValues(occurrence)
    # Every hook of one change carries the same body: made once.
    hook_body = functools.cache(lambda: hook_payload(occurrence, event))
    senders = _Senders(occurrence.operator_id)
    # The beneficiary's devices, read once however many push actions the status has.
    devices = functools.cache(lambda: _devices(occurrence))
    # A registration's requesters (seed 004), each told by SMS or WhatsApp once.
    requester_phones = functools.cache(
        lambda: (
            list(
                dict.fromkeys(
                    Requester.objects.filter(occurrence_id=occurrence.pk)
                    .exclude(phone="")
                    .order_by("pk")
                    .values_list("phone", flat=True)
                )
            )
            if occurrence.occurrence_type.has_place
            else []
        )
    )
    deliveries = []
    for action in actions:
        deliveries.extend(
            _action_deliveries(
                action, occurrence, event, values, hook_body, senders, devices, requester_phones
            )
        )
    _insert(deliveries)
    return len(deliveries)


def reply_enqueue(*, occurrence: object, event: object, text: str) -> int:
    """In the reply's transaction: the beneficiary is told of a public reply by e-mail (the
    occurrence's contact address) and by push on each of their devices. The reply is the
    message; the link takes them to the conversation in the portal."""
    values = occurrence_values(occurrence)
    now = event.at
    common = {
        "operator_id": occurrence.operator_id,
        "purpose": Purpose.REPLY,
        "occurrence_id": occurrence.pk,
        "event_id": event.pk,
        "protocol": occurrence.protocol,
        "subject": _("Reply to your protocol %(protocol)s") % {"protocol": occurrence.protocol},
        "body": _("%(text)s\n\nFollow your request and answer it at %(link)s")
        % {"text": text, "link": values["link_portal"]},
        "created_at": now,
        "next_attempt_at": now,
    }
    key = f"reply:{event.pk}"
    deliveries = []
    if occurrence.contact_email:
        deliveries.append(
            _delivery(common, channel=Channel.EMAIL, key=key, recipient=occurrence.contact_email)
        )
    deliveries += _pushes(
        {**common, "body": text}, key, _devices(occurrence), _Senders(occurrence.operator_id)
    )
    _insert(deliveries)
    return len(deliveries)


def _pushes(common: dict, key: str, devices: list[PushTarget], senders: "_Senders"):
    """One push delivery per device of the beneficiary, each through its kind's sender."""
    for target in devices:
        yield _delivery(
            common,
            channel=Channel.PUSH,
            key=f"{key}:target:{target.pk}",
            recipient=target.token or target.subscription.get("endpoint", ""),
            sender=senders.of_kind(target.kind),
            payload={"subscription": target.subscription} if target.subscription else {},
        )


def _devices(occurrence: object) -> list[PushTarget]:
    """The beneficiary's devices registered through the occurrence's application."""
    if not occurrence.beneficiary_identifier:
        return []
    return list(
        PushTarget.objects.filter(
            application_id=occurrence.application_id,
            beneficiary_identifier=occurrence.beneficiary_identifier,
            is_active=True,
        )
    )


_INSERT_FIELDS = [f for f in Delivery._meta.concrete_fields if not f.primary_key]
# Values the database adapter cannot take as they are (JSON, time zones on SQLite).
_PREPARED = {
    f.attname for f in _INSERT_FIELDS if f.get_internal_type() in {"JSONField", "DateTimeField"}
}


def _insert(rows: list[dict]) -> None:
    """One INSERT of plain column values, its SQL made once: the status change pays for
    the rows, not for model instances nor for compiling the statement (``bulk_create``
    does both every time). Columns a row leaves out take their model default."""
    if not rows:
        return
    values = [
        {
            field.column: row[field.attname] if field.attname in row else field.get_default()
            for field in _INSERT_FIELDS
        }
        for row in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # The rows travel as one JSON parameter: a statement of many parameters is
            # re-parsed by psycopg on every call (past 50), which cost more than the
            # insert itself; this one is parsed once and cached.
            cursor.execute(_insert_json_sql(), [json.dumps(values, default=_json_value)])
            return
        params = [
            field.get_db_prep_save(row[field.column], connection)
            if field.attname in _PREPARED
            else row[field.column]
            for row in values
            for field in _INSERT_FIELDS
        ]
        cursor.execute(_insert_sql(len(rows)), params)


def _json_value(value: object) -> str:
    # Times keep their microseconds and offset (Django's encoder would cut to milliseconds).
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a column value")


def _columns() -> str:
    return ", ".join(connection.ops.quote_name(f.column) for f in _INSERT_FIELDS)


@functools.cache
def _insert_json_sql() -> str:
    table = connection.ops.quote_name(Delivery._meta.db_table)
    return (
        f"INSERT INTO {table} ({_columns()}) "  # noqa: S608
        f"SELECT {_columns()} FROM json_populate_recordset(NULL::{table}, %s)"
    )


@functools.cache
def _insert_sql(rows: int) -> str:
    row = "(" + ", ".join(["%s"] * len(_INSERT_FIELDS)) + ")"
    table = connection.ops.quote_name(Delivery._meta.db_table)
    return f"INSERT INTO {table} ({_columns()}) VALUES {', '.join([row] * rows)}"  # noqa: S608


def portal_link(*, bundle: str, protocol: str) -> str:
    """Where the beneficiary follows an occurrence: its page in the portal."""
    return settings.PORTAL_OCCURRENCE_URL.format(bundle=bundle, protocol=protocol)


def occurrence_values(occurrence: object) -> dict[str, str]:
    """The only values a configurator's template sees."""
    due = occurrence.sla_due_at
    return {
        "protocolo": occurrence.protocol,
        "tipo": occurrence.occurrence_type.name,
        "assunto": occurrence.subject.name if occurrence.subject_id else "",
        "status": occurrence.status.external_description,
        "beneficiario": occurrence.beneficiary_name,
        "prazo_sla": (
            f"{operator_clock(due, occurrence.operator.time_zone):%d/%m/%Y %H:%M}" if due else ""
        ),
        "link_portal": portal_link(
            bundle=occurrence.application.bundle, protocol=occurrence.protocol
        ),
    }


class _LazyValues(Mapping):
    """The template values, worked out when a template first asks: a change whose actions
    are only hooks reads none of them (the portal link would cost a query)."""

    def __init__(self, occurrence: object) -> None:
        self.occurrence = occurrence
        self._values: dict[str, str] | None = None

    def _all(self) -> dict[str, str]:
        if self._values is None:
            self._values = occurrence_values(self.occurrence)
        return self._values

    def __getitem__(self, name: str) -> str:
        return self._all()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())


def _action_deliveries(
    action: StatusAction,
    occurrence: object,
    event: object,
    values: dict,
    hook_body: Callable,
    senders: "_Senders",
    devices: Callable[[], list[PushTarget]],
    requester_phones: Callable[[], list[str]],
):
    now = event.at
    common = {
        "operator_id": occurrence.operator_id,
        "purpose": Purpose.ACTION,
        "occurrence_id": occurrence.pk,
        "event_id": event.pk,
        "action_id": action.pk,
        "protocol": occurrence.protocol,
        "subject": template_render(action.subject_template, values)[:300],
        "body": template_render(action.body_template, values),
        "created_at": now,
        "next_attempt_at": now,
    }
    key = f"action:{action.pk}:event:{event.pk}"
    if action.kind == ActionKind.PUSH:
        yield from _pushes(common, key, devices(), senders)
        return
    if action.kind == ActionKind.HOOK:
        yield _delivery(
            common,
            channel=Channel.HOOK,
            key=key,
            recipient=action.recipient,
            payload=hook_body(),
        )
        return
    if action.kind in (ActionKind.SMS, ActionKind.WHATSAPP) and not action.recipient:
        phones = requester_phones()
        if phones:
            for phone in phones:
                channel, address, sender, payload = _addressed(action, phone, senders, values)
                yield _delivery(
                    common,
                    channel=channel,
                    key=f"{key}:phone:{phone}",
                    recipient=address or phone,
                    sender=sender,
                    payload=payload,
                )
            return
    contact = (
        occurrence.contact_email if action.kind == ActionKind.EMAIL else occurrence.contact_phone
    )
    raw = action.recipient or contact
    channel, address, sender, payload = _addressed(action, raw, senders, values)
    missing = ""
    if address is None:
        missing = (
            _("The occurrence has no contact e-mail.")
            if channel == Channel.EMAIL
            else _("The occurrence has no valid contact phone.")
        )
    yield _delivery(
        common,
        channel=channel,
        key=key,
        recipient=address or raw,
        sender=sender,
        payload=payload,
        missing=missing,
    )


def _addressed(
    action: StatusAction, raw: str, senders: "_Senders", values: dict[str, str]
) -> tuple[Channel, str | None, Sender | None, dict]:
    """For an e-mail, SMS or WhatsApp action: its channel, the address ready to send (None
    when it cannot be used), the operator's sender for the channel and the payload."""
    channel = Channel(action.kind)
    if channel == Channel.EMAIL:
        try:
            validate_email(raw or "")
        except ValidationError:
            return channel, None, None, {}
        return channel, raw, None, {}
    payload = _whatsapp_payload(action, values) if channel == Channel.WHATSAPP else {}
    return channel, phone_parse(raw or ""), senders.of_channel(channel), payload


def _no_sender(channel: str) -> str:
    return _("No active sender is configured for %(channel)s.") % {
        "channel": Channel(channel).label
    }


def _whatsapp_payload(action: StatusAction, values: dict[str, str]) -> dict:
    return {
        "name": action.whatsapp_template,
        "language": action.whatsapp_language,
        "parameters": [values.get(name, "") for name in action.whatsapp_parameters],
    }


def _delivery(
    common: dict,
    *,
    channel: str,
    key: str,
    recipient: str,
    sender: Sender | None = None,
    payload: dict | None = None,
    missing: str = "",
) -> dict:
    """A delivery's row, as column values for ``_insert``. One that cannot be sent (no
    address, no sender configured) is written failed, so the failures screen shows it
    instead of nothing happening."""
    if not missing and channel in SENDER_CHANNEL.values() and sender is None:
        missing = _no_sender(channel)
    row = {
        **common,
        "channel": channel,
        "key": key,
        "recipient": recipient[:500],
        "sender_id": sender.pk if sender is not None else None,
        "payload": payload or {},
    }
    if missing:
        row.update(state=DeliveryState.FAILED, failed_at=common["created_at"], last_error=missing)
    return row


def sender_for(*, operator_id: int, channel: str) -> Sender:
    """The operator's active sender for ``channel`` (SMS, WhatsApp, push), the one its
    status actions would use; refused with the same message when there is none."""
    sender = _Senders(operator_id).of_channel(channel)
    if sender is None:
        raise ValidationError({"channel": _no_sender(channel)})
    return sender


class _Senders:
    """An operator's active senders, read in one query when first needed (a change with
    push to several devices, SMS and WhatsApp reads them once)."""

    def __init__(self, operator_id: int) -> None:
        self.operator_id = operator_id
        self._active: list[Sender] | None = None

    def _all(self) -> list[Sender]:
        if self._active is None:
            self._active = list(
                Sender.objects.filter(operator_id=self.operator_id, is_active=True).order_by("id")
            )
        return self._active

    def of_kind(self, kind: str) -> Sender | None:
        return next((s for s in self._all() if s.kind == kind), None)

    def of_channel(self, channel: str) -> Sender | None:
        return next((s for s in self._all() if SENDER_CHANNEL[s.kind] == channel), None)


def hook_payload(occurrence: object, event: object) -> dict:
    """The Standard Webhooks body: ``type``, ``timestamp`` and ``data``."""
    before = event.status_before
    return {
        "type": "occurrence.created" if before is None else "occurrence.status_changed",
        "timestamp": event.at.isoformat(),
        "data": {
            "protocol": occurrence.protocol,
            "occurrence_type": {
                "id": occurrence.occurrence_type_id,
                "name": occurrence.occurrence_type.name,
            },
            "subject": occurrence.subject.name if occurrence.subject_id else None,
            "state": occurrence.state,
            "channel": occurrence.channel,
            "beneficiary_identifier": occurrence.beneficiary_identifier,
            "beneficiary_name": occurrence.beneficiary_name,
            "registered_at": occurrence.registered_at.isoformat(),
            "sla_due_at": occurrence.sla_due_at.isoformat() if occurrence.sla_due_at else None,
            "previous_status": _status_out(before) if before is not None else None,
            "status": _status_out(occurrence.status),
            "event": {"seq": event.seq, "kind": event.kind, "at": event.at.isoformat()},
        },
    }


def _status_out(status: object) -> dict:
    return {
        "id": status.pk,
        "internal_description": status.internal_description,
        "external_description": status.external_description,
    }


def delivery_enqueue(
    *,
    key: str,
    purpose: str,
    channel: str,
    recipient: str,
    subject: str = "",
    body: str = "",
    html: str = "",
    operator_id: int | None = None,
    occurrence: object = None,
    action: StatusAction | None = None,
    sender: Sender | None = None,
    payload: dict | None = None,
) -> Delivery:
    """One message for one cause, whatever its origin; a second call with the same ``key``
    returns the delivery already made and sends nothing more. One that needs a sender the
    operator lacks is written failed, as an action's would be."""
    now = timezone.now()
    unsendable = {}
    if channel in SENDER_CHANNEL.values() and sender is None:
        unsendable = {
            "state": DeliveryState.FAILED,
            "failed_at": now,
            "last_error": _no_sender(channel),
        }
    delivery, _created = Delivery.objects.get_or_create(
        key=key,
        defaults={
            **unsendable,
            "operator_id": operator_id,
            "purpose": purpose,
            "channel": channel,
            "occurrence": occurrence,
            "action": action,
            "protocol": getattr(occurrence, "protocol", ""),
            "recipient": recipient,
            "subject": subject[:300],
            "body": body,
            "html": html,
            "sender": sender,
            "payload": payload or {},
            "created_at": now,
            "next_attempt_at": now,
        },
    )
    return delivery


def action_test_send(*, action: StatusAction, recipient: str, user: object) -> Delivery:
    """Send an action's message now with sample values, to the address typed (or the
    action's own); it goes through the pipeline like any other and is listed as a test."""
    operator = action.status.occurrence_type.operator
    operator_id = operator.pk
    values = {
        "protocolo": "00000000000000000000",
        "tipo": action.status.occurrence_type.name,
        "assunto": "",
        "status": action.status.external_description,
        "beneficiario": _("Test beneficiary"),
        "prazo_sla": f"{operator_clock(timezone.now(), operator.time_zone):%d/%m/%Y %H:%M}",
        "link_portal": portal_link(
            bundle=Application.objects.filter(operator_id=operator_id, instance=Instance.PRODUCTION)
            .values_list("bundle", flat=True)
            .first()
            or "",
            protocol="00000000000000000000",
        ),
    }
    target = (recipient or "").strip() or action.recipient
    channel, sender, payload = Channel(action.kind), None, {}
    if channel == Channel.PUSH:
        raise ValidationError(
            _(
                "Push is tested on a real device: change the status of an occurrence of a "
                "beneficiary who has the app."
            )
        )
    if channel == Channel.HOOK:
        target = action.recipient
        payload = {
            "type": "occurrence.test",
            "timestamp": timezone.now().isoformat(),
            "data": {"protocol": values["protocolo"], "status": values["status"]},
        }
    else:
        channel, target, sender, payload = _addressed(action, target, _Senders(operator_id), values)
        if target is None and channel == Channel.EMAIL:
            raise ValidationError(_("Enter a valid e-mail address."))
        if target is None:
            raise ValidationError(_("Invalid phone number: include the area code (DDD)."))
        if channel != Channel.EMAIL and sender is None:
            raise ValidationError(_no_sender(channel))
    logger.info("Action %s test send requested by user %s", action.pk, user.pk)
    return delivery_enqueue(
        key=f"test:{action.pk}:{uuid.uuid4().hex}",
        purpose=Purpose.TEST,
        channel=channel,
        operator_id=operator_id,
        recipient=target,
        subject=template_render(action.subject_template, values),
        body=template_render(action.body_template, values),
        action=action,
        sender=sender,
        payload=payload,
    )


# --- Senders -------------------------------------------------------------------------------

_URL = {"type": "string", "pattern": "^https?://", "maxLength": 500}
SENDER_SETTINGS_SCHEMAS = {
    SenderKind.WHATSAPP_CLOUD: {
        "type": "object",
        "required": ["phone_number_id"],
        "properties": {
            "base_url": _URL,
            "api_version": {"type": "string", "pattern": "^v[0-9]+\\.[0-9]+$"},
            "phone_number_id": {"type": "string", "pattern": "^[0-9]{5,30}$"},
        },
        "additionalProperties": False,
    },
    SenderKind.SMS_HTTP: {
        "type": "object",
        "required": ["url"],
        "properties": {"url": _URL},
        "additionalProperties": False,
    },
    SenderKind.SMS_MODEM: {
        "type": "object",
        "required": ["port"],
        "properties": {
            "port": {"type": "string", "pattern": "^/dev/[A-Za-z0-9_./-]+$"},
            "baudrate": {"type": "integer", "enum": [9600, 19200, 38400, 57600, 115200]},
            "timeout": {"type": "number", "minimum": 1, "maximum": 120},
        },
        "additionalProperties": False,
    },
    SenderKind.FCM: {
        "type": "object",
        "required": ["project_id"],
        "properties": {"project_id": {"type": "string", "minLength": 1}, "base_url": _URL},
        "additionalProperties": False,
    },
    SenderKind.WEBPUSH: {
        "type": "object",
        "required": ["subject"],
        "properties": {"subject": {"type": "string", "pattern": "^(mailto:|https://)"}},
        "additionalProperties": False,
    },
}
# Seed 004: a modem sends about one message every 7 s.
MODEM_INTERVAL_MS = 7000


def sender_check(sender: Sender) -> None:
    """The provider's settings against their schema, and the addresses it will call."""
    try:
        jsonschema.validate(sender.settings, SENDER_SETTINGS_SCHEMAS[sender.kind])
    except jsonschema.ValidationError as error:
        path = ".".join(str(p) for p in error.absolute_path) or "settings"
        raise ValidationError(
            {"settings": _("%(path)s: %(error)s") % {"path": path, "error": error.message}}
        ) from None
    for key in ("url", "base_url"):
        if key in sender.settings:
            try:
                url_check(sender.settings[key], resolve=False)
            except OutboundRefused as error:
                raise ValidationError({"settings": str(error)}) from None
    if sender.kind == SenderKind.SMS_MODEM and not sender.min_interval_ms:
        sender.min_interval_ms = MODEM_INTERVAL_MS


# --- Devices for push --------------------------------------------------------------------

SUBSCRIPTION_SCHEMA = {
    "type": "object",
    "required": ["endpoint", "keys"],
    "properties": {
        "endpoint": {"type": "string", "pattern": "^https://", "maxLength": 2000},
        "expirationTime": {"type": ["number", "null"]},
        "keys": {
            "type": "object",
            "required": ["p256dh", "auth"],
            "properties": {
                "p256dh": {"type": "string", "pattern": "^[A-Za-z0-9_-]{80,100}={0,2}$"},
                "auth": {"type": "string", "pattern": "^[A-Za-z0-9_-]{16,30}={0,2}$"},
            },
        },
    },
}


def push_target_register(
    *,
    application: Application,
    beneficiary_identifier: str,
    kind: str,
    token: str = "",
    subscription: dict | None = None,
) -> PushTarget:
    """An app's registration token (FCM) or a browser's subscription (Web Push) for a
    beneficiary, in ``application``. Registering the same device again returns the row
    already there; the same device in another application is another row."""
    identifier = only_digits(beneficiary_identifier)
    if not (
        (len(identifier) == 11 and CPF().validate(identifier))
        or (len(identifier) == 14 and CNPJ().validate(identifier))
    ):
        raise ValidationError(
            {"beneficiary_identifier": _("Invalid CPF or CNPJ: check the digits.")}
        )
    if kind == SenderKind.FCM:
        token = (token or "").strip()
        if not token or len(token) > 4096:
            raise ValidationError({"token": _("Send the device's FCM registration token.")})
        existing = PushTarget.objects.filter(application=application, kind=kind, token=token)
        subscription = {}
    elif kind == SenderKind.WEBPUSH:
        try:
            jsonschema.validate(subscription or {}, SUBSCRIPTION_SCHEMA)
            # Push services resolve at send time, where the address is checked again.
            url_check(subscription["endpoint"], resolve=False)
        except jsonschema.ValidationError as error:
            raise ValidationError(
                {
                    "subscription": _("Invalid browser subscription: %(error)s")
                    % {"error": error.message}
                }
            ) from None
        except OutboundRefused as error:
            raise ValidationError({"subscription": str(error)}) from None
        token = ""
        existing = PushTarget.objects.filter(
            application=application, kind=kind, subscription__endpoint=subscription["endpoint"]
        )
    else:
        raise ValidationError({"kind": _("Choose fcm or webpush.")})
    target = existing.first()
    if target is not None:
        PushTarget.objects.filter(pk=target.pk).update(
            beneficiary_identifier=identifier, subscription=subscription, is_active=True
        )
        target.refresh_from_db()
        return target
    return PushTarget.objects.create(
        operator_id=application.operator_id,
        application=application,
        beneficiary_identifier=identifier,
        kind=kind,
        token=token,
        subscription=subscription,
    )


def webpush_key_for(operator_id: int) -> str | None:
    """The public key browsers of this operator's portal subscribe with; None when the
    operator has no working Web Push sender (the portal then offers nothing)."""
    sender = (
        Sender.objects.filter(operator_id=operator_id, kind=SenderKind.WEBPUSH, is_active=True)
        .order_by("id")
        .first()
    )
    if sender is None:
        return None
    try:
        return webpush_public_key(sender)
    except (ValueError, TypeError):
        logger.warning("Web Push sender %s has no usable VAPID key", sender.pk)
        return None


def push_target_remove(*, target: PushTarget) -> None:
    PushTarget.objects.filter(pk=target.pk).update(is_active=False)


# --- Sending -----------------------------------------------------------------------------


def deliveries_drain(*, worker: str = "", limit: int | None = None) -> int:
    """Claim due deliveries and send them; returns how many were claimed.

    A batch holds at most ``DELIVERY_PER_OPERATOR`` deliveries of one operator. Each
    operator's are sent one after another (its lane), and the lanes of different operators
    at once, up to ``DELIVERY_CONCURRENCY``: a receiver that takes a whole send's deadline
    delays only its own operator's next message, by that deadline at most.

    The lease covers the whole batch, and slow receivers can outlast it: past half the
    lease, a lane's deliveries not sent yet have their lease renewed, and any another worker
    took meanwhile are left to it rather than sent twice."""
    claimed = _claim(limit or settings.DELIVERY_BATCH)
    lanes: dict[int | None, list[Delivery]] = {}
    for delivery in claimed:
        lanes.setdefault(delivery.operator_id, []).append(delivery)
    renewed = time.monotonic()
    # Threads cannot share the caller's transaction: inside one, the lanes run here.
    if len(lanes) <= 1 or connection.in_atomic_block:
        for lane in lanes.values():
            _lane_send(lane, worker=worker, renewed=renewed)
    else:
        threads = min(len(lanes), settings.DELIVERY_CONCURRENCY)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="delivery") as pool:
            sends = [
                pool.submit(_lane_in_thread, lane, worker=worker, renewed=renewed)
                for lane in lanes.values()
            ]
            for send in sends:
                send.result()
    return len(claimed)


def _lane_send(lane: list[Delivery], *, worker: str, renewed: float) -> None:
    waiting = list(lane)
    while waiting:
        if time.monotonic() - renewed > settings.DELIVERY_LEASE_SECONDS / 2:
            renewed = time.monotonic()
            waiting = _lease_renew(waiting)
            if not waiting:
                break
        _send(waiting.pop(0), worker=worker)


def _lane_in_thread(lane: list[Delivery], *, worker: str, renewed: float) -> None:
    try:
        _lane_send(lane, worker=worker, renewed=renewed)
    finally:
        # Each thread had a connection of its own.
        connection.close()


def _lease_renew(deliveries: list[Delivery]) -> list[Delivery]:
    """The deliveries still held, their lease moved forward (one token for a batch)."""
    token = deliveries[0].lease_token
    ids = [delivery.pk for delivery in deliveries]
    held = Delivery.objects.filter(pk__in=ids, lease_token=token, state=DeliveryState.SENDING)
    held.update(next_attempt_at=timezone.now() + timedelta(seconds=settings.DELIVERY_LEASE_SECONDS))
    kept = set(held.values_list("pk", flat=True))
    return [delivery for delivery in deliveries if delivery.pk in kept]


def _claim(limit: int) -> list[Delivery]:
    now = timezone.now()
    token = uuid.uuid4().hex
    lease = timedelta(seconds=settings.DELIVERY_LEASE_SECONDS)
    due = Q(state__in=[DeliveryState.PENDING, DeliveryState.SENDING], next_attempt_at__lte=now)
    # An idle worker asks this every second: a plain read on the partial index, so that on
    # SQLite it does not take the database's write lock for nothing.
    if not Delivery.objects.filter(due).exists():
        return []
    with exclusive_transaction(Delivery.objects.db):
        ids = _fair_share(Delivery.objects.filter(due), limit)
        if not ids:
            return []
        Delivery.objects.filter(due, pk__in=ids).update(
            state=DeliveryState.SENDING,
            lease_token=token,
            next_attempt_at=now + lease,
            attempts=F("attempts") + 1,
        )
    return list(
        Delivery.objects.filter(pk__in=ids, lease_token=token)
        .select_related("action", "sender")
        .order_by("pk")
    )


def _fair_share(due: QuerySet[Delivery], limit: int) -> list[int]:
    """Up to ``limit`` due deliveries, oldest first, at most ``DELIVERY_PER_OPERATOR`` of
    one operator. The oldest few times ``limit`` are read first; when operators filled their
    share there, once more past them, so another operator's message behind a long queue of
    one operator is reached too."""
    share = settings.DELIVERY_PER_OPERATOR
    taken: dict[int | None, int] = {}
    ids: list[int] = []

    def take(candidates: QuerySet[Delivery], count: int) -> None:
        candidates = candidates.order_by("next_attempt_at")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        for pk, operator_id in candidates.values_list("pk", "operator_id")[:count]:
            if len(ids) < limit and taken.get(operator_id, 0) < share:
                taken[operator_id] = taken.get(operator_id, 0) + 1
                ids.append(pk)

    take(due, limit * share)
    full = [operator for operator, count in taken.items() if count >= share]
    if len(ids) < limit and full:
        rest = due.exclude(operator_id__in=[o for o in full if o is not None])
        if None in full:
            rest = rest.exclude(operator_id__isnull=True)
        take(rest.exclude(pk__in=ids), limit - len(ids))
    return ids


def _send(delivery: Delivery, *, worker: str) -> None:
    if delivery.sender is not None and delivery.sender.min_interval_ms:
        slot = sender_slot_take(delivery.sender)
        if slot is not None:
            # Another send holds this sender's slot: wait for the next one, not an attempt.
            Delivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
                state=DeliveryState.PENDING,
                next_attempt_at=slot,
                lease_token="",
                attempts=F("attempts") - 1,
            )
            return
    started = timezone.now()
    clock = time.monotonic()
    error: DeliveryError | None = None
    try:
        if not delivery.recipient:
            raise Permanent(_("The delivery has no recipient."))
        sent = ADAPTERS[delivery.channel](delivery)
    except DeliveryError as failure:
        error, sent = failure, Sent(status_code=failure.status_code, response=failure.response)
    except Exception as failure:
        # A bug in an adapter must not stop the worker; the delivery is retried and the
        # error kept on the attempt for whoever fixes it.
        logger.exception(
            "Delivery %s: unexpected error in the %s adapter", delivery.pk, delivery.channel
        )
        error = DeliveryError(f"{type(failure).__name__}: {failure}")
        sent = Sent()
    duration_ms = int((time.monotonic() - clock) * 1000)
    _record(
        delivery, worker=worker, started=started, duration_ms=duration_ms, sent=sent, error=error
    )


def sender_slot_take(sender: Sender) -> datetime | None:
    """Take the sender's next send slot; None when taken, else when the next one opens.
    Whatever else uses the provider (reading a modem's inbox) takes a slot too, so that
    no two workers talk to one modem at once."""
    now = timezone.now()
    interval = timedelta(milliseconds=sender.min_interval_ms)
    taken = (
        Sender.objects.filter(pk=sender.pk)
        .filter(Q(next_slot_at__isnull=True) | Q(next_slot_at__lte=now))
        .update(next_slot_at=now + interval)
    )
    if taken:
        return None
    return Sender.objects.values_list("next_slot_at", flat=True).get(pk=sender.pk)


def _record(
    delivery: Delivery,
    *,
    worker: str,
    started: datetime,
    duration_ms: int,
    sent: Sent,
    error: DeliveryError | None,
) -> None:
    now = timezone.now()
    if error is None:
        outcome = AttemptOutcome.DELIVERED
        change = {"state": DeliveryState.DELIVERED, "delivered_at": now, "last_error": ""}
    else:
        retry_at = None if error.permanent else _retry_at(delivery, now)
        if retry_at is None:
            outcome = AttemptOutcome.FAILED
            change = {"state": DeliveryState.FAILED, "failed_at": now, "last_error": str(error)}
        else:
            outcome = AttemptOutcome.RETRY
            change = {
                "state": DeliveryState.PENDING,
                "next_attempt_at": retry_at,
                "last_error": str(error),
            }
    with transaction.atomic():
        # Only the holder of the lease moves the delivery on; a worker that lost it (it
        # stalled past the lease) still logs what it did.
        Delivery.objects.filter(pk=delivery.pk, lease_token=delivery.lease_token).update(
            lease_token="", resend_requested_by=None, **change
        )
        DeliveryAttempt.objects.create(
            delivery=delivery,
            number=delivery.attempts,
            started_at=started,
            duration_ms=duration_ms,
            outcome=outcome,
            status_code=sent.status_code,
            response=sent.response,
            error=str(error) if error is not None else "",
            worker=worker[:100],
            requested_by_id=delivery.resend_requested_by_id,
        )


def _retry_at(delivery: Delivery, now: datetime) -> datetime | None:
    """Exponential backoff with equal jitter, within the retry window; None when the
    window is over."""
    deadline = delivery.created_at + timedelta(hours=settings.DELIVERY_RETRY_HOURS)
    if now >= deadline:
        return None
    delay = min(BACKOFF_FIRST * 2 ** (max(delivery.attempts, 1) - 1), BACKOFF_CAP)
    delay = delay / 2 + delay / 2 * random.random()
    return min(now + delay, deadline)


# --- Supervisors' actions ----------------------------------------------------------------


def delivery_resend(*, delivery: Delivery, user: object) -> Delivery:
    """A failed delivery gets one new attempt, now; the attempt records who asked. Past the
    retry window a transient failure of that attempt fails it again."""
    now = timezone.now()
    resent = Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.FAILED).update(
        state=DeliveryState.PENDING,
        next_attempt_at=now,
        failed_at=None,
        resend_requested_by=user,
    )
    if not resent:
        raise ValidationError(_("Only a failed delivery can be sent again."), code="not_failed")
    logger.info("Delivery %s resend requested by user %s", delivery.pk, user.pk)
    delivery.refresh_from_db()
    return delivery
