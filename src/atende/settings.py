"""Atende's settings: an embedded default for every value, overridable from the environment.

A bare checkout runs on SQLite under ``var/`` with e-mail written to files; production points
``ATENDE_DATABASE_URL`` at PostgreSQL and ``ATENDE_SMTP_HOST`` at a mail relay. README.md lists
every variable.
"""

import ipaddress
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.csp import CSP

from atende.env import (
    env_bool,
    env_choice,
    env_database,
    env_int,
    env_list,
    env_path,
    env_str,
    secret_from_file,
)

PACKAGE_DIR = Path(__file__).resolve().parent
_CHECKOUT_DIR = PACKAGE_DIR.parent.parent
_DEFAULT_DATA_DIR = (
    _CHECKOUT_DIR / "var"
    if (_CHECKOUT_DIR / "pyproject.toml").exists()
    else Path.home() / ".local" / "share" / "atende"
)
DATA_DIR = env_path("ATENDE_DATA_DIR", _DEFAULT_DATA_DIR)

DEBUG = env_bool("ATENDE_DEBUG", False)
SECRET_KEY = secret_from_file("ATENDE_SECRET_KEY", DATA_DIR / "secret_key", get_random_secret_key)

# By default the address `make run` serves: e-mailed links follow PORT.
SITE_URL = env_str(
    "ATENDE_SITE_URL", f"http://127.0.0.1:{env_int('PORT', 8000, minimum=1)}"
).rstrip("/")
ALLOWED_HOSTS = env_list("ATENDE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("ATENDE_CSRF_TRUSTED_ORIGINS", [SITE_URL])

INSTALLED_APPS = [
    "atende.core",
    "atende.accounts",
    "atende.tenancy",
    "atende.catalog",
    "atende.occurrences",
    "atende.reports",
    "atende.notifications",
    "atende.portal",
    "atende.beneficiaries",
    "atende.callcenter",
    "atende.registrations",
    "atende.synth",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks_db",
    "ninja",
]

MIDDLEWARE = [
    # First: an API request waiting its turn has done no work yet.
    "atende.core.middleware.ApiGateMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "atende.core.middleware.PagePolicyMiddleware",
    "atende.core.middleware.ApiMethodMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "atende.core.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "atende.core.middleware.OperatorTimeZoneMiddleware",
    # Before any view (and the CSRF check) reads the body.
    "atende.core.middleware.UploadLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "atende.core.middleware.SignInAgainMiddleware",
]

ROOT_URLCONF = "atende.urls"
WSGI_APPLICATION = "atende.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "atende.core.context_processors.navigation",
            ],
        },
    },
]

# --- Database --------------------------------------------------------------------------
DATABASES = {"default": env_database("ATENDE_DATABASE_URL", DATA_DIR / "atende.sqlite3")}
# PostgreSQL: the role the application runs as, when migrations run as another that owns
# the tables (README, "PostgreSQL roles"). After each migrate it is granted what the
# application needs: rows to read and write, and of the event log only reading and adding.
DATABASE_RUNTIME_ROLE = env_str("ATENDE_DATABASE_RUNTIME_ROLE", "")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Background work -------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}
# A worker whose heartbeat is older than this is reported as stale by /healthz.
WORKER_HEARTBEAT_STALE_SECONDS = env_int("ATENDE_WORKER_STALE_SECONDS", 120, minimum=10)

# --- Users and security ----------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins per e-mail address and per client address before sign-in is refused for
# the rest of the window.
LOGIN_FAILURE_LIMIT = env_int("ATENDE_LOGIN_FAILURE_LIMIT", 5, minimum=1)
LOGIN_FAILURE_WINDOW_SECONDS = env_int("ATENDE_LOGIN_FAILURE_WINDOW", 900, minimum=60)
# Password-reset e-mails asked for per account and per client address in that window;
# past them the page answers the same and sends nothing.
PASSWORD_RESET_ACCOUNT_LIMIT = env_int("ATENDE_PASSWORD_RESET_ACCOUNT_LIMIT", 3, minimum=1)
PASSWORD_RESET_ADDRESS_LIMIT = env_int("ATENDE_PASSWORD_RESET_ADDRESS_LIMIT", 10, minimum=1)

