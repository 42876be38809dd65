"""Base fixtures of every test: an attendant and a supervisor of operator A, and an
attendant of operator B — so everything is also tried from the wrong tenant."""

import pytest
from django.conf import settings
from django.utils import translation

from atende.catalog.presets import install_health_catalog, install_sanitation_catalog
from atende.catalog.snapshots import snapshots_clear
from atende.tenancy.models import Role

# Registered once for the whole run: Playwright allows one sync instance per process, so
# every browser test shares the session's browser.
from atende.testing.browser import _nothing_refused_by_the_policy, browser, page  # noqa: F401
from atende.testing.factories import (
    ApplicationFactory,
    MembershipFactory,
    OperatorFactory,
    UnitFactory,
)
from atende.testing.owner import connection_as


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    # The test database is created and migrated by the tables' owner ...
    connection_as("owner")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup):
    # ... and the tests run as the application's runtime role, which may not alter a table
    # nor change the event log.
    connection_as("runtime")
    yield
    connection_as("owner")  # who drops the test database


@pytest.fixture(autouse=True)
def _fresh_catalog_snapshots():
    # Rolled-back tests reuse ids (SQLite); a snapshot must not outlive its test.
    snapshots_clear()
    yield
    snapshots_clear()


@pytest.fixture(autouse=True)
def _portuguese_outside_requests():
    # Services speak the active language; tests calling them directly read what users
    # read, whatever ran before in the same thread.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def operator_a():
    return OperatorFactory(name="Operadora A", ans_registration="417505")


@pytest.fixture
def operator_b():
    return OperatorFactory(name="Operadora B", ans_registration="", cnpj="")


@pytest.fixture
def unit_a(operator_a):
    return UnitFactory(operator=operator_a, name="Central A")


@pytest.fixture
def attendant_a(operator_a, unit_a):
    membership = MembershipFactory(
        operator=operator_a, role=Role.ATTENDANT, user__email="atendente@a.example"
    )
    membership.units.add(unit_a)
    return membership.user


@pytest.fixture
def supervisor_a(operator_a):
    return MembershipFactory(
        operator=operator_a, role=Role.SUPERVISOR, user__email="supervisor@a.example"
    ).user


@pytest.fixture
def attendant_b(operator_b):
    return MembershipFactory(
        operator=operator_b, role=Role.ATTENDANT, user__email="atendente@b.example"
    ).user


@pytest.fixture
def app_a(operator_a):
    return ApplicationFactory(operator=operator_a, bundle="br.com.operadora.a")


@pytest.fixture
def app_b(operator_b):
    return ApplicationFactory(operator=operator_b, bundle="br.com.operadora.b")


@pytest.fixture
def catalog_a(operator_a):
    """The seed's health catalog for operator A (Reembolso, Autorização, …)."""
    return install_health_catalog(operator_a)


@pytest.fixture
def catalog_b(operator_b):
    return install_sanitation_catalog(operator_b)


@pytest.fixture
def smtp(settings):
    """A real SMTP server on loopback, Atende's mail going to it."""
    from atende.testing.loopback import SmtpSink

    sink = SmtpSink()
    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": sink.port, "timeout": 5},
        }
    }
    yield sink
    sink.close()
