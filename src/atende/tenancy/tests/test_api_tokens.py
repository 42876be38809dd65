import io

import pytest
from django.core.management import call_command

from atende.tenancy.models import ApiToken, Scope
from atende.tenancy.services import api_token_authenticate, api_token_create

pytestmark = pytest.mark.django_db


def test_a_token_is_stored_only_as_a_hash_and_authenticates_its_application(app_a):
    token, plain = api_token_create(application=app_a, name="app", scopes=[Scope.CATALOG_READ])
    assert plain.startswith(f"atd_{token.prefix}_")
    assert plain not in {token.key_hash, token.prefix}
    assert api_token_authenticate(plain).application == app_a
    assert api_token_authenticate(plain[:-1] + ("A" if plain[-1] != "A" else "B")) is None


def test_a_token_of_a_deactivated_application_no_longer_works(app_a):
    _, plain = api_token_create(application=app_a, name="app", scopes=[Scope.CATALOG_READ])
    app_a.is_active = False
    app_a.save()
    assert api_token_authenticate(plain) is None


def test_the_command_prints_the_token_once_and_revokes_it(app_a):
    out = io.StringIO()
    call_command(
        "api_token",
        "create",
        "--application",
        str(app_a.pk),
        "--name",
        "ERP",
        "--scope",
        "occurrences:read",
        stdout=out,
    )
    plain = out.getvalue().strip().splitlines()[-1]
    assert api_token_authenticate(plain) is not None
    token = ApiToken.objects.get()
    call_command("api_token", "revoke", token.prefix, stdout=io.StringIO())
    assert api_token_authenticate(plain) is None
    listing = io.StringIO()
    call_command("api_token", "list", "--application", str(app_a.pk), stdout=listing)
    assert "revoked" in listing.getvalue() and plain not in listing.getvalue()
