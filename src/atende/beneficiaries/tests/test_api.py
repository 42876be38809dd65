"""The registry's API for the operator's ERP: scopes, tenancy, batches, audit."""

import json

import pytest
from django.test import Client

from atende.beneficiaries.models import (
    Beneficiary,
    Change,
    ChangeKind,
    Guide,
    Invoice,
    PartialCoverage,
    ProcedureGroup,
    Situation,
)
from atende.tenancy.models import Scope
from atende.tenancy.services import api_token_create
from atende.testing.beneficiaries import cpf_numbers

pytestmark = pytest.mark.django_db

CPFS = cpf_numbers(3)


def bearer(application, scopes=(Scope.BENEFICIARIES_WRITE, Scope.BENEFICIARIES_READ)):
    _, plain = api_token_create(application=application, name="ERP", scopes=list(scopes))
    return Client(HTTP_AUTHORIZATION=f"Bearer {plain}")


def put(client, path, body):
    return client.put(path, json.dumps(body), content_type="application/json")


def person(n=0, **fields):
    return {"card": f"E{n}", "cpf": CPFS[n], "name": f"Pessoa {n}", **fields}


def test_a_batch_creates_then_changes_then_leaves_alone(app_a):
    erp = bearer(app_a)
    first = put(erp, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0), person(1)]})
    again = put(
        erp,
        "/api/v1/registry/beneficiaries",
        {"beneficiaries": [person(0), person(1, name="Pessoa Um", phones=["11987654321"])]},
    )

    assert first.status_code == 200 and first.json() == {"created": 2, "updated": 0, "unchanged": 0}
    assert again.json() == {"created": 0, "updated": 1, "unchanged": 1}
    change = Change.objects.get(kind=ChangeKind.UPDATED)
    assert change.token.application == app_a
    assert change.fields == {
        "name": ["Pessoa 1", "Pessoa Um"],
        "phones": [[], ["+5511987654321"]],
    }


def test_one_bad_item_refuses_the_whole_batch_naming_its_position(app_a):
    response = put(
        bearer(app_a),
        "/api/v1/registry/beneficiaries",
        {"beneficiaries": [person(0), person(1, cpf="123", birth_date="ontem")]},
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert set(errors) == {"beneficiaries.1.cpf", "beneficiaries.1.birth_date"}
    assert not Beneficiary.objects.exists()


def test_a_batch_is_at_most_a_thousand(app_a):
    batch = [person(0, card=f"X{n}") for n in range(1001)]

    response = put(bearer(app_a), "/api/v1/registry/beneficiaries", {"beneficiaries": batch})

    assert response.status_code == 422
    assert not Beneficiary.objects.exists()


def test_writing_needs_its_scope_and_a_token(app_a, attendant_a):
    reader = bearer(app_a, scopes=[Scope.BENEFICIARIES_READ, Scope.OCCURRENCES_WRITE])
    refused = put(reader, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})
    session = Client()
    session.force_login(attendant_a)
    by_session = put(session, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})

    assert refused.status_code == 403 and refused.json()["code"] == "insufficient_scope"
    assert by_session.status_code == 401
    assert not Beneficiary.objects.exists()


def test_a_token_reaches_its_own_operator_only(app_a, app_b):
    put(bearer(app_a), "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})
    other = bearer(app_b)

    assert other.get("/api/v1/registry/beneficiaries/E0").status_code == 404
    assert other.delete("/api/v1/registry/beneficiaries/E0").status_code == 404
    invoice = {
        "number": "F1",
        "card": "E0",
        "competence": "2026-11-01",
        "due_on": "2026-11-10",
        "amount": "10.00",
    }
    refused = put(other, "/api/v1/registry/invoices", {"invoices": [invoice]})
    assert refused.status_code == 400 and "E0" in refused.json()["message"]
    # The same card code at the other operator is another person.
    put(other, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(1, card="E0")]})
    assert Beneficiary.objects.get(operator=app_a.operator, card="E0").name == "Pessoa 0"


