"""Many writers at once, on real connections (threads, each with its own database
connection): no duplicate protocol, no lost number, one winner per contested change."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from atende.catalog.presets import REIMBURSEMENT
from atende.occurrences.models import Occurrence
from atende.occurrences.services import (
    Conflict,
    NotAllowed,
    actor_for_user,
    occurrence_start_attendance,
)
from atende.tenancy.models import Role
from atende.testing.factories import MembershipFactory
from atende.testing.occurrences import new_occurrence

pytestmark = pytest.mark.django_db(transaction=True)

WRITERS = 8
EACH = 15


def _in_thread(func):
    def run(*args):
        try:
            return func(*args)
        finally:
            connections.close_all()

    return run


def test_concurrent_creations_get_every_number_once_and_in_sequence(catalog_a, app_a, attendant_a):
    reimbursement = catalog_a[REIMBURSEMENT]
    start = threading.Barrier(WRITERS)

    @_in_thread
    def writer(_):
        start.wait()
        return [
            new_occurrence(
                user=attendant_a, application=app_a, occurrence_type=reimbursement
            ).protocol
            for _ in range(EACH)
        ]

    with ThreadPoolExecutor(WRITERS) as pool:
        protocols = [p for batch in pool.map(writer, range(WRITERS)) for p in batch]
    assert len(protocols) == len(set(protocols)) == WRITERS * EACH
    sequences = sorted(int(p[-6:]) for p in protocols)
    days = {p[6:14] for p in protocols}
    if len(days) == 1:  # a run across midnight restarts the sequence legitimately
        assert sequences == list(range(1, WRITERS * EACH + 1))
    assert Occurrence.objects.count() == WRITERS * EACH


def test_two_attendants_taking_the_same_occurrence_one_wins_one_is_told(
    catalog_a, app_a, attendant_a, operator_a, unit_a
):
    occurrence = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    people = [attendant_a] + [
        MembershipFactory(operator=operator_a, role=Role.ATTENDANT).user for _ in range(3)
    ]
    start = threading.Barrier(len(people))

    @_in_thread
    def take(user):
        actor = actor_for_user(user=user, operator=operator_a)
        target = Occurrence.objects.get(pk=occurrence.pk)
        start.wait()
        try:
            occurrence_start_attendance(actor=actor, occurrence=target, expected_version=1)
        except (Conflict, NotAllowed) as refused:
            return type(refused).__name__
        return "won"

    with ThreadPoolExecutor(len(people)) as pool:
        outcomes = list(pool.map(take, people))
    assert outcomes.count("won") == 1
    assert set(outcomes) - {"won"} <= {"Conflict", "NotAllowed"}
    occurrence.refresh_from_db()
    assert occurrence.version == 2
    assert occurrence.events.count() == 2
