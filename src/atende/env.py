"""Settings read from the environment, failing loudly on a bad value.

Every helper names the variable in its error, so a misconfigured deployment stops at start-up
with a message an operator can act on (hc ``settings.py`` style).
"""

import os
from collections.abc import Callable
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def _fail(name: str, value: str, expected: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"Invalid value for environment variable {name}: {value!r} (expected {expected})."
    )


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise _fail(name, value, "true or false")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise _fail(name, value, "a whole number") from None
    if minimum is not None and number < minimum:
        raise _fail(name, value, f"a whole number of at least {minimum}")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_choice(name: str, default: str, choices: list[str]) -> str:
    value = _raw(name)
    if value is None:
        return default
    if value not in choices:
        raise _fail(name, value, "one of " + ", ".join(choices))
    return value


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    return default if value is None else Path(value).expanduser().resolve()


def env_database(name: str, sqlite_path: Path) -> dict:
    """A Django DATABASES entry from a URL, or the embedded SQLite database.

    ``postgres://user:password@host:port/name?sslmode=require`` selects PostgreSQL;
    unset selects SQLite in WAL mode with a busy timeout, so the web server and the worker
    write concurrently without "database is locked" errors.
    """
    value = _raw(name)
    if value is None:
        return sqlite_database(sqlite_path)
    parts = urlsplit(value)
    if parts.scheme == "sqlite":
        return sqlite_database(Path(unquote(parts.path)))
    if parts.scheme not in {"postgres", "postgresql"}:
        raise _fail(name, _redact_url(value), "postgres://user:password@host:port/name")
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise _fail(name, _redact_url(value), "a URL naming the database after the host")
    try:
        port = parts.port
    except ValueError:
        raise _fail(name, _redact_url(value), "a numeric port") from None
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": database,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname or "",
        "PORT": str(port or ""),
        "CONN_MAX_AGE": env_int("ATENDE_DB_CONN_MAX_AGE", 60, minimum=0),
        # A check is one more round trip on every request. Without it, a connection the
        # database dropped (a restart, a failover) fails the one request that finds it,
        # which rolls back whole, and is then replaced.
        "CONN_HEALTH_CHECKS": env_bool("ATENDE_DB_HEALTH_CHECKS", False),
        "OPTIONS": _postgres_options(name, value, dict(parse_qsl(parts.query))),
    }


def _postgres_options(name: str, url: str, query: dict[str, str]) -> dict[str, object]:
    """The driver's options: the URL's query, over Atende's defaults.

    Values are bound on the server and a statement run five times on a connection is
    prepared there (psycopg's ``prepare_threshold``): PostgreSQL then parses and plans the
    few statements every request runs once per connection, and the driver no longer
    rewrites each query with its values — together 15 to 30% more requests per second
    on two cores (bench/README.md). A connection pooler in transaction mode (PgBouncer)
    cannot keep prepared statements: there, ``?server_side_binding=false`` (or
    ``?prepare_threshold=off``) turns them off."""
    options: dict[str, object] = {"server_side_binding": True, "prepare_threshold": 5}
    options.update(query)
    if isinstance(options["server_side_binding"], str):
        options["server_side_binding"] = options["server_side_binding"].lower() == "true"
    threshold = options["prepare_threshold"]
    if not options["server_side_binding"] or threshold in ("off", ""):
        threshold = None
    try:
        options["prepare_threshold"] = int(threshold) if threshold is not None else None
    except ValueError:
        raise _fail(name, _redact_url(url), "prepare_threshold as a number or off") from None
    return options


def sqlite_database(path: Path) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so a writer waits for the busy
            # timeout instead of failing half-way through a transaction.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
    }


def _redact_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.password:
        return value.replace(parts.password, "***", 1)
    return value


def secret_from_file(name: str, path: Path, generate: Callable[[], str]) -> str:
    """The variable's value, else a secret kept in ``path`` (created on first run, mode 600)."""
    value = _raw(name)
    if value is not None:
        return value
    if path.exists():
        stored = path.read_text().strip()
        if stored:
            return stored
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: link fails if another process got there first,
    # and nobody ever reads a half-written file.
    tmp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(generate())
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()
    return path.read_text().strip()
