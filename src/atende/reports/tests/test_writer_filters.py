"""Every filter of the layout, and each movement type, over a small world of occurrences
whose stories sit on the edges: an event at the period's first and last second, one
reopened after the period end, one closed, reopened and closed again inside the period.

The period is 10/03/2025 to 20/03/2025 (São Paulo): [10/03 00:00:00, 21/03 00:00:00)."""

import csv
import io
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from atende.occurrences.models import Mode, Occurrence, State
from atende.occurrences.services import (
    actor_for_application,
    actor_for_user,
    occurrence_close,
    occurrence_create,
    occurrence_create_child,
    occurrence_reopen,
    occurrence_start_attendance,
)
from atende.reports import writer
from atende.reports.params import AttendantMovement, ModeFilter, Movement, ReportParams
from atende.reports.writer import report_write
from atende.testing.occurrences import status_named

pytestmark = pytest.mark.django_db

SP = ZoneInfo("America/Sao_Paulo")
UPDATE = "Atualização Cadastral"
AUTHORIZATION = "Solicitação de Autorização"


def at(text: str) -> datetime:
    return datetime.strptime(
        text, "%d/%m/%Y %H:%M:%S.%f" if "." in text else "%d/%m/%Y %H:%M:%S"
    ).replace(tzinfo=SP)


class World:
    def __init__(self, app, catalog, attendant, supervisor) -> None:
        self.app = app
        self.catalog = catalog
        self.attendant = actor_for_user(user=attendant, operator=app.operator_id)
        self.supervisor = actor_for_user(user=supervisor, operator=app.operator_id)
        self.system = actor_for_application(application=app)
        self.attendant_user, self.supervisor_user = attendant, supervisor
        self.by_name: dict[str, Occurrence] = {}

    def create(
        self, name: str, when: str, *, by=None, kind=UPDATE, subject="Endereço", mode=Mode.ACTIVE
    ):
        occurrence_type = self.catalog[kind]
        occurrence = occurrence_create(
            actor=by or self.system,
            application=self.app,
            occurrence_type=occurrence_type,
            subject=occurrence_type.subjects.filter(name=subject).first()
            or occurrence_type.subjects.first(),
            channel="telefone",
            mode=mode,
            requester_name=name,
            at=at(when),
        )
        self.by_name[name] = occurrence
        return occurrence

    def start(self, name: str, when: str, *, by=None) -> None:
        occurrence = self.by_name[name]
        occurrence_start_attendance(
            actor=by or self.attendant,
            occurrence=occurrence,
            expected_version=occurrence.version,
            at=at(when),
        )

    def close(self, name: str, when: str, *, by=None, status="Concluída") -> None:
        occurrence = self.by_name[name]
        occurrence_close(
            actor=by or self.supervisor,
            occurrence=occurrence,
            status=status_named(occurrence.occurrence_type, status),
            outcome_text="Feito.",
            expected_version=occurrence.version,
            at=at(when),
        )

    def reopen(self, name: str, when: str) -> None:
        occurrence = self.by_name[name]
        occurrence_reopen(
            actor=self.supervisor,
            occurrence=occurrence,
            expected_version=occurrence.version,
            at=at(when),
        )

    def params(self, **options) -> ReportParams:
        return ReportParams(
            operator_id=self.app.operator_id,
            application_id=self.app.pk,
            start=date(2025, 3, 10),
            end=date(2025, 3, 20),
            **options,
        )

    def file(self, **options) -> list[list[str]]:
        out = io.StringIO(newline="")
        report_write(self.params(**options), out)
        return list(csv.reader(io.StringIO(out.getvalue(), newline=""), delimiter=";"))

    def selected(self, **options) -> set[str]:
        """The requester names (one per occurrence) of the 01 lines."""
        return {row[13] for row in self.file(**options) if row[0] == "01"}

    def lines_of(self, name: str, **options) -> list[list[str]]:
        protocol = self.by_name[name].protocol
        return [row for row in self.file(**options) if row[0] in "010203" and row[1] == protocol]


