"""Settings for the test suite: the production settings with faster hashing and a file-backed
SQLite test database (so worker subprocesses see the same rows as the test)."""

import os
import tempfile

os.environ.setdefault("ATENDE_DATA_DIR", tempfile.mkdtemp(prefix="atende-test-"))
os.environ.setdefault(
    "ATENDE_STATIC_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("ATENDE_STATIC_FROM_APPS", "true")

from atende.env import env_database
from atende.settings import *  # noqa: F403
from atende.settings import DATA_DIR, DATABASES

# Argon2 is the production hasher (tested on its own); MD5 keeps thousands of test logins fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Whitenoise warns about a missing root; the tests serve static files from the apps.
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["ENGINE"] = "atende.testing.db.sqlite3"
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
else:
    DATABASES["default"]["ENGINE"] = "atende.testing.db.postgresql"
    # ATENDE_DATABASE_URL is the runtime role; the owner creates, migrates and flushes.
    if os.environ.get("ATENDE_DATABASE_OWNER_URL"):
        _owner = env_database("ATENDE_DATABASE_OWNER_URL", DATA_DIR / "unused.sqlite3")
        DATABASES["default"]["OWNER"] = {"USER": _owner["USER"], "PASSWORD": _owner["PASSWORD"]}
        DATABASE_RUNTIME_ROLE = DATABASES["default"]["USER"]
