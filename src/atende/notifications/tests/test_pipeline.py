"""From a status change to the receiver: deliveries made in the change's transaction,
signed hooks, retries, permanent failures, re-drive after a lost worker and resend."""

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from standardwebhooks import Webhook

from atende.catalog.models import ActionKind
from atende.catalog.services import status_action_create, status_action_rotate_secret
from atende.notifications.models import (
    AttemptOutcome,
    Channel,
    Delivery,
    DeliveryState,
    Purpose,
)
from atende.notifications.services import (
    _claim,
    deliveries_drain,
    delivery_enqueue,
    delivery_resend,
)
from atende.notifications.tests.conftest import Script
from atende.occurrences.services import actor_for_user, occurrence_start_attendance
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db


def start(occurrence, user):
    actor = actor_for_user(user=user, operator=occurrence.operator_id)
    return occurrence_start_attendance(
        actor=actor, occurrence=occurrence, expected_version=occurrence.version
    )


def make_due(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


@pytest.fixture
def occurrence(app_a, reimbursement, attendant_a):
    return new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=reimbursement,
        beneficiary_name="Maria da Silva",
        contact_email="maria@example.com",
    )


def test_entering_a_status_makes_one_delivery_per_active_action(
    occurrence, attendant_a, hook_action, reimbursement
):
    status_action_create(
        status=hook_action.status,
        description="inactive",
        kind=ActionKind.EMAIL,
        is_active=False,
        body_template="x",
    )
    assert not Delivery.objects.exists()
    event = start(occurrence, attendant_a)
    delivery = Delivery.objects.get()
    assert delivery.event_id == event.pk
    assert delivery.action_id == hook_action.pk
    assert delivery.state == DeliveryState.PENDING
    data = delivery.payload["data"]
    assert delivery.payload["type"] == "occurrence.status_changed"
    assert data["protocol"] == occurrence.protocol
    assert data["previous_status"]["internal_description"] == "Protocolado"
    assert data["status"]["internal_description"] == "Em análise"


def test_a_change_rolled_back_leaves_no_delivery(occurrence, attendant_a, hook_action):
    with pytest.raises(RuntimeError), transaction.atomic():
        start(occurrence, attendant_a)
        assert Delivery.objects.count() == 1
        raise RuntimeError("the request failed after the change")
    assert not Delivery.objects.exists()


def test_creation_in_a_status_with_actions_delivers_with_the_issued_protocol(
    app_a, reimbursement, attendant_a, receiver
):
    status_action_create(
        status=status_named(reimbursement, "Protocolado"),
        description="hook - protocolado",
        kind=ActionKind.HOOK,
        recipient=receiver.url,
    )
    occurrence = new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)
    delivery = Delivery.objects.get()
    assert delivery.protocol == occurrence.protocol
    assert delivery.payload["type"] == "occurrence.created"
    assert delivery.payload["data"]["protocol"] == occurrence.protocol


def test_the_hook_arrives_signed_per_standard_webhooks(
    occurrence, attendant_a, hook_action, receiver
):
    start(occurrence, attendant_a)
    assert deliveries_drain(worker="w1") == 1
    request = receiver.requests[0]
    # Raises unless the signature, id and timestamp check out.
    body = Webhook(hook_action.hook_secret).verify(request.body, request.headers)
    assert body["data"]["protocol"] == occurrence.protocol
    delivery = Delivery.objects.get()
    assert request.headers["webhook-id"] == delivery.message_id
    assert delivery.state == DeliveryState.DELIVERED
    attempt = delivery.attempt_log.get()
    assert (attempt.number, attempt.outcome, attempt.status_code) == (1, "delivered", 200)
    assert attempt.worker == "w1"


def test_a_rotated_secret_still_verifies_with_the_previous_one_during_the_grace(
    occurrence, attendant_a, hook_action, receiver
):
    old_secret = hook_action.hook_secret
    rotated = status_action_rotate_secret(action=hook_action, grace=timedelta(hours=1))
    assert rotated.hook_secret != old_secret
    start(occurrence, attendant_a)
    deliveries_drain()
    request = receiver.requests[0]
    Webhook(old_secret).verify(request.body, request.headers)
    Webhook(rotated.hook_secret).verify(request.body, request.headers)


