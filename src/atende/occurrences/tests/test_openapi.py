"""schemathesis against our own OpenAPI document: whatever it sends, every answer is one
the document declares, with the declared shape, and never a server error."""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.config import SchemathesisConfig

from atende.catalog.presets import REIMBURSEMENT
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.occurrences import new_occurrence

# A schema-valid request can still break a rule of the domain (a status of another type,
# a parent protocol that does not exist): Atende answers those with 400 and the field at
# fault, which the document declares. Everything else schemathesis checks as it is.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "400", "401", "403", "404", "409"]
            }
        }
    }
)
schema = schemathesis.openapi.from_wsgi(
    "/api/v1/openapi.json", get_wsgi_application(), config=CONFIG
)


@pytest.fixture
def keep_connection():
    # The WSGI handler closes the connection after each request; the test's transaction
    # must survive (Django's test Client disconnects the same signal handlers).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def token(keep_connection, catalog_a, app_a, attendant_a):
    # A real occurrence, so generated protocols sometimes meet one of the same shape.
    new_occurrence(user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT])
    _, plain = api_token_create(application=app_a, name="schemathesis", scopes=Scope.values)
    return plain


@pytest.mark.django_db
@schema.parametrize()
@hypothesis_settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_conforms_to_its_openapi_document(case, token):
    # Generated cases may carry a Host header of random bytes, which Django refuses before
    # any view (DisallowedHost) and which no API document declares: the host is fixed.
    case.call_and_validate(headers={"Authorization": f"Bearer {token}", "Host": "localhost"})
