"""Two points of the layout (``shared/report-layout.md``) that the seed fixes exactly: the
visible-in-history flag of 02 lines, and the file's order of occurrences."""

import csv
import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from atende.catalog.models import ProtocolScheme, ProtocolType
from atende.occurrences.services import (
    actor_for_application,
    actor_for_user,
    occurrence_create,
    occurrence_release,
    occurrence_route,
    occurrence_start_attendance,
)
from atende.reports.params import ReportParams
from atende.reports.writer import report_write

pytestmark = pytest.mark.django_db

SP = ZoneInfo("America/Sao_Paulo")
UPDATE = "Atualização Cadastral"
AUTHORIZATION = "Solicitação de Autorização"


def _file(app) -> list[list[str]]:
    params = ReportParams(
        operator_id=app.operator_id,
        application_id=app.pk,
        start=date(2025, 3, 1),
        end=date(2025, 3, 31),
    )
    out = io.StringIO(newline="")
    report_write(params, out)
    return list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))


def _create(app, occurrence_type, when: datetime):
    return occurrence_create(
        actor=actor_for_application(application=app),
        application=app,
        occurrence_type=occurrence_type,
        subject=occurrence_type.subjects.first(),
        channel="telefone",
        requester_name="Maria",
        at=when,
    )


@pytest.mark.parametrize("visible", [True, False])
def test_release_and_routing_lines_carry_the_flag_of_the_status_held(
    app_a, catalog_a, attendant_a, unit_a, visible
):
    occurrence_type = catalog_a[UPDATE]
    occurrence_type.statuses.update(visible_in_history=visible)
    occurrence = _create(app_a, occurrence_type, datetime(2025, 3, 10, 9, tzinfo=SP))
    attendant = actor_for_user(user=attendant_a, operator=app_a.operator_id)

    def start(hour: int) -> None:
        occurrence_start_attendance(
            actor=attendant,
            occurrence=occurrence,
            expected_version=occurrence.version,
            at=datetime(2025, 3, 10, hour, tzinfo=SP),
        )

    start(10)
    occurrence_route(  # leaves its attendant: a change of state, so a 02 line
        actor=attendant,
        occurrence=occurrence,
        unit=unit_a,
        expected_version=occurrence.version,
        at=datetime(2025, 3, 10, 11, tzinfo=SP),
    )
    start(12)
    occurrence_release(
        actor=attendant,
        occurrence=occurrence,
        expected_version=occurrence.version,
        at=datetime(2025, 3, 10, 13, tzinfo=SP),
    )

    changes = [row for row in _file(app_a) if row[0] == "02"]

    # Starts, routing and release: each written with the flag of the status it left held.
    assert [row[10][-8:] for row in changes] == ["10:00:00", "11:00:00", "12:00:00", "13:00:00"]
    assert {row[13] for row in changes} == {"1" if visible else "0"}


def test_occurrences_of_one_second_are_in_protocol_order_whatever_their_microseconds(
    app_a, catalog_a
):
    # A GSAN number (2025…) sorts before an ANS one (417505…) of the same second, although
    # it was registered later within that second.
    gsan = ProtocolType.objects.create(
        operator=app_a.operator, name="GSAN", scheme=ProtocolScheme.GSAN
    )
    later_type = catalog_a[AUTHORIZATION]
    later_type.protocol_type = gsan
    later_type.save(update_fields=["protocol_type"])
    ans = _create(app_a, catalog_a[UPDATE], datetime(2025, 3, 10, 9, 0, 0, 100, tzinfo=SP))
    later = _create(app_a, later_type, datetime(2025, 3, 10, 9, 0, 0, 900_000, tzinfo=SP))
    assert later.protocol < ans.protocol

    created = [row[1] for row in _file(app_a) if row[0] == "01"]

    assert created == [later.protocol, ans.protocol]
