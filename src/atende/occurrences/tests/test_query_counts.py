"""Query-count baselines of what attendants and integrators do all day: each request below
runs exactly the number of SQL statements in ``BASELINE`` (savepoints and all), whatever
actions the status entered has configured. A change that adds a statement fails here; if
the statement is meant, raise the baseline in the same commit and say why.

Counted in the steady state: the request's catalog snapshot is already in the process and
the token's last use was just recorded, as on a server that has been running."""

import json

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create
from atende.occurrences.models import Occurrence
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db

KIND = "Atualização Cadastral"  # Aberta → Em atendimento → Concluída / Cancelada

# name: (statements with no action on the status, with any number of actions). Actions
# add the operator's senders, the beneficiary's devices and one INSERT of every delivery;
# the panel also reads the application, for the portal link in the messages. A creation
# issues its protocol in one statement on PostgreSQL and in two on SQLite (counted here).
BASELINE = {
    "api_create": (7, 10),
    "api_status": (7, 10),
    "api_close": (9, 12),
    "panel_start": (9, 13),
    "panel_status": (10, 14),
    "panel_close": (12, 16),
    # The queue's filters list the call center's priorities (one read of their choices).
    "panel_queue": (15, 15),
}


@pytest.fixture(params=[False, True], ids=["no-actions", "every-kind-twice"])
def actions(request, catalog_a, settings):
    """With the param, each status of the type gets two active actions of every kind (ten):
    the change then also reads the operator's senders and the beneficiary's devices and
    inserts the deliveries, in the same statements however many actions there are."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    if request.param:
        for status in catalog_a[KIND].statuses.all():
            for copy in (1, 2):
                for kind in ActionKind.values:
                    fields = {"body_template": "Protocolo {{protocolo}}", "subject_template": "x"}
                    if kind == ActionKind.HOOK:
                        fields = {"recipient": f"http://127.0.0.1:9/hooks/{copy}"}
                    if kind == ActionKind.WHATSAPP:
                        fields["whatsapp_template"] = "atende_status"
                    status_action_create(
                        status=status, description=f"{kind} {copy}", kind=kind, **fields
                    )
    return request.param


@pytest.fixture
def kind(catalog_a):
    return catalog_a[KIND]


@pytest.fixture
def api(app_a, catalog_a):
    _, plain = api_token_create(application=app_a, name="erp", scopes=list(Scope.values))
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def _post(client, path, body):
    return client.post(path, json.dumps(body), content_type="application/json")


def _occurrences(count, *, user, app, kind):
    return [
        new_occurrence(
            user=user,
            application=app,
            occurrence_type=kind,
            beneficiary_identifier="52998224725",
            beneficiary_name="Maria",
            contact_email="maria@example.com",
            contact_phone="+5581999990000",
        )
        for _ in range(count)
    ]


def _counted(name, do, actions=False):
    with CaptureQueriesContext(connection) as queries:
        response = do()
    assert response.status_code < 400, response.content[:500]
    statements = "\n".join(q["sql"][:160] for q in queries.captured_queries)
    expected = BASELINE[name][1 if actions else 0]
    if name.endswith("create") and connection.vendor == "postgresql":
        expected -= 1
    assert len(queries) == expected, f"{name}: {len(queries)} statements\n{statements}"
    return response


def test_api_creation(api, kind, actions):
    body = {
        "occurrence_type_id": kind.pk,
        "beneficiary_identifier": "52998224725",
        "beneficiary_name": "Maria",
        "contact_email": "maria@example.com",
        "description": "Atualizar endereço.",
    }
    assert _post(api, "/api/v1/occurrences", body).status_code == 201  # warm
    _counted("api_create", lambda: _post(api, "/api/v1/occurrences", body), actions)
    assert Occurrence.objects.count() == 2


def test_api_status_change(api, kind, actions, attendant_a, app_a):
    first, second = _occurrences(2, user=attendant_a, app=app_a, kind=kind)
    target = status_named(kind, "Em atendimento")
    body = {"status_id": target.pk, "version": first.version}
    assert _post(api, f"/api/v1/occurrences/{first.protocol}/status", body).status_code == 200
    body["version"] = second.version
    response = _counted(
        "api_status",
        lambda: _post(api, f"/api/v1/occurrences/{second.protocol}/status", body),
        actions,
    )
    assert response.json()["status"]["id"] == target.pk


def test_api_close(api, kind, actions, attendant_a, app_a):
    warm, counted = _occurrences(2, user=attendant_a, app=app_a, kind=kind)
    done = status_named(kind, "Concluída")

    def close(occurrence):
        body = {"status_id": done.pk, "version": occurrence.version, "outcome_text": "Feito."}
        return _post(api, f"/api/v1/occurrences/{occurrence.protocol}/close", body)

    assert close(warm).status_code == 200
    assert _counted("api_close", lambda: close(counted), actions).json()["closed_at"]


def _panel(client, user):
    client.force_login(user)
    client.get("/painel/")  # the session is made; every count below is of a running one
    return client


def _panel_counted(name, post, *, actions, user, app, kind):
    """``post`` an occurrence's form once to warm up, then count it for another one."""
    warm, counted = _occurrences(2, user=user, app=app, kind=kind)
    assert post(warm).status_code == 302
    response = _counted(name, lambda: post(counted), actions)
    assert response.status_code == 302


@pytest.mark.parametrize(
    ("name", "action", "form", "supervisor"),
    [
        ("panel_start", "iniciar", {}, False),
        ("panel_status", "status", {"status": "Em atendimento"}, True),
        ("panel_close", "encerrar", {"status": "Concluída", "outcome_text": "Feito."}, True),
    ],
)
def test_panel_change(
    client, kind, actions, attendant_a, supervisor_a, app_a, name, action, form, supervisor
):
    _panel(client, supervisor_a if supervisor else attendant_a)
    if "status" in form:
        form = {**form, "status": status_named(kind, form["status"]).pk}
    _panel_counted(
        name,
        lambda o: client.post(f"/painel/{o.protocol}/{action}/", {**form, "version": o.version}),
        actions=actions,
        user=attendant_a,
        app=app_a,
        kind=kind,
    )
    assert list(Occurrence.objects.values_list("version", flat=True)) == [2, 2]


@pytest.mark.parametrize("rows", [1, 30])
def test_panel_queue_page(client, kind, attendant_a, app_a, rows):
    _panel(client, attendant_a)
    _occurrences(rows, user=attendant_a, app=app_a, kind=kind)
    page = _counted("panel_queue", lambda: client.get("/painel/"))
    assert page.content.decode().count("data-protocol=") == rows