@pytest.fixture
def world(app_a, catalog_a, attendant_a, supervisor_a):
    w = World(app_a, catalog_a, attendant_a, supervisor_a)
    # Before the period
    w.create("A", "01/03/2025 09:00:00")
    w.start("A", "02/03/2025 09:00:00")  # still in attendance at the start: "open before"
    w.create("B", "01/03/2025 10:00:00")
    w.close("B", "05/03/2025 10:00:00")  # closed before the period
    w.create("C", "01/03/2025 11:00:00")
    w.close("C", "10/03/2025 00:00:00")  # closed at the period's first second
    w.create("L", "01/03/2025 12:00:00")
    w.close("L", "09/03/2025 23:59:59.999999")  # closed at the last instant before it
    w.create("K", "01/03/2025 13:00:00")
    w.close("K", "20/03/2025 23:59:59.999999")  # closed at the last instant of the period
    w.create("H", "01/03/2025 14:00:00")
    w.start("H", "12/03/2025 08:00:00")  # moved to "in attendance" inside the period
    # Inside the period
    w.create("D", "20/03/2025 23:59:59")  # created at the period's last second
    w.create("F", "11/03/2025 10:00:00")
    w.close("F", "15/03/2025 10:00:00")
    w.reopen("F", "25/03/2025 10:00:00")  # reopened after the period end
    w.create("G", "11/03/2025 11:00:00")
    w.start("G", "11/03/2025 12:00:00")
    w.close("G", "12/03/2025 09:00:00", by=w.attendant)
    w.reopen("G", "13/03/2025 09:00:00")
    w.start("G", "13/03/2025 10:00:00", by=w.supervisor)
    w.close("G", "14/03/2025 09:00:00")  # closed, reopened and closed again inside
    w.create("I", "12/03/2025 10:00:00", by=w.attendant, subject="Dependentes")
    w.create("J", "12/03/2025 11:00:00", kind=AUTHORIZATION, mode=Mode.DRAFT)
    # After the period
    w.create("E", "21/03/2025 00:00:00")
    return w


@pytest.mark.parametrize(
    ("movement", "expected"),
    [
        (Movement.ALL, {"C", "D", "F", "G", "H", "I", "J", "K"}),
        (Movement.CREATION, {"D", "F", "G", "I", "J"}),
        (Movement.MOVEMENT, {"G", "H"}),
        (Movement.CLOSED, {"C", "F", "G", "K"}),
    ],
)
def test_each_movement_type_selects_by_the_events_inside_the_period(world, movement, expected):
    assert world.selected(movement=movement) == expected


@pytest.mark.parametrize(
    ("movement", "expected"),
    [
        (Movement.ALL, {"A", "C", "D", "F", "G", "H", "I", "J", "K"}),
        (Movement.CREATION, {"A", "C", "D", "F", "G", "H", "I", "J", "K"}),
        (Movement.CLOSED, {"A", "C", "F", "G", "H", "K"}),
    ],
)
def test_including_occurrences_not_closed_before_the_period(world, movement, expected):
    # B and L were closed before the first instant; C closed exactly at it, so it was not.
    assert world.selected(movement=movement, include_open_before=True) == expected


@pytest.mark.parametrize(
    ("states", "expected"),
    [
        ((State.CLOSED,), {"C", "F", "G", "K"}),  # F was reopened only after the period
        ((State.IN_ATTENDANCE,), {"A", "H"}),
        ((State.NEW,), {"D", "I", "J"}),
        ((State.NEW, State.IN_ATTENDANCE), {"A", "D", "H", "I", "J"}),
        ((State.OPEN,), set()),
    ],
)
def test_the_state_filter_reads_the_state_at_the_period_end(world, states, expected):
    assert world.selected(include_open_before=True, states=states) == expected


@pytest.mark.parametrize(
    ("movement", "expected"),
    [
        (AttendantMovement.ALL, {"G", "H", "I"}),
        (AttendantMovement.CREATION, {"I"}),
        (AttendantMovement.CLOSED, {"G"}),
    ],
)
def test_the_attendant_filter_with_each_movement_type(world, movement, expected):
    chosen = world.attendant_user.pk
    assert world.selected(attendant_id=chosen, attendant_movement=movement) == expected


