"""The ``atende`` command: Django's management commands with Atende's settings selected."""

import os
import sys

from django.core.exceptions import ImproperlyConfigured


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atende.settings")
    argv = list(sys.argv)
    # Our commands read better with hyphens (`atende demo-data`); Django's modules use "_".
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(argv)
    except ImproperlyConfigured as error:
        sys.stderr.write(f"atende: configuration error: {error}\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
