"""Helpers for tests that need occurrences: made through the real services."""

import re

from atende.catalog.models import OccurrenceType, Status
from atende.occurrences.forms import SUBMISSION_FIELD
from atende.occurrences.models import Channel, Occurrence
from atende.occurrences.services import (
    Actor,
    actor_for_user,
    occurrence_close,
    occurrence_create,
    occurrence_fill_tab,
    occurrence_start_attendance,
)
from atende.tenancy.models import Application


def submission_key_of(html: str) -> str:
    """The one-time key of the first form in ``html`` that carries one, as a browser would
    send it back."""
    found = re.search(rf'name="{SUBMISSION_FIELD}" value="([0-9a-f]{{32}})"', html)
    assert found, "no form here carries a one-time key"
    return found.group(1)


def status_named(occurrence_type: OccurrenceType, name: str) -> Status:
    return occurrence_type.statuses.get(internal_description=name)


def new_occurrence(
    *, user: object, application: Application, occurrence_type: OccurrenceType, **fields: object
) -> Occurrence:
    actor: Actor = actor_for_user(user=user, operator=application.operator_id)
    fields.setdefault("channel", Channel.PHONE)
    fields.setdefault("subject", occurrence_type.subjects.first())
    return occurrence_create(
        actor=actor, application=application, occurrence_type=occurrence_type, **fields
    )


def receipts_filled(actor: Actor, occurrence: Occurrence, **data: str) -> None:
    """Fill the health catalog's required "Recibos" tab (a refund can close only then) and
    bring ``occurrence`` up to date."""
    occurrence_fill_tab(
        actor=actor,
        occurrence=occurrence,
        tab=occurrence.occurrence_type.tabs.get(name="Recibos"),
        data={"numero": "1", "data": "2026-11-20", "valor": "10", "tipo": "Consulta", **data},
    )
    occurrence.refresh_from_db()


def refund_approved(actor: Actor, occurrence: Occurrence) -> None:
    """Close a refund of the health catalog as approved (its receipts filled first)."""
    receipts_filled(actor, occurrence)
    occurrence_close(
        actor=actor,
        occurrence=occurrence,
        status=status_named(occurrence.occurrence_type, "Aprovado"),
        outcome_text="Aprovado.",
        expected_version=occurrence.version,
    )
    occurrence.refresh_from_db()


def attendance_started(user: object, occurrence: Occurrence) -> Actor:
    """``user`` starts attending ``occurrence`` as it is now; its actor, and the occurrence
    brought up to date."""
    actor = actor_for_user(user=user, operator=occurrence.operator_id)
    occurrence.refresh_from_db()
    occurrence_start_attendance(
        actor=actor, occurrence=occurrence, expected_version=occurrence.version
    )
    occurrence.refresh_from_db()
    return actor