HTTPS = env_bool("ATENDE_HTTPS", SITE_URL.startswith("https://"))
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# A working day plus margin; attendants sign in once per shift.
SESSION_COOKIE_AGE = env_int("ATENDE_SESSION_SECONDS", 10 * 3600, minimum=300)
SESSION_COOKIE_NAME = "atende_session"
CSRF_COOKIE_NAME = "atende_csrftoken"
CSRF_FAILURE_VIEW = "atende.core.views.csrf_failure"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# What a page may load and run: only Atende's own files (every asset is served from here),
# no inline script, no eval, no framing, forms posting only here. Style attributes stay
# allowed (a status's configured colour, a bar's width); a <style> element does not.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "style-src-attr": [CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "worker-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_SSL_REDIRECT = env_bool("ATENDE_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
BEHIND_PROXY = env_bool("ATENDE_BEHIND_PROXY", False)
# Proxies in front of Atende that each append to X-Forwarded-For (the load balancer, say).
PROXY_COUNT = env_int("ATENDE_PROXY_COUNT", 1, minimum=1)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Language and time -----------------------------------------------------------------
LANGUAGE_CODE = "pt-br"
FORMAT_MODULE_PATH = ["atende.formats"]
# Each language is named in itself, so anyone can find theirs in the switcher.
LANGUAGES = [("pt-br", "Português (Brasil)"), ("en", "English")]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "America/Sao_Paulo"
USE_TZ = True

# --- Files -----------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
MEDIA_ROOT = env_path("ATENDE_MEDIA_ROOT", DATA_DIR / "media")
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env_choice(
            "ATENDE_STATIC_STORAGE",
            "whitenoise.storage.CompressedManifestStaticFilesStorage",
            [
                "whitenoise.storage.CompressedManifestStaticFilesStorage",
                "django.contrib.staticfiles.storage.StaticFilesStorage",
            ],
        )
    },
}
# Occurrence reports: written to a private folder (never served directly: downloaded once
# through a view that checks the operator), deleted when downloaded or expired.
REPORTS_ROOT = env_path("ATENDE_REPORTS_ROOT", DATA_DIR / "reports")
REPORT_EXPIRY_DAYS = env_int("ATENDE_REPORT_EXPIRY_DAYS", 7, minimum=1)
# A worker writing a report renews its lease; a report whose lease ran out is taken again.
REPORT_LEASE_SECONDS = env_int("ATENDE_REPORT_LEASE_SECONDS", 90, minimum=5)
REPORT_MAX_ATTEMPTS = env_int("ATENDE_REPORT_MAX_ATTEMPTS", 3, minimum=1)
# Beneficiary imports: the uploaded file is kept in a private folder until it is loaded; a
# worker commits each batch with the line it reached, so an import whose lease ran out is
# resumed from that line by the next attempt.
IMPORTS_ROOT = env_path("ATENDE_IMPORTS_ROOT", DATA_DIR / "imports")
IMPORT_MAX_BYTES = env_int("ATENDE_IMPORT_MAX_MB", 1024, minimum=1) * 1024 * 1024
IMPORT_LEASE_SECONDS = env_int("ATENDE_IMPORT_LEASE_SECONDS", 60, minimum=5)
IMPORT_MAX_ATTEMPTS = env_int("ATENDE_IMPORT_MAX_ATTEMPTS", 5, minimum=1)
# API requests at work at once in each server process; more wait (at most the seconds
# below, then 503). The server's threads outnumber them, so people's pages never queue
# behind an integrator's burst.
API_CONCURRENCY = env_int("ATENDE_API_CONCURRENCY", 1, minimum=1)
API_QUEUE_SECONDS = env_int("ATENDE_API_QUEUE_SECONDS", 30, minimum=1)
# Attachments: what an occurrence accepts (files stay in the default storage, never in the
# static or public paths; they are served only through a view that checks the tenant).
ATTACHMENT_MAX_BYTES = env_int("ATENDE_ATTACHMENT_MAX_MB", 10, minimum=1) * 1024 * 1024
ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".doc": "application/msword",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xls": "application/vnd.ms-excel",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".odt": "application/vnd.oasis.opendocument.text",
    ".ods": "application/vnd.oasis.opendocument.spreadsheet",
}
# Development and tests serve straight from the apps' static folders.
WHITENOISE_USE_FINDERS = DEBUG or env_bool("ATENDE_STATIC_FROM_APPS", False)