def test_a_removed_card_is_cancelled_never_deleted(app_a):
    erp = bearer(app_a)
    put(erp, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})

    response = erp.delete("/api/v1/registry/beneficiaries/e0")

    assert response.status_code == 200
    body = response.json()
    assert body["situation"] == "cancelado"
    assert [c["code"] for c in body["critiques"]] == ["contrato_cancelado"]
    card = Beneficiary.objects.get(card="E0")
    assert card.situation == Situation.CANCELLED
    assert Change.objects.filter(beneficiary=card, kind=ChangeKind.CANCELLED).count() == 1
    # Sent again by the ERP, the card is active again.
    again = put(erp, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})
    assert again.json()["updated"] == 1
    card.refresh_from_db()
    assert card.situation == Situation.ACTIVE


def test_invoices_guides_waiting_periods_and_coverage_come_the_same_way(app_a):
    erp = bearer(app_a)
    put(erp, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})
    ProcedureGroup.objects.create(operator=app_a.operator, code="EXC", name="Exames complexos")
    invoice = {
        "number": "F1",
        "card": "E0",
        "competence": "2026-11-15",
        "due_on": "2026-11-10",
        "amount": "321.50",
    }
    guide = {
        "number": "G1",
        "card": "E0",
        "kind": "autorizacao",
        "issued_on": "2026-11-20",
        "procedure": "Ressonância magnética",
        "situation": "negada",
        "denial_reason": "Carência",
    }

    responses = [
        put(erp, "/api/v1/registry/invoices", {"invoices": [invoice]}),
        put(erp, "/api/v1/registry/invoices", {"invoices": [{**invoice, "paid_on": "2026-11-12"}]}),
        put(erp, "/api/v1/registry/invoices", {"invoices": [{**invoice, "paid_on": "2026-11-12"}]}),
        put(erp, "/api/v1/registry/guides", {"guides": [guide]}),
        put(
            erp,
            "/api/v1/registry/waiting-periods",
            {"waiting_periods": [{"card": "E0", "group": "EXC", "days": 90}]},
        ),
        put(
            erp,
            "/api/v1/registry/partial-coverages",
            {
                "partial_coverages": [
                    {"card": "E0", "group": "EXC", "condition": "Diabetes", "ends_on": "2028-01-01"}
                ]
            },
        ),
    ]

    assert [r.json() for r in responses] == [
        {"created": 1, "updated": 0, "unchanged": 0},
        {"created": 0, "updated": 1, "unchanged": 0},
        {"created": 0, "updated": 0, "unchanged": 1},
        {"created": 1, "updated": 0, "unchanged": 0},
        {"created": 1, "updated": 0, "unchanged": 0},
        {"created": 1, "updated": 0, "unchanged": 0},
    ]
    stored = Invoice.objects.get()
    assert (str(stored.amount), stored.competence.day, str(stored.paid_on)) == (
        "321.50",
        1,
        "2026-11-12",
    )
    assert Guide.objects.get().denial_reason == "Carência"
    assert PartialCoverage.objects.get().condition == "Diabetes"
    paid = Change.objects.filter(fields__has_key="fatura F1").order_by("id").last()
    assert paid.fields["fatura F1"][1]["paid_on"] == "2026-11-12"
    record = erp.get("/api/v1/registry/beneficiaries/E0").json()
    assert record["waiting_periods"][0]["group"] == "EXC"
    assert record["waiting_periods"][0]["days"] == 90


def test_an_unknown_group_refuses_the_batch(app_a):
    erp = bearer(app_a)
    put(erp, "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})

    response = put(
        erp,
        "/api/v1/registry/waiting-periods",
        {"waiting_periods": [{"card": "E0", "group": "NOPE", "days": 1}]},
    )

    assert response.status_code == 400 and "NOPE" in response.json()["message"]


def test_reading_needs_the_read_scope(app_a):
    put(bearer(app_a), "/api/v1/registry/beneficiaries", {"beneficiaries": [person(0)]})
    writer = bearer(app_a, scopes=[Scope.BENEFICIARIES_WRITE])

    assert writer.get("/api/v1/registry/beneficiaries/E0").status_code == 403