def test_the_attendant_filter_sees_only_the_period(world):
    # The supervisor closed B before the period and reopened F after it: neither counts.
    chosen = world.supervisor_user.pk
    assert world.selected(attendant_id=chosen, attendant_movement=AttendantMovement.CLOSED) == {
        "C",
        "F",
        "G",
        "K",
    }


def test_type_subject_and_mode_filters(world, catalog_a):
    assert world.selected(type_ids=(catalog_a[AUTHORIZATION].pk,)) == {"J"}
    dependants = catalog_a[UPDATE].subjects.get(name="Dependentes")
    assert world.selected(subject_ids=(dependants.pk,)) == {"I"}
    assert world.selected(mode=ModeFilter.DRAFT) == {"J"}
    assert world.selected(mode=ModeFilter.ACTIVE) == {"C", "D", "F", "G", "H", "I", "K"}


def test_events_after_the_period_end_neither_appear_nor_change_any_field(world):
    created, closing = world.lines_of("F")
    assert created[0] == "01" and closing[0] == "03"
    assert created[20] == "15/03/2025 10:00:00"  # last update: the closing, not the reopening
    assert created[22] == "15/03/2025 10:00:00"  # closed as of the period end
    stored = Occurrence.objects.get(pk=world.by_name["F"].pk)
    assert stored.state == State.OPEN and stored.closed_at is None  # today it is open


def test_the_closing_in_force_is_the_last_one_inside_the_period(world):
    rows = world.lines_of("G")
    assert [r[0] for r in rows] == ["01", "02", "03", "02", "02", "03"]
    created = rows[0]
    assert created[22] == "14/03/2025 09:00:00"
    # Each change holds until the next one; the last one still holds at the period end.
    assert [(r[10], r[11]) for r in rows[1:]] == [
        ("11/03/2025 12:00:00", "12/03/2025 09:00:00"),
        ("12/03/2025 09:00:00", "12/03/2025 09:00:00"),
        ("13/03/2025 09:00:00", "13/03/2025 10:00:00"),
        ("13/03/2025 10:00:00", "14/03/2025 09:00:00"),
        ("14/03/2025 09:00:00", "14/03/2025 09:00:00"),
    ]
    # The reopening's previous state is the true one: closed.
    assert (rows[3][8], rows[3][9]) == (str(State.CLOSED), str(State.OPEN))


def test_a_change_after_the_period_leaves_the_last_change_open_ended(world):
    *_, started = world.lines_of("A", include_open_before=True)
    assert started[0] == "02" and started[11] == ""


def test_the_file_is_in_creation_order_with_each_occurrences_events_after_it(world):
    rows = world.file(include_open_before=True)
    assert rows[0][0] == "00" and rows[-1][0] == "99"
    creations = [r for r in rows if r[0] == "01"]
    assert [r[13] for r in creations] == ["A", "C", "K", "H", "F", "G", "I", "J", "D"]
    current = None
    for row in rows[1:-1]:
        if row[0] == "01":
            current = row[1]
        assert row[1] == current
    assert {len(r) for r in rows if r[0] == "01"} == {31}
    assert {len(r) for r in rows if r[0] == "02"} == {14}
    assert {len(r) for r in rows if r[0] == "03"} == {19}
    assert len(rows[0]) == len(rows[-1]) == 8


def test_the_same_parameters_give_the_same_bytes(world):
    first, second = io.StringIO(newline=""), io.StringIO(newline="")
    report_write(world.params(include_open_before=True), first)
    report_write(world.params(include_open_before=True), second)
    assert first.getvalue() == second.getvalue()
    assert first.getvalue().count("\n") == len(first.getvalue().splitlines())


