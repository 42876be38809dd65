"""The test suite on PostgreSQL connects as the application's runtime role, as production
does (``ATENDE_DATABASE_URL``); creating, migrating and dropping the test database, and
generating synthetic data (which rebuilds indexes), are the tables' owner's work
(``ATENDE_DATABASE_OWNER_URL``, kept in the connection's settings as ``OWNER``)."""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def connection_as(who: str) -> None:
    """Make the default connection's next session that of ``"owner"`` or ``"runtime"``
    (nothing changes when the settings name no owner)."""
    owner = connection.settings_dict.get("OWNER")
    if not owner:
        return
    runtime = connection.settings_dict.setdefault(
        "RUNTIME", {key: connection.settings_dict[key] for key in owner}
    )
    connection.close()
    connection.settings_dict.update(owner if who == "owner" else runtime)


@contextmanager
def database_owner() -> Iterator[None]:
    """The default connection as the tables' owner within the block."""
    connection_as("owner")
    try:
        yield
    finally:
        connection_as("runtime")
