"""Real counterparts on loopback for the delivery channels: an HTTP server whose answers a
test scripts, an SMTP server (aiosmtpd) and a GSM modem on a pseudo-terminal."""

import os
import pty
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller

from atende.testing.processes import free_port


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


# A handler gets the request and answers (status, headers, body).
Answer = tuple[int, dict[str, str], bytes]


@dataclass
class HttpReceiver:
    """Runs ``handler`` for each request; ``requests`` keeps them all in order."""

    handler: Callable[[Request], Answer]
    requests: list[Request] = field(default_factory=list)

    def __post_init__(self) -> None:
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in separate writes; with Nagle on, the body would wait
            # for the client's delayed ACK (40 ms) on every request.
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                self.do_POST(method="GET")

            def do_POST(self, method: str = "POST") -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = Request(
                    method=method,
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length),
                    at=time.monotonic(),
                )
                receiver.requests.append(request)
                status, headers, body = receiver.handler(request)
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), _Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SmtpSink:
    """A real SMTP server; ``messages`` are the parsed e-mails it accepted."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.envelopes: list[object] = []
        self.refuse: set[str] = set()
        sink = self

        class _Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):
                if address in sink.refuse:
                    return "550 5.1.1 No such user"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                sink.envelopes.append(envelope)
                sink.messages.append(message_from_bytes(envelope.content, policy=policy.default))
                return "250 Message accepted"

        self.controller = Controller(_Handler(), hostname="127.0.0.1", port=free_port())
        self.controller.start()

    @property
    def port(self) -> int:
        return self.controller.port

    def close(self) -> None:
        self.controller.stop()


class FakeModem:
    """A GSM modem on a pseudo-terminal: answers AT, AT+CMGF=1, AT+CMGS, AT+CMGL and AT+CMGD
    like a phone does, keeps each message sent with the time it was given, and lists the
    ``inbox`` as received messages. ``fail_next`` answers the next
    send with ``+CMS ERROR``."""

    def __init__(self) -> None:
        # Received messages, as (number, text, "yy/MM/dd,hh:mm:ss+zz"), listed by AT+CMGL
        # with their index and removed by AT+CMGD.
        self.inbox: dict[int, tuple[str, str, str]] = {}
        self.master, slave = pty.openpty()
        tty.setraw(slave)
        self.port = os.ttyname(slave)
        self._slave = slave
        self.messages: list[tuple[str, str, float]] = []
        self.fail_next = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        buffer = b""
        number = ""
        reference = 0
        while not self._stop.is_set():
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            buffer += chunk
            while True:
                if number:
                    if b"\x1a" not in buffer:
                        break
                    text, buffer = buffer.split(b"\x1a", 1)
                    if self.fail_next:
                        self.fail_next -= 1
                        os.write(self.master, b"\r\n+CMS ERROR: 38\r\n")
                    else:
                        reference += 1
                        self.messages.append((number, text.decode(), time.monotonic()))
                        os.write(self.master, b"\r\n+CMGS: %d\r\n\r\nOK\r\n" % reference)
                    number = ""
                    continue
                if b"\r" not in buffer:
                    break
                line, buffer = buffer.split(b"\r", 1)
                line = line.strip()
                if line.startswith(b"AT+CMGS="):
                    number = line.split(b"=", 1)[1].strip(b'"').decode()
                    os.write(self.master, b"\r\n> ")
                elif line in {b"AT", b"AT+CMGF=1"}:
                    os.write(self.master, b"\r\nOK\r\n")
                elif line.startswith(b"AT+CMGL="):
                    listing = b"".join(
                        b'\r\n+CMGL: %d,"REC UNREAD","%s",,"%s"\r\n%s'
                        % (index, number.encode(), at.encode(), text.encode())
                        for index, (number, text, at) in sorted(self.inbox.items())
                    )
                    os.write(self.master, listing + b"\r\n\r\nOK\r\n")
                elif line.startswith(b"AT+CMGD="):
                    self.inbox.pop(int(line.split(b"=", 1)[1]), None)
                    os.write(self.master, b"\r\nOK\r\n")
                elif line:
                    os.write(self.master, b"\r\nERROR\r\n")

    def close(self) -> None:
        self._stop.set()
        os.close(self._slave)
        os.close(self.master)
