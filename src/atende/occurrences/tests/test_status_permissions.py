"""Permissions per status (seed 001): a configurator limits a status to some roles; the
panel offers it only to them, and the service refuses everyone else, in the API too."""

import json
import re

import pytest

from atende.catalog.presets import REIMBURSEMENT
from atende.catalog.services import status_update
from atende.occurrences.services import (
    NotAllowed,
    actor_for_user,
    occurrence_change_status,
    occurrence_start_attendance,
)
from atende.tenancy.models import Role
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def waiting(catalog_a):
    status = status_named(catalog_a[REIMBURSEMENT], "Aguardando documentos")
    return status_update(status=status, allowed_roles=[Role.SUPERVISOR])


@pytest.fixture
def attended(app_a, catalog_a, attendant_a):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=app_a.operator_id),
        occurrence=occurrence,
        expected_version=occurrence.version,
    )
    occurrence.refresh_from_db()
    return occurrence


def test_the_service_refuses_a_status_to_a_role_not_listed(attended, waiting, attendant_a):
    with pytest.raises(NotAllowed, match=r"Aguardando documentos.*supervisor"):
        occurrence_change_status(
            actor=actor_for_user(user=attendant_a, operator=attended.operator_id),
            occurrence=attended,
            status=waiting,
            expected_version=attended.version,
        )
    attended.refresh_from_db()
    assert attended.status_id != waiting.pk


def test_a_role_listed_sets_it(attended, waiting, supervisor_a):
    occurrence_change_status(
        actor=actor_for_user(user=supervisor_a, operator=attended.operator_id),
        occurrence=attended,
        status=waiting,
        expected_version=attended.version,
    )
    attended.refresh_from_db()
    assert attended.status_id == waiting.pk


def test_the_panel_offers_it_only_to_those_who_may(client, attended, waiting, attendant_a):
    client.force_login(attendant_a)
    page = client.get(f"/painel/{attended.protocol}/").content.decode()
    offered = re.search(r'<select name="status"[^>]*id="status_status".*?</select>', page, re.S)
    assert offered and "Aprovado" not in offered.group(0)  # closing: in the close form
    assert f'value="{waiting.pk}"' not in offered.group(0)
    # Posted anyway (an old page): not among the choices, refused with the form.
    refused = client.post(
        f"/painel/{attended.protocol}/status/",
        {"version": attended.version, "status": waiting.pk},
    )
    assert refused.status_code == 400
    attended.refresh_from_db()
    assert attended.status_id != waiting.pk


def test_the_api_refuses_it_with_the_reason(client, attended, waiting, attendant_a):
    client.force_login(attendant_a)
    response = client.post(
        f"/api/v1/occurrences/{attended.protocol}/status",
        json.dumps({"version": attended.version, "status_id": waiting.pk}),
        content_type="application/json",
    )
    assert response.status_code == 403
    assert "supervisor" in response.json()["message"]


def test_the_configurator_sets_who_may(client, operator_a, catalog_a):
    from atende.testing.factories import MembershipFactory

    client.force_login(MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user)
    status = status_named(catalog_a[REIMBURSEMENT], "Aprovado")
    url = f"/configuracao/{operator_a.pk}/item/status/{status.pk}/"
    page = client.get(url)
    assert page.status_code == 200, url
    assert "Quem pode definir" in page.content.decode()


def test_reopening_into_a_status_chosen_obeys_its_permissions(attended, attendant_a, supervisor_a):
    from atende.occurrences.services import occurrence_reopen
    from atende.testing.occurrences import refund_approved

    kind = attended.occurrence_type
    analysis = status_update(status=status_named(kind, "Em análise"), allowed_roles=["attendant"])
    supervisor = actor_for_user(user=supervisor_a, operator=attended.operator_id)
    refund_approved(supervisor, attended)
    with pytest.raises(NotAllowed, match="atendente"):
        occurrence_reopen(
            actor=supervisor,
            occurrence=attended,
            status=analysis,
            expected_version=attended.version,
        )
    # Reopened without a choice, it goes where reopening goes.
    occurrence_reopen(actor=supervisor, occurrence=attended, expected_version=attended.version)
    attended.refresh_from_db()
    assert not attended.is_closed


def test_a_status_limited_to_units_is_set_only_by_their_members(
    client, operator_a, unit_a, attended, attendant_a, supervisor_a
):
    from atende.testing.factories import MembershipFactory, UnitFactory

    audit = UnitFactory(operator=operator_a, name="Auditoria médica")
    kind = attended.occurrence_type
    approved = status_update(
        status=status_named(kind, "Aguardando documentos"), allowed_units=[audit.pk]
    )
    attendant = actor_for_user(user=attendant_a, operator=attended.operator_id)
    # Of another unit (and of none: the supervisor here is bound to no unit).
    for actor in (attendant, actor_for_user(user=supervisor_a, operator=attended.operator_id)):
        with pytest.raises(NotAllowed, match="membros de Auditoria médica"):
            occurrence_change_status(
                actor=actor,
                occurrence=attended,
                status=approved,
                expected_version=attended.version,
            )
    client.force_login(attendant_a)
    page = client.get(f"/painel/{attended.protocol}/").content.decode()
    offered = re.search(r'<select name="status"[^>]*id="status_status".*?</select>', page, re.S)
    assert f'value="{approved.pk}"' not in offered.group(0)

    auditor = MembershipFactory(operator=operator_a, role=Role.SUPERVISOR)
    auditor.units.add(audit)
    occurrence_change_status(
        actor=actor_for_user(user=auditor.user, operator=attended.operator_id),
        occurrence=attended,
        status=approved,
        expected_version=attended.version,
    )
    attended.refresh_from_db()
    assert attended.status_id == approved.pk


def test_the_configurator_limits_a_status_to_units_of_the_operator_only(
    client, operator_a, operator_b, unit_a, catalog_a
):
    from django.core.exceptions import ValidationError

    from atende.testing.factories import MembershipFactory, UnitFactory

    status = status_named(catalog_a[REIMBURSEMENT], "Aprovado")
    foreign = UnitFactory(operator=operator_b)
    with pytest.raises(ValidationError) as refused:
        status_update(status=status, allowed_units=[foreign.pk])
    assert "allowed_units" in refused.value.message_dict
    client.force_login(MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user)
    url = f"/configuracao/{operator_a.pk}/item/status/{status.pk}/"
    page = client.get(url).content.decode()
    assert "Das unidades" in page and unit_a.name in page and foreign.name not in page
    form = {
        "internal_description": status.internal_description,
        "external_description": status.external_description,
        "color": status.color,
        "closing": status.closing,
        "visible_in_history": "on",
        "order": status.order,
        "is_active": "on",
        "allowed_units": [unit_a.pk],
    }
    assert client.post(url, form).status_code == 302
    status.refresh_from_db()
    assert status.allowed_units == [unit_a.pk]
