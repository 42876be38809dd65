"""The "Central de entregas" pages: a supervisor's deliveries only, filters, attempts,
resend of a failed one, and the test send of an action."""

import pytest
from django.utils import timezone

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create
from atende.notifications.models import Channel, Delivery, DeliveryState, Purpose
from atende.notifications.services import deliveries_drain
from atende.notifications.tests.conftest import Script
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import status_named

pytestmark = pytest.mark.django_db


def delivery(operator, *, state=DeliveryState.FAILED, protocol="41750520260101000001", **fields):
    now = timezone.now()
    return Delivery.objects.create(
        operator=operator,
        purpose=Purpose.ACTION,
        channel=Channel.EMAIL,
        recipient="maria@example.com",
        protocol=protocol,
        subject="Protocolo",
        body="Sua solicitação",
        key=f"k:{operator.pk}:{protocol}:{state}",
        created_at=now,
        next_attempt_at=now,
        state=state,
        last_error="A caixa de correio não existe." if state == DeliveryState.FAILED else "",
        **fields,
    )


def test_a_supervisor_sees_only_the_deliveries_of_their_operator(
    client, supervisor_a, operator_a, operator_b
):
    mine = delivery(operator_a)
    theirs = delivery(operator_b, protocol="99999999999999999999")
    client.force_login(supervisor_a)
    page = client.get("/entregas/").content.decode()
    assert f'data-delivery="{mine.pk}"' in page
    assert f'data-delivery="{theirs.pk}"' not in page
    assert client.get(f"/entregas/{theirs.pk}/").status_code == 404
    assert client.post(f"/entregas/{theirs.pk}/reenviar/").status_code == 404


def test_an_attendant_has_no_central(client, attendant_a, operator_a):
    client.force_login(attendant_a)
    assert client.get("/entregas/").status_code == 404


def test_filters_by_state_and_protocol(client, supervisor_a, operator_a):
    failed = delivery(operator_a)
    sent = delivery(operator_a, state=DeliveryState.DELIVERED, protocol="41750520260101000002")
    client.force_login(supervisor_a)
    page = client.get("/entregas/?state=failed").content.decode()
    assert f'data-delivery="{failed.pk}"' in page and f'data-delivery="{sent.pk}"' not in page
    assert "Mensagens com falha" in page
    page = client.get("/entregas/?protocol=41750520260101000002").content.decode()
    assert f'data-delivery="{sent.pk}"' in page and f'data-delivery="{failed.pk}"' not in page
    partial = client.get("/entregas/?state=failed", headers={"HX-Request": "true"})
    assert partial.content.decode().startswith('<div id="delivery-table">')


def test_a_bad_period_is_told_in_portuguese(client, supervisor_a):
    client.force_login(supervisor_a)
    page = client.get("/entregas/?start=2026-05-10&end=2026-05-01").content.decode()
    assert "A data final não pode ser anterior à inicial." in page


def test_a_failed_delivery_is_resent_from_its_page(client, supervisor_a, operator_a, smtp):
    failed = delivery(operator_a)
    client.force_login(supervisor_a)
    page = client.get(f"/entregas/{failed.pk}/").content.decode()
    assert "Enviar novamente" in page
    assert client.get(f"/entregas/{failed.pk}/reenviar/").status_code == 405
    response = client.post(f"/entregas/{failed.pk}/reenviar/", follow=True)
    assert "será enviada novamente" in response.content.decode()
    deliveries_drain()
    failed.refresh_from_db()
    assert failed.state == DeliveryState.DELIVERED
    page = client.get(f"/entregas/{failed.pk}/").content.decode()
    assert 'data-attempt="1"' in page
    assert supervisor_a.email in page or supervisor_a.full_name in page


def test_a_configurator_sends_a_test_of_an_action(
    client, operator_a, reimbursement, receiver, smtp
):
    configurator = MembershipFactory(operator=operator_a, role=Role.CONFIGURATOR).user
    analysis = status_named(reimbursement, "Em análise")
    hook = status_action_create(
        status=analysis, description="hook", kind=ActionKind.HOOK, recipient=receiver.url
    )
    mail = status_action_create(
        status=analysis,
        description="e-mail",
        kind=ActionKind.EMAIL,
        subject_template="Teste {{ protocolo }}",
        body_template="Olá {{ beneficiario }}: {{ status }}",
    )
    client.force_login(configurator)
    page = client.get("/entregas/acoes/").content.decode()
    assert f'data-action="{hook.pk}"' in page and f'data-action="{mail.pk}"' in page
    response = client.post(
        f"/entregas/acoes/{mail.pk}/testar/",
        {"recipient": "nao-e-email", "next": f"/configuracao/{operator_a.pk}/"},
    )
    # Refused on a page of its own: why, what was typed, and the way back.
    assert response.status_code == 400
    refused = response.content.decode()
    assert "Informe um endereço de e-mail válido." in refused
    assert 'name="recipient" value="nao-e-email"' in refused
    assert f'href="/configuracao/{operator_a.pk}/"' in refused
    assert not Delivery.objects.exists()
    client.post(f"/entregas/acoes/{mail.pk}/testar/", {"recipient": "teste@operadora.example"})
    client.post(f"/entregas/acoes/{hook.pk}/testar/")
    assert deliveries_drain() == 2
    assert set(Delivery.objects.values_list("purpose", "state")) == {("test", "delivered")}
    assert smtp.messages[0]["To"] == "teste@operadora.example"
    assert "Em análise" in smtp.messages[0].get_content()
    assert receiver.requests[0].headers["webhook-id"]


def test_tests_are_refused_to_attendants_and_other_operators(
    client, attendant_a, attendant_b, reimbursement, receiver
):
    receiver.handler = Script()
    action = status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="hook",
        kind=ActionKind.HOOK,
        recipient=receiver.url,
    )
    for user in (attendant_a, attendant_b):
        client.force_login(user)
        assert client.post(f"/entregas/acoes/{action.pk}/testar/").status_code == 404
    assert not Delivery.objects.exists()


def test_the_messages_of_an_occurrence_are_listed_for_its_attendant(
    client, app_a, catalog_a, attendant_a, attendant_b
):
    from atende.catalog.models import ActionKind
    from atende.catalog.services import status_action_create
    from atende.occurrences.services import actor_for_user, occurrence_start_attendance
    from atende.testing.occurrences import new_occurrence, status_named

    kind = catalog_a["Ocorrencia - Reembolso"]
    status_action_create(
        status=status_named(kind, "Em análise"),
        description="e-mail",
        kind=ActionKind.EMAIL,
        subject_template="Protocolo {{ protocolo }}",
        body_template="{{ status }}",
    )
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=kind, contact_email="m@example.com"
    )
    occurrence_start_attendance(
        actor=actor_for_user(user=attendant_a, operator=app_a.operator_id),
        occurrence=occurrence,
        expected_version=occurrence.version,
    )
    client.force_login(attendant_a)
    page = client.get(f"/painel/{occurrence.protocol}/").content.decode()
    assert f"/entregas/ocorrencia/{occurrence.protocol}/" in page
    listed = client.get(f"/entregas/ocorrencia/{occurrence.protocol}/").content.decode()
    assert "E-mail" in listed and "m@example.com" in listed and "Pendente" in listed
    assert f"Protocolo {occurrence.protocol}" in listed
    client.force_login(attendant_b)
    assert client.get(f"/entregas/ocorrencia/{occurrence.protocol}/").status_code == 404