def test_fields_with_separators_quotes_or_line_breaks_are_quoted(world):
    occurrence = world.create("Q", "12/03/2025 12:00:00")
    Occurrence.objects.filter(pk=occurrence.pk).update(
        requester_name='Maria "Mãe"; Souza', beneficiary_name="linha 1\nlinha 2"
    )
    out = io.StringIO(newline="")
    report_write(world.params(), out)
    line = next(
        chunk for chunk in out.getvalue().split("\n01;") if chunk.startswith(occurrence.protocol)
    )
    assert ';"Maria ""Mãe""; Souza";' in line
    assert ';"linha 1\nlinha 2";' in line
    assert ";Padrão ANS;" in line  # nothing else is quoted


def test_backslashes_and_tabs_pass_through_unchanged(world):
    occurrence = world.create("R", "12/03/2025 12:00:00")
    Occurrence.objects.filter(pk=occurrence.pk).update(requester_name="C:\\pasta\tnova\\")
    out = io.StringIO(newline="")
    report_write(world.params(), out)
    assert ";C:\\pasta\tnova\\;" in out.getvalue()


def test_from_the_first_registration_on_every_occurrence_moved_and_the_events_agree(
    world, monkeypatch
):
    # A starts the world at 01/03/2025 09:00: a period from that day needs no look at the
    # events to know who moved in it, and must give what looking at them gives.
    params = replace(world.params(), start=date(2025, 3, 1))
    query, taken = writer.report_query, []

    def written(*, from_the_events: bool) -> str:
        def recorded(*args, **kwargs):
            if from_the_events:
                kwargs["first_registered"] = None
            sql, values = query(*args, **kwargs)
            taken.append(sql)
            return sql, values

        monkeypatch.setattr(writer, "report_query", recorded)
        out = io.StringIO(newline="")
        report_write(params, out)
        return out.getvalue()

    fast, slow = written(from_the_events=False), written(from_the_events=True)
    assert "EXISTS" not in taken[0]
    assert "EXISTS" in taken[1]
    assert slow == fast
    rows = csv.reader(io.StringIO(fast, newline=""), delimiter=";")
    names = {row[13] for row in rows if row[0] == "01"}
    assert names == set("ABCDFGHIJKL")


def test_a_child_names_its_parents_protocol_the_others_none(world):
    parent = world.by_name["F"]
    child = occurrence_create_child(
        actor=world.supervisor,
        parent=parent,
        occurrence_type=world.catalog[UPDATE],
        at=at("16/03/2025 10:00:00"),
    )
    created = {row[1]: row for row in world.file() if row[0] == "01"}
    assert created[child.protocol][3] == parent.protocol
    assert created[parent.protocol][3] == ""
    assert created[world.by_name["G"].protocol][3] == ""


def test_a_period_with_nothing_in_it_gives_the_header_and_the_footer(world):
    params = replace(world.params(), start=date(2024, 1, 1), end=date(2024, 1, 31))
    out = io.StringIO(newline="")
    assert report_write(params, out) == 2
    header, footer = out.getvalue().splitlines()
    assert header.startswith("00;Relatório ocorrência;01/01/2024 00:00:00;31/01/2024 23:59:59;")
    assert footer.startswith("99;")


@pytest.mark.parametrize(
    ("movement", "expected"),
    [(Movement.ALL, {"M", "P"}), (Movement.CREATION, {"M"})],
)
def test_open_at_the_start_after_closings_and_reopenings_before_it(world, movement, expected):
    world.create("M", "01/03/2025 15:00:00")
    world.close("M", "02/03/2025 15:00:00")
    world.reopen("M", "03/03/2025 15:00:00")  # open again at the start
    world.create("N", "01/03/2025 16:00:00")
    world.close("N", "02/03/2025 16:00:00")
    world.reopen("N", "03/03/2025 16:00:00")
    world.close("N", "04/03/2025 16:00:00")  # closed again before the start
    world.create("P", "01/03/2025 17:00:00")
    world.close("P", "02/03/2025 17:00:00")
    world.reopen("P", "12/03/2025 17:00:00")  # closed at the start, moved inside
    selected = world.selected(movement=movement, include_open_before=True)
    assert selected & {"M", "N", "P"} == expected
