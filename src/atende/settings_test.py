"""Settings for the test suite: the production settings with faster hashing and a file-backed
SQLite test database (so worker subprocesses see the same rows as the test)."""

import os
import tempfile

os.environ.setdefault("ATENDE_DATA_DIR", tempfile.mkdtemp(prefix="atende-test-"))
os.environ.setdefault(
    "ATENDE_STATIC_STORAGE", "django.contrib.staticfiles.storage.StaticFilesStorage"
)
os.environ.setdefault("ATENDE_STATIC_FROM_APPS", "true")

from atende.settings import *  # noqa: F403
from atende.settings import DATA_DIR, DATABASES

# Argon2 is the production hasher (tested on its own); MD5 keeps thousands of test logins fast.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Whitenoise warns about a missing root; the tests serve static files from the apps.
(DATA_DIR / "static").mkdir(parents=True, exist_ok=True)

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}
