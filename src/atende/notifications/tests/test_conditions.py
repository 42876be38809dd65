"""Actions that depend on the transition (seed 001): an action may run only when the
occurrence comes from given statuses and only for given channels; the configurator sets
and sees both next to the action."""

import pytest
from django.core.exceptions import ValidationError

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create, status_action_update
from atende.notifications.models import Delivery
from atende.occurrences.models import Channel
from atende.occurrences.services import actor_for_user, occurrence_change_status
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db


def _moved(occurrence, user, *names):
    actor = actor_for_user(user=user, operator=occurrence.operator_id)
    for name in names:
        occurrence.refresh_from_db()
        occurrence_change_status(
            actor=actor,
            occurrence=occurrence,
            status=status_named(occurrence.occurrence_type, name),
            expected_version=occurrence.version,
        )


@pytest.fixture
def conditioned(reimbursement):
    return status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="e-mail - documentos recebidos",
        kind=ActionKind.EMAIL,
        body_template="Recebemos seus documentos: {{ protocolo }}",
        from_statuses=[status_named(reimbursement, "Aguardando documentos").pk],
        channels=[Channel.WEB, Channel.APP],
    )


def _opened(app, kind, user, channel):
    return new_occurrence(
        user=user,
        application=app,
        occurrence_type=kind,
        channel=channel,
        contact_email="maria@example.com",
    )


def test_an_action_runs_only_from_its_statuses_and_for_its_channels(
    app_a, reimbursement, supervisor_a, conditioned
):
    by_web = _opened(app_a, reimbursement, supervisor_a, Channel.WEB)
    _moved(by_web, supervisor_a, "Em análise")
    # From the opening status: not one of the action's.
    assert not Delivery.objects.exists()
    _moved(by_web, supervisor_a, "Aguardando documentos", "Em análise")
    assert Delivery.objects.get().action_id == conditioned.pk

    by_phone = _opened(app_a, reimbursement, supervisor_a, Channel.PHONE)
    _moved(by_phone, supervisor_a, "Aguardando documentos", "Em análise")
    assert Delivery.objects.count() == 1

    status_action_update(action=conditioned, from_statuses=[], channels=[])
    _moved(by_phone, supervisor_a, "Aguardando documentos", "Em análise")
    assert Delivery.objects.count() == 2


def test_conditions_name_this_types_statuses_and_known_channels(
    reimbursement, catalog_a, conditioned
):
    other_type = catalog_a["Atualização Cadastral"].statuses.first()
    with pytest.raises(ValidationError) as refused:
        status_action_update(action=conditioned, from_statuses=[other_type.pk])
    assert "from_statuses" in refused.value.message_dict
    conditioned.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        status_action_update(action=conditioned, channels=["pombo-correio"])
    assert "channels" in refused.value.message_dict


def test_the_configurator_sets_the_conditions_and_sees_them_next_to_the_action(
    client, operator_a, reimbursement, conditioned
):
    client.force_login(MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user)
    page = client.get(f"/configuracao/{operator_a.pk}/tipos/{reimbursement.pk}/").content.decode()
    assert "vindo de Aguardando documentos; canais App móvel, Portal web" in page
    edit = f"/configuracao/{operator_a.pk}/item/acao/{conditioned.pk}/"
    form = client.get(edit).content.decode()
    assert "Somente vindo de" in form and "Protocolado" in form
    protocolado = status_named(reimbursement, "Protocolado").pk
    saved = client.post(
        edit,
        {
            "description": conditioned.description,
            "kind": ActionKind.EMAIL,
            "is_active": "on",
            "body_template": conditioned.body_template,
            "whatsapp_language": "pt_BR",
            "from_statuses": [protocolado],
            "channels": [Channel.PHONE],
        },
    )
    assert saved.status_code == 302
    conditioned.refresh_from_db()
    assert (conditioned.from_statuses, conditioned.channels) == ([protocolado], [Channel.PHONE])