def test_a_500_then_200_is_one_delivery_with_two_attempts(
    occurrence, attendant_a, hook_action, receiver
):
    receiver.handler = Script(500)
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.PENDING
    assert delivery.next_attempt_at > timezone.now() + timedelta(seconds=10)
    assert "500" in delivery.last_error
    assert deliveries_drain() == 0, "not due yet"
    make_due(delivery)
    deliveries_drain()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    assert [a.outcome for a in delivery.attempt_log.all()] == ["retry", "delivered"]
    ids = {r.headers["webhook-id"] for r in receiver.requests}
    assert ids == {delivery.message_id}, "the receiver can drop a repeat by its id"


@pytest.mark.parametrize(("status", "reason"), [(400, "recusou"), (302, "redirecionamento")])
def test_a_permanent_answer_fails_at_once(
    occurrence, attendant_a, hook_action, receiver, status, reason
):
    receiver.handler = Script(then=status)
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert reason in delivery.last_error
    assert delivery.attempt_log.get().outcome == AttemptOutcome.FAILED
    make_due(delivery)
    assert deliveries_drain() == 0
    assert len(receiver.requests) == 1


def test_transient_failures_stop_when_the_retry_window_is_over(
    occurrence, attendant_a, hook_action, receiver, settings
):
    receiver.handler = Script(then=503)
    start(occurrence, attendant_a)
    Delivery.objects.update(
        created_at=timezone.now() - timedelta(hours=settings.DELIVERY_RETRY_HOURS)
    )
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "503" in delivery.last_error


def test_backoff_grows_with_each_attempt(occurrence, attendant_a, hook_action, receiver):
    receiver.handler = Script(then=503)
    start(occurrence, attendant_a)
    delays = []
    for _ in range(4):
        before = timezone.now()
        deliveries_drain()
        delivery = Delivery.objects.get()
        delays.append((delivery.next_attempt_at - before).total_seconds())
        make_due(delivery)
    # Equal jitter: each delay lies in [d/2, d] of 30 s, 60 s, 120 s, 240 s.
    for number, delay in enumerate(delays):
        full = 30 * 2**number
        assert full / 2 - 1 <= delay <= full + 1


def test_a_delivery_whose_worker_died_is_sent_again_after_the_lease(
    occurrence, attendant_a, hook_action, receiver
):
    start(occurrence, attendant_a)
    [lost] = _claim(10)  # a worker claims it and dies before sending
    assert deliveries_drain() == 0, "the lease still holds"
    Delivery.objects.filter(pk=lost.pk).update(next_attempt_at=timezone.now())
    assert deliveries_drain() == 1
    lost.refresh_from_db()
    assert lost.state == DeliveryState.DELIVERED
    assert lost.attempts == 2
    assert [r.headers["webhook-id"] for r in receiver.requests] == [lost.message_id]


def test_a_failed_delivery_is_resent_by_a_supervisor(
    occurrence, attendant_a, supervisor_a, hook_action, receiver
):
    receiver.handler = Script(400)
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    resent = delivery_resend(delivery=delivery, user=supervisor_a)
    assert resent.state == DeliveryState.PENDING
    deliveries_drain()
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DELIVERED
    first, second = delivery.attempt_log.all()
    assert (first.requested_by, second.requested_by) == (None, supervisor_a)
    with pytest.raises(ValidationError):
        delivery_resend(delivery=delivery, user=supervisor_a)


def test_a_hook_to_an_internal_address_is_refused(reimbursement, settings, hook_action):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    for url in ("http://127.0.0.1:8000/", "http://169.254.169.254/latest/", "http://10.0.0.1/"):
        with pytest.raises(ValidationError) as refused:
            status_action_create(
                status=hook_action.status, description="x", kind=ActionKind.HOOK, recipient=url
            )
        assert "rede interna" in str(refused.value.message_dict["recipient"])


def test_a_hook_saved_while_allowed_is_refused_at_send_once_disallowed(
    occurrence, attendant_a, hook_action, receiver, settings
):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "rede interna" in delivery.last_error
    assert receiver.requests == []


