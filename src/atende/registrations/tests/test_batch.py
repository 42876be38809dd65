"""Comandar encerramento (issue 21): the worker closes every open registration matching
the criteria with one status and outcome, reports those refused and why, and a new
attempt after a dead worker picks up only what is still open."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone

from atende.catalog.models import Closing
from atende.occurrences.models import Occurrence, State
from atende.occurrences.services import NotAllowed, actor_for_user
from atende.registrations.models import BatchClosing, BatchState, ServiceType
from atende.registrations.services import (
    batch_closing_request,
    batch_closing_run,
    batch_closings_drive,
    order_create,
)
from atende.registrations.tests.conftest import ADDRESS
from atende.registrations.tests.test_services import opened

pytestmark = pytest.mark.django_db


def test_a_batch_closes_the_matching_registrations_and_reports_refusals(
    street_leak,
    shortage,
    attendant_water,
    supervisor_water,
    operator_b,
    app_b,
    field_unit,
    django_capture_on_commit_callbacks,
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    centre = [opened(actor, app_b, street_leak) for _ in range(3)]
    elsewhere = opened(actor, app_b, street_leak, place={**ADDRESS, "neighbourhood": "Savassi"})
    other_spec = opened(actor, app_b, shortage)
    repair = ServiceType.objects.get(subject=street_leak, name="Reparo de rede")
    order_create(actor=actor, occurrence=centre[1], service_type=repair)
    boss = actor_for_user(user=supervisor_water, operator=operator_b)
    resolved = street_leak.occurrence_type.statuses.get(closing=Closing.RESOLVED)
    with pytest.raises(NotAllowed):
        batch_closing_request(
            actor=actor, criteria={"subject": street_leak.pk}, status=resolved, outcome_text="x"
        )
    with pytest.raises(ValidationError):
        batch_closing_request(actor=boss, criteria={}, status=resolved, outcome_text="x")
    with django_capture_on_commit_callbacks() as callbacks:
        batch = batch_closing_request(
            actor=boss,
            criteria={
                "subject": street_leak.pk,
                "city": "Belo Horizonte",
                "neighbourhood": "centro",
            },
            status=resolved,
            outcome_text="Rede reparada no bairro.",
        )
    assert batch.total == 3 and len(callbacks) == 1
    assert batch_closing_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.state, batch.closed, batch.processed) == (BatchState.DONE, 2, 3)
    assert list(batch.refused) == [centre[1].protocol]
    assert "OS 1 (Reparo de rede)" in batch.refused[centre[1].protocol]
    states = {o.pk: o.state for o in Occurrence.objects.all()}
    assert states[centre[0].pk] == State.CLOSED and states[centre[2].pk] == State.CLOSED
    assert states[centre[1].pk] != State.CLOSED
    assert states[elsewhere.pk] != State.CLOSED and states[other_spec.pk] != State.CLOSED
    assert not batch_closing_run(batch_id=batch.pk)  # finished: nothing to claim


def test_a_batch_left_by_a_dead_worker_is_driven_again(
    street_leak, attendant_water, supervisor_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    for _ in range(2):
        opened(actor, app_b, street_leak)
    boss = actor_for_user(user=supervisor_water, operator=operator_b)
    batch = batch_closing_request(
        actor=boss,
        criteria={"subject": street_leak.pk},
        status=street_leak.occurrence_type.statuses.get(closing=Closing.CLOSED),
        outcome_text="Encerrado em lote",
    )
    # A worker claimed it and died: its lease ran out.
    BatchClosing.objects.filter(pk=batch.pk).update(
        state=BatchState.RUNNING, attempts=1, lease_until=timezone.now() - timedelta(seconds=1)
    )
    failed, again = batch_closings_drive()
    assert (failed, again) == (0, 1)
    assert batch_closing_run(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.state, batch.closed, batch.attempts) == (BatchState.DONE, 2, 2)


def test_the_batch_screen_is_for_supervisors(
    street_leak, attendant_water, supervisor_water, operator_b, app_b, attendant_a, catalog_a
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    opened(actor, app_b, street_leak)
    resolved = street_leak.occurrence_type.statuses.get(closing=Closing.RESOLVED)
    boss = Client()
    boss.force_login(supervisor_water)
    refused = boss.post("/registros/encerramento/", {"status": resolved.pk, "outcome_text": "ok"})
    assert refused.status_code == 400
    made = boss.post(
        "/registros/encerramento/",
        {"subject": street_leak.pk, "status": resolved.pk, "outcome_text": "Reparado"},
    )
    assert made.status_code == 302
    batch = BatchClosing.objects.get()
    page = boss.get("/registros/encerramento/").content.decode()
    assert f'id="batch-{batch.pk}"' in page and "hx-trigger" in page
    desk = Client()
    desk.force_login(attendant_water)
    assert desk.get("/registros/encerramento/").status_code == 404
    # Only the supervisor's registration pages offer it.
    assert 'href="/registros/encerramento/"' in boss.get("/registros/novo/").content.decode()
    assert 'href="/registros/encerramento/"' not in desk.get("/registros/novo/").content.decode()
    other = Client()
    other.force_login(attendant_a)
    assert other.get(f"/registros/encerramento/{batch.pk}/").status_code == 404
