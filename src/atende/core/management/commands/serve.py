"""``atende serve``: the production web server (gunicorn) and the worker, side by side.

Both children run in their own process groups, so Ctrl-C reaches only this supervisor,
which asks each child once to stop (SIGTERM) and waits for it. If either child dies, the
other is stopped too and the command exits non-zero, so a process manager restarts both.
"""

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from types import FrameType

from django.core.management.base import BaseCommand

from atende.env import env_int, env_str

STOP_GRACE_SECONDS = 30
# The path without its query string: searches by CPF or name must not reach the access log.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'


def served_environment(environ: "os._Environ | dict", *, bind: str) -> dict:
    """The children's environment: without a site URL of its own, the links the worker
    e-mails point at the address served here (a wildcard bind is reached on loopback)."""
    environment = dict(environ)
    if not environment.get("ATENDE_SITE_URL"):
        host, _, port = bind.rpartition(":")
        if host in ("", "0.0.0.0", "[::]"):  # noqa: S104 (read, not bound)
            host = "127.0.0.1"
        environment["ATENDE_SITE_URL"] = f"http://{host}:{port}"
    return environment


class Command(BaseCommand):
    help = "Serves Atende with gunicorn and runs the background worker beside it."

    def add_arguments(self, parser: ArgumentParser) -> None:
        port = env_int("PORT", 8000, minimum=1)
        parser.add_argument("--bind", default=env_str("ATENDE_BIND", f"127.0.0.1:{port}"))
        parser.add_argument(
            "--web-workers", type=int, default=env_int("ATENDE_WEB_WORKERS", 2, minimum=1)
        )
        parser.add_argument(
            "--threads", type=int, default=env_int("ATENDE_WEB_THREADS", 16, minimum=1)
        )
        parser.add_argument("--no-worker", action="store_true", help="Serve the web app only")

    def handle(self, *args: object, **options: object) -> None:
        commands = [self._gunicorn(options)]
        if not options["no_worker"]:
            commands.append([sys.executable, "-m", "atende", "worker"])
        environment = served_environment(os.environ, bind=str(options["bind"]))
        children = [
            subprocess.Popen(command, start_new_session=True, env=environment)
            for command in commands
        ]
        self.stdout.write(f"Atende on http://{options['bind']}/ — Ctrl-C stops it.")
        stopping = False

        def request_stop(signum: int, frame: FrameType | None) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
        crashed = not stopping
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        if crashed:
            self.stderr.write("A child process stopped unexpectedly; Atende was stopped.")
            sys.exit(1)
        self.stdout.write("Atende stopped.")

    def _gunicorn(self, options: dict) -> list[str]:
        return [
            sys.executable,
            "-m",
            "gunicorn",
            "atende.wsgi:application",
            "--bind",
            str(options["bind"]),
            "--workers",
            str(options["web_workers"]),
            "--threads",
            str(options["threads"]),
            "--graceful-timeout",
            str(STOP_GRACE_SECONDS - 5),
            "--access-logfile",
            "-",
            "--access-logformat",
            ACCESS_LOG_FORMAT,
            # Masks CPFs and reset tokens in every line, the access log's included.
            "--logger-class",
            "atende.core.gunicorn.RedactingLogger",
            # Several instances may run on one machine; none needs the control socket.
            "--no-control-socket",
        ]