def test_a_broken_template_is_refused_with_its_line(hook_action):
    with pytest.raises(ValidationError) as refused:
        status_action_create(
            status=hook_action.status,
            description="e-mail",
            kind=ActionKind.EMAIL,
            body_template="Olá {{ beneficiario }},\nprotocolo {{ protocolo.__class__ }}",
        )
    assert (
        "Line 2" in refused.value.message_dict["body_template"][0]
        or "Linha 2" in (refused.value.message_dict["body_template"][0])
    )


def test_the_same_cause_never_makes_two_deliveries(operator_a):
    first = delivery_enqueue(
        key="report:1:ready",
        purpose=Purpose.REPORT_READY,
        channel=Channel.EMAIL,
        recipient="a@x.com",
    )
    again = delivery_enqueue(
        key="report:1:ready",
        purpose=Purpose.REPORT_READY,
        channel=Channel.EMAIL,
        recipient="b@x.com",
    )
    assert again.pk == first.pk
    assert again.recipient == "a@x.com"
    with pytest.raises(IntegrityError), transaction.atomic():
        Delivery.objects.create(
            key="report:1:ready",
            purpose=Purpose.REPORT_READY,
            channel=Channel.EMAIL,
            recipient="c@x.com",
            created_at=timezone.now(),
            next_attempt_at=timezone.now(),
        )


def test_an_e_mail_action_reaches_the_smtp_server(occurrence, attendant_a, reimbursement, smtp):
    status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="e-mail - em análise",
        kind=ActionKind.EMAIL,
        subject_template="Protocolo {{ protocolo }}: {{ status }}",
        body_template=(
            "Olá, {{ beneficiario }}.\nSua solicitação está: {{ status }}.\n{{ link_portal }}"
        ),
    )
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.DELIVERED, delivery.last_error
    [message] = smtp.messages
    assert message["To"] == "maria@example.com"
    assert message["Subject"] == f"Protocolo {occurrence.protocol}: Em análise"
    assert message["Message-ID"] == f"<{delivery.message_id}@atende>"
    body = message.get_content()
    assert "Olá, Maria da Silva." in body
    # The link opens the occurrence's page in its operator's portal.
    assert f"/portal/{occurrence.application.bundle}/{occurrence.protocol}/" in body


def test_an_address_the_mail_server_refuses_fails_for_good(
    occurrence, attendant_a, reimbursement, smtp
):
    smtp.refuse.add("maria@example.com")
    status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="e-mail",
        kind=ActionKind.EMAIL,
        body_template="{{ status }}",
    )
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert smtp.messages == []


def test_an_occurrence_without_contact_makes_a_failed_delivery_to_see(
    app_a, reimbursement, attendant_a
):
    status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="e-mail",
        kind=ActionKind.EMAIL,
        body_template="{{ status }}",
    )
    occurrence = new_occurrence(user=attendant_a, application=app_a, occurrence_type=reimbursement)
    start(occurrence, attendant_a)
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert "não tem e-mail de contato" in delivery.last_error
    assert json.dumps(delivery.payload) == "{}"


def test_each_delivery_of_one_change_has_its_own_message_id(
    occurrence, attendant_a, hook_action, receiver
):
    for n in range(2):
        status_action_create(
            status=hook_action.status,
            description=f"hook {n}",
            kind=ActionKind.HOOK,
            recipient=receiver.url,
        )
    event = start(occurrence, attendant_a)
    deliveries = list(Delivery.objects.filter(event=event))
    assert len(deliveries) == 3
    assert len({d.message_id for d in deliveries}) == 3
    assert all(d.message_id.startswith("msg_") and d.created_at == event.at for d in deliveries)


def test_a_subject_with_a_line_break_fails_at_once_with_the_reason(
    app_a, reimbursement, attendant_a, smtp
):
    status_action_create(
        status=status_named(reimbursement, "Em análise"),
        description="e-mail",
        kind=ActionKind.EMAIL,
        subject_template="Olá, {{ beneficiario }}",
        body_template="{{ status }}",
    )
    occurrence = new_occurrence(
        user=attendant_a,
        application=app_a,
        occurrence_type=reimbursement,
        beneficiary_name="Maria\r\nBcc: outro@example.com",
        contact_email="maria@example.com",
    )
    start(occurrence, attendant_a)
    deliveries_drain()
    delivery = Delivery.objects.get()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 1
    assert "quebra de linha" in delivery.last_error
    assert smtp.messages == []
