"""Encerrar RA (issue 21): a reason that marks a duplicate asks for the original and links
it, in the panel and the API."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from atende.catalog.models import Closing
from atende.catalog.services import outcome_reason_create
from atende.occurrences.models import Event, EventKind, Occurrence
from atende.occurrences.services import (
    actor_for_user,
    occurrence_close,
    occurrence_start_attendance,
)
from atende.registrations.tests.test_services import opened

pytestmark = pytest.mark.django_db


@pytest.fixture
def duplicate_reason(operator_b, water):
    return outcome_reason_create(
        operator=operator_b, description="Registro em duplicidade", marks_duplicate=True
    )


def test_a_duplicate_closing_links_the_original(
    street_leak, duplicate_reason, attendant_water, operator_b, app_b, operator_a, catalog_a
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    original = opened(actor, app_b, street_leak)
    repeated = opened(actor, app_b, street_leak)
    occurrence_start_attendance(actor=actor, occurrence=repeated, expected_version=None)
    not_resolved = street_leak.occurrence_type.statuses.get(closing=Closing.CLOSED)

    def close(**extra):
        occurrence_close(
            actor=actor,
            occurrence=Occurrence.objects.get(pk=repeated.pk),
            status=not_resolved,
            outcome_text="Já registrado",
            reason=duplicate_reason,
            expected_version=None,
            **extra,
        )

    with pytest.raises(ValidationError) as refused:
        close()
    assert "duplicate_of" in refused.value.message_dict
    with pytest.raises(ValidationError):
        close(duplicate_of=Occurrence.objects.get(pk=repeated.pk))
    close(duplicate_of=original)
    repeated.refresh_from_db()
    assert repeated.duplicate_of == original and repeated.is_closed
    closed = Event.objects.get(occurrence=repeated, kind=EventKind.CLOSED)
    assert closed.payload["duplicate_of"] == original.protocol


def test_the_panel_and_the_api_close_a_duplicate(
    street_leak, duplicate_reason, attendant_water, operator_b, app_b
):
    actor = actor_for_user(user=attendant_water, operator=operator_b)
    original = opened(actor, app_b, street_leak)
    first, second = opened(actor, app_b, street_leak), opened(actor, app_b, street_leak)
    for occurrence in (first, second):
        occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=None)
    not_resolved = street_leak.occurrence_type.statuses.get(closing=Closing.CLOSED)
    client = Client()
    client.force_login(attendant_water)
    page = client.get(f"/painel/{first.protocol}/").content.decode()
    assert "Protocolo original (quando duplicado)" in page
    typed = {
        "version": Occurrence.objects.get(pk=first.pk).version,
        "status": not_resolved.pk,
        "outcome_text": "Duplicado",
        "reason": duplicate_reason.pk,
        "duplicate_of": "999",
    }
    refused = client.post(f"/painel/{first.protocol}/encerrar/", typed)
    assert refused.status_code == 400
    assert 'value="999"' in refused.content.decode()
    done = client.post(
        f"/painel/{first.protocol}/encerrar/", {**typed, "duplicate_of": original.protocol}
    )
    assert done.status_code == 302
    assert Occurrence.objects.get(pk=first.pk).duplicate_of == original
    assert (
        f"/painel/{original.protocol}/" in client.get(f"/painel/{first.protocol}/").content.decode()
    )

    answer = client.post(
        f"/api/v1/occurrences/{second.protocol}/close",
        json.dumps(
            {
                "version": Occurrence.objects.get(pk=second.pk).version,
                "status_id": not_resolved.pk,
                "outcome_text": "Duplicado",
                "reason_id": duplicate_reason.pk,
                "duplicate_of_protocol": original.protocol,
            }
        ),
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    assert Occurrence.objects.get(pk=second.pk).duplicate_of == original
