"""The ``atende`` command: Django's management commands with Atende's settings selected."""

import os
import sys
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

# Commands that change the schema: with ATENDE_DATABASE_OWNER_URL set, they connect as
# the tables' owner, and migrate then grants the runtime role its privileges.
OWNER_COMMANDS = {"migrate", "synth"}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    argv = list(sys.argv)
    # Our commands read better with hyphens (`atende demo-data`); Django's modules use "_".
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
        if argv[1] in OWNER_COMMANDS:
            as_owner(os.environ)
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as error:
        sys.stderr.write(f"atende: configuration error: {error}\n")
        sys.exit(2)


def as_owner(environ: "os._Environ | dict") -> None:
    """Point ``ATENDE_DATABASE_URL`` at the tables' owner, when one is configured, and name
    the runtime role it replaced (so that migrate grants it its privileges)."""
    owner = environ.get("ATENDE_DATABASE_OWNER_URL")
    if not owner:
        return
    runtime = urlsplit(environ.get("ATENDE_DATABASE_URL", ""))
    if runtime.username:
        environ.setdefault("ATENDE_DATABASE_RUNTIME_ROLE", unquote(runtime.username))
    environ["ATENDE_DATABASE_URL"] = owner


if __name__ == "__main__":
    main()
