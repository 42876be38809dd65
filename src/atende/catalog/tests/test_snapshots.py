"""Creation reads the catalog from per-process snapshots; every catalog change, and every
change of the operator fields a protocol is made from, must be seen by the next request."""

import json

import pytest
from django.test import Client

from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.services import occurrence_type_update, status_create
from atende.catalog.snapshots import type_snapshot
from atende.tenancy.models import Operator, Scope
from atende.tenancy.services import api_token_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def reimbursement(catalog_a):
    return catalog_a[REIMBURSEMENT]


@pytest.fixture
def create(app_a, reimbursement):
    _, plain = api_token_create(application=app_a, name="app", scopes=[Scope.OCCURRENCES_WRITE])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {plain}")

    def post():
        return client.post(
            "/api/v1/occurrences",
            json.dumps({"occurrence_type_id": reimbursement.pk}),
            content_type="application/json",
        )

    return post


def test_a_snapshot_is_reused_until_the_catalog_changes(operator_a, reimbursement):
    operator = Operator.objects.get(pk=operator_a.pk)
    first = type_snapshot(operator=operator, type_id=reimbursement.pk)
    assert type_snapshot(operator=operator, type_id=reimbursement.pk) is first
    status_create(occurrence_type=reimbursement, internal_description="Triagem")
    operator.refresh_from_db()
    assert type_snapshot(operator=operator, type_id=reimbursement.pk) is not first


def test_a_deactivated_type_is_refused_at_the_next_creation(create, reimbursement):
    assert create().status_code == 201
    occurrence_type_update(occurrence_type=reimbursement, is_active=False)
    refused = create()
    assert refused.status_code == 400
    assert "occurrence_type_id" in refused.json()["errors"]


def test_a_new_default_status_applies_at_the_next_creation(create, reimbursement):
    assert create().json()["status"]["internal_description"] == "Protocolado"
    status_create(occurrence_type=reimbursement, internal_description="Recebido", is_default=True)
    assert create().json()["status"]["internal_description"] == "Recebido"


def test_a_changed_ans_registration_makes_the_next_protocol(create, operator_a):
    assert create().json()["protocol"].startswith("417505")
    operator_a.ans_registration = "417506"
    operator_a.save()
    assert create().json()["protocol"].startswith("417506")


def test_saving_an_operator_read_before_a_catalog_change_keeps_the_new_version(
    operator_a, reimbursement
):
    stale = Operator.objects.get(pk=operator_a.pk)
    status_create(occurrence_type=reimbursement, internal_description="Triagem")
    current = Operator.objects.get(pk=operator_a.pk).catalog_version
    stale.name = "Operadora A renomeada"
    stale.save()
    assert Operator.objects.get(pk=operator_a.pk).catalog_version == current