# --- E-mail ----------------------------------------------------------------------------
DEFAULT_FROM_EMAIL = env_str("ATENDE_EMAIL_FROM", "Atende <nao-responda@atende.local>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
_SMTP_HOST = env_str("ATENDE_SMTP_HOST", "")
if _SMTP_HOST:
    _SMTP_PORT = env_int("ATENDE_SMTP_PORT", 587, minimum=1)
    _MAILER = {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": _SMTP_HOST,
            "port": _SMTP_PORT,
            "username": env_str("ATENDE_SMTP_USER", ""),
            "password": env_str("ATENDE_SMTP_PASSWORD", ""),
            "use_tls": env_bool("ATENDE_SMTP_STARTTLS", _SMTP_PORT == 587),
            "use_ssl": env_bool("ATENDE_SMTP_SSL", _SMTP_PORT == 465),
            "timeout": env_int("ATENDE_SMTP_TIMEOUT", 30, minimum=1),
        },
    }
else:
    # No relay configured: every message is written to a file under var/mail/.
    _MAILER = {
        "BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "OPTIONS": {"file_path": str(DATA_DIR / "mail")},
    }
MAILERS = {"default": _MAILER}

# --- Deliveries (notifications) --------------------------------------------------------
# Networks that hooks, gateways and push endpoints may reach although they are private or
# loopback (comma-separated CIDRs); by default only public addresses are reached.
OUTBOUND_ALLOW_NETWORKS = env_list("ATENDE_OUTBOUND_ALLOW_NETWORKS", [])
for _network in OUTBOUND_ALLOW_NETWORKS:
    try:
        ipaddress.ip_network(_network, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"Invalid value in ATENDE_OUTBOUND_ALLOW_NETWORKS: {_network!r} (expected CIDRs "
            "such as 127.0.0.0/8, separated by commas)."
        ) from None
DELIVERY_LEASE_SECONDS = env_int("ATENDE_DELIVERY_LEASE_SECONDS", 60, minimum=5)
DELIVERY_RETRY_HOURS = env_int("ATENDE_DELIVERY_RETRY_HOURS", 24, minimum=1)
DELIVERY_BATCH = env_int("ATENDE_DELIVERY_BATCH", 20, minimum=1)
# One send (connect, write, wait, read) never takes longer than this, however slowly the
# receiver answers.
DELIVERY_SEND_SECONDS = env_int("ATENDE_DELIVERY_SEND_SECONDS", 15, minimum=1)
# What one operator may have in a worker's batch; each operator's deliveries are sent one
# at a time, and up to DELIVERY_CONCURRENCY operators' at once, so a slow receiver of one
# operator delays no other operator's messages.
DELIVERY_PER_OPERATOR = env_int("ATENDE_DELIVERY_PER_OPERATOR", 2, minimum=1)
DELIVERY_CONCURRENCY = env_int("ATENDE_DELIVERY_CONCURRENCY", 4, minimum=1)
# Where the portal shows an occurrence to its beneficiary ({protocol} is replaced).
PORTAL_OCCURRENCE_URL = env_str(
    "ATENDE_PORTAL_OCCURRENCE_URL", SITE_URL + "/portal/{bundle}/{protocol}/"
)

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"personal_data": {"()": "atende.core.logging.RedactPersonalData"}},
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "plain",
            "filters": ["personal_data"],
        },
    },
    "root": {
        "handlers": ["console"],
        "level": env_choice("ATENDE_LOG_LEVEL", "INFO", ["DEBUG", "INFO", "WARNING", "ERROR"]),
    },
    "loggers": {
        # Request bodies and SQL parameters carry personal data: never at INFO or above.
        "django.db.backends": {"level": "WARNING"},
    },
}
