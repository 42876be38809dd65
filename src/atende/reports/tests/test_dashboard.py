"""The supervisor's indicators: figures from the operator's occurrences only, computed
from what happened (closures within or past their deadline, who closed what)."""

import re
from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from atende.catalog.presets import REIMBURSEMENT
from atende.occurrences.models import Occurrence
from atende.occurrences.services import actor_for_user, occurrence_close, occurrence_fill_tab
from atende.reports.dashboard import dashboard
from atende.testing.occurrences import new_occurrence, status_named

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(app_a, catalog_a, supervisor_a, attendant_a, app_b, catalog_b, attendant_b):
    kind = catalog_a[REIMBURSEMENT]
    made = [
        new_occurrence(user=attendant_a, application=app_a, occurrence_type=kind) for _ in range(3)
    ]
    new_occurrence(
        user=attendant_b, application=app_b, occurrence_type=catalog_b["Segunda via de conta"]
    )
    actor = actor_for_user(user=supervisor_a, operator=app_a.operator_id)
    late, on_time = made[0], made[1]
    for occurrence, due in ((late, timezone.now() - timedelta(hours=1)), (on_time, None)):
        if due is not None:
            Occurrence.objects.filter(pk=occurrence.pk).update(sla_due_at=due)
            occurrence.refresh_from_db()
        occurrence_fill_tab(
            actor=actor,
            occurrence=occurrence,
            tab=kind.tabs.get(name="Recibos"),
            data={"numero": "1", "data": "2026-11-20", "valor": "10", "tipo": "Outro"},
        )
        occurrence_close(
            actor=actor,
            occurrence=occurrence,
            status=status_named(kind, "Aprovado"),
            outcome_text="Aprovado.",
            expected_version=None,
        )
    return made


def test_the_figures_count_only_the_operators_occurrences(world, operator_a, supervisor_a):
    today = timezone.localdate()
    figures = dashboard(operator_id=operator_a.pk, start=today, end=today)
    assert figures["created"] == 3
    assert sum(total for _unit, _counts, total in figures["backlog"]["rows"]) == 1
    [day] = figures["sla"]
    assert (day.value, day.detail) == (50.0, "1/2")  # one of two closed within its deadline
    assert [(b.label, b.value) for b in figures["types"]] == [("Ocorrencia - Reembolso", 3)]
    assert [b.value for b in figures["ages"]] == [1, 0, 0, 0, 0]
    [closer] = figures["throughput"]
    assert (closer.label, closer.value) == (supervisor_a.full_name or supervisor_a.email, 2)


def test_the_page_is_for_supervisors_with_tables_and_charts(
    client, world, supervisor_a, attendant_a
):
    client.force_login(attendant_a)
    assert client.get("/relatorios/indicadores/").status_code == 404
    client.force_login(supervisor_a)
    page = client.get("/relatorios/indicadores/").content.decode()
    for figure in ("backlog", "sla", "channels", "types", "ages", "throughput"):
        assert f'data-figure="{figure}"' in page
    # The period shown (the last 30 days) is in its fields, to be moved from there.
    today = timezone.localdate()
    assert f'name="start" value="{today - timedelta(days=29):%Y-%m-%d}"' in page
    assert f'name="end" value="{today:%Y-%m-%d}"' in page
    # Each bar carries its label and value beside it, in Portuguese notation.
    assert re.search(
        r'<span class="bar-label">\d\d/\d\d</span>.*?<span class="bar-value">50,0%</span>',
        page,
        re.S,
    )
    bad = client.get("/relatorios/indicadores/", {"start": "2026-05-10", "end": "2026-05-01"})
    assert "A data final não pode ser anterior à inicial." in bad.content.decode()


def test_open_occurrences_past_their_deadline_count_against_compliance(
    world, operator_a, app_a, catalog_a, attendant_a
):
    overdue = new_occurrence(
        user=attendant_a, application=app_a, occurrence_type=catalog_a[REIMBURSEMENT]
    )
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.combine(today, time.min))
    # Past, and today (the test may run a minute after midnight).
    due = max(timezone.now() - timedelta(minutes=5), midnight + timedelta(seconds=1))
    Occurrence.objects.filter(pk=overdue.pk).update(sla_due_at=due)
    [day] = dashboard(operator_id=operator_a.pk, start=today, end=today)["sla"]
    # One closed within, one closed late, one still open and late.
    assert (day.value, day.detail) == (33.3, "1/3")
