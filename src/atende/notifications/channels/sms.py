"""SMS through an HTTP gateway or a GSM modem on a serial port (seed 004).

The modem speaks AT commands in text mode: ``AT+CMGF=1``, then ``AT+CMGS="<number>"``,
the text after the ``>`` prompt ended by Ctrl-Z, and ``+CMGS: <ref>`` / ``OK`` back. The
pipeline's throttle keeps one message per ``min_interval_ms`` (7 s by default) per modem."""

import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import httpx
import serial
from django.utils.translation import gettext as _

from atende.notifications.channels.base import (
    Permanent,
    Sent,
    Transient,
    http_result,
    transport_error,
)
from atende.notifications.models import Delivery, SenderKind
from atende.notifications.outbound import OutboundRefused, outbound_post

CTRL_Z = b"\x1a"
# GSM 03.40 limit for one text-mode message in the default alphabet.
SMS_MAX = 160


def send(delivery: Delivery) -> Sent:
    if delivery.sender.kind == SenderKind.SMS_MODEM:
        return _modem_send(delivery)
    return _gateway_send(delivery)


def _gateway_send(delivery: Delivery) -> Sent:
    sender = delivery.sender
    body = {"id": delivery.message_id, "to": delivery.recipient, "text": delivery.body}
    headers = {"Content-Type": "application/json", "Idempotency-Key": delivery.message_id}
    if sender.secret:
        headers["Authorization"] = f"Bearer {sender.secret}"
    try:
        response = outbound_post(
            sender.settings["url"], content=json.dumps(body).encode(), headers=headers
        )
    except OutboundRefused as error:
        raise Permanent(str(error)) from error
    except httpx.HTTPError as error:
        raise transport_error(error) from error
    return http_result(response)


def _modem_send(delivery: Delivery) -> Sent:
    config = delivery.sender.settings
    timeout = float(config.get("timeout", 30))
    try:
        with serial.Serial(
            config["port"], int(config.get("baudrate", 115200)), timeout=0.2
        ) as port:
            modem = _Modem(port, timeout)
            modem.command(b"AT")
            modem.command(b"AT+CMGF=1")
            port.write(b'AT+CMGS="' + delivery.recipient.encode("ascii") + b'"\r')
            modem.wait_for(b">")
            port.write(delivery.body[:SMS_MAX].encode("ascii", "replace") + CTRL_Z)
            answer = modem.wait_for(b"OK")
    except (serial.SerialException, OSError) as error:
        raise Transient(_("The modem could not be used: %(error)s") % {"error": error}) from error
    reference = next(
        (
            line.split(b":", 1)[1].strip()
            for line in answer.splitlines()
            if line.startswith(b"+CMGS:")
        ),
        b"",
    )
    return Sent(response=f"+CMGS: {reference.decode(errors='replace')}")


@dataclass(frozen=True)
class Received:
    """A message in the modem's memory: its index there, sender, time and text."""

    index: int
    number: str
    at: datetime | None
    text: str


# +CMGL: 3,"REC UNREAD","+5531977776666",,"26/12/05,10:15:30-12"
_LISTED = re.compile(
    rb'^\+CMGL:\s*(\d+),"[^"]*","([^"]*)",[^,]*,"(\d\d)/(\d\d)/(\d\d),(\d\d):(\d\d):(\d\d)([+-]\d+)"'
)


def modem_inbox(sender: object, *, delete: Callable[[Received], bool]) -> int:
    """Read the modem's received messages (seed 004: citizens write to the same chip that
    sends) in text mode with ``AT+CMGL="ALL"``; each one ``delete`` stored is removed with
    ``AT+CMGD``, the others stay for the next reading. Returns how many were removed."""
    config = sender.settings
    timeout = float(config.get("timeout", 30))
    removed = 0
    with serial.Serial(config["port"], int(config.get("baudrate", 115200)), timeout=0.2) as port:
        modem = _Modem(port, timeout)
        modem.command(b"AT")
        modem.command(b"AT+CMGF=1")
        port.write(b'AT+CMGL="ALL"\r')
        listing = modem.listing()
        for message in _parse_listing(listing):
            if delete(message):
                modem.command(b"AT+CMGD=%d" % message.index)
                removed += 1
    return removed


def _parse_listing(listing: bytes) -> list[Received]:
    lines = listing.replace(b"\r\n", b"\n").replace(b"\r", b"\n").split(b"\n")
    found: list[Received] = []
    for i, line in enumerate(lines):
        head = _LISTED.match(line.strip())
        if head is None:
            continue
        body = []
        for following in lines[i + 1 :]:
            if following.startswith(b"+CMGL:") or following.strip() == b"OK":
                break
            body.append(following)
        index, number, yy, mo, dd, hh, mi, ss, quarters = head.groups()
        try:
            # The modem's time zone is in quarters of an hour.
            zone = timezone(timedelta(minutes=15 * int(quarters)))
            at = datetime(2000 + int(yy), int(mo), int(dd), int(hh), int(mi), int(ss), tzinfo=zone)
        except ValueError:
            at = None
        found.append(
            Received(
                index=int(index),
                number=number.decode("ascii", "replace"),
                at=at,
                text=b"\n".join(body).strip().decode("utf-8", "replace"),
            )
        )
    return found


class _Modem:
    def __init__(self, port: serial.Serial, timeout: float) -> None:
        self.port = port
        self.timeout = timeout

    def command(self, line: bytes) -> bytes:
        self.port.write(line + b"\r")
        return self.wait_for(b"OK")

    def listing(self) -> bytes:
        """The answer to a listing, up to its final OK line: the messages' texts may hold
        "OK" or "ERROR" themselves, so only a final status line ends it."""
        received = b""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            received += self.port.read(self.port.in_waiting or 1)
            tail = received.rstrip().rsplit(b"\n", 1)[-1].strip()
            if received.endswith(b"\r\n") and tail == b"OK":
                return received
            if received.endswith(b"\r\n") and (tail == b"ERROR" or tail.startswith(b"+CMS ERROR")):
                raise Transient(
                    _("The modem answered an error: %(answer)s") % {"answer": tail.decode()}
                )
        raise Transient(_("The modem did not answer in time."))

    def wait_for(self, token: bytes) -> bytes:
        """Read until ``token``; an ERROR answer or the timeout is a transient failure."""
        received = b""
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            # Whatever has arrived, or one byte within the port's read timeout.
            received += self.port.read(self.port.in_waiting or 1)
            if token in received:
                return received
            if b"ERROR" in received:
                raise Transient(
                    _("The modem answered an error: %(answer)s")
                    % {"answer": received.decode(errors="replace").strip()},
                    response=received.decode(errors="replace"),
                )
        raise Transient(_("The modem did not answer in time."))
