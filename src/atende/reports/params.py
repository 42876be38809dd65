"""The parameters of an occurrence report, as the layout's "Which occurrences are selected"
defines them, checked once here for the screen, the API and the command line."""

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from atende.catalog.models import OccurrenceType, Subject
from atende.core.forms import date_in_range
from atende.occurrences.models import Mode, State
from atende.tenancy.models import Application, Membership, Operator


class Movement(models.TextChoices):
    ALL = "todos", gettext_lazy("All")
    CREATION = "criacao", gettext_lazy("Creation")
    MOVEMENT = "movimentacao", gettext_lazy("Movement")
    CLOSED = "encerrado", gettext_lazy("Closed")


class AttendantMovement(models.TextChoices):
    ALL = "todos", gettext_lazy("All")
    CREATION = "criacao", gettext_lazy("Creation")
    CLOSED = "encerrado", gettext_lazy("Closed")


class ModeFilter(models.TextChoices):
    ACTIVE = "ativo", gettext_lazy("Active")
    DRAFT = "rascunho", gettext_lazy("Draft")
    ALL = "todas", gettext_lazy("All")

    @property
    def modes(self) -> tuple[int, ...]:
        return {"ativo": (Mode.ACTIVE,), "rascunho": (Mode.DRAFT,), "todas": ()}[self.value]


# The command line names states by slug; the screen and the API by their codes.
STATE_SLUGS = {
    "novo": State.NEW,
    "aberto": State.OPEN,
    "em-atendimento": State.IN_ATTENDANCE,
    "encerrado": State.CLOSED,
}


@dataclass(frozen=True)
class ReportParams:
    operator_id: int
    application_id: int
    start: date
    end: date
    movement: str = Movement.ALL
    include_open_before: bool = False
    attendant_id: int | None = None
    attendant_movement: str = AttendantMovement.ALL
    states: tuple[int, ...] = ()
    type_ids: tuple[int, ...] = ()
    subject_ids: tuple[int, ...] = ()
    mode: str = ModeFilter.ALL

    def bounds(self, time_zone: str) -> tuple[datetime, datetime]:
        """[first instant of the start day, first instant after the end day) in the
        operator's time zone: an event at 23:59:59.5 of the last day is inside."""
        tz = ZoneInfo(time_zone)
        first = datetime.combine(self.start, time.min, tzinfo=tz)
        after = datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz)
        return first, after

    def to_json(self) -> dict:
        data = asdict(self)
        data["start"] = self.start.isoformat()
        data["end"] = self.end.isoformat()
        for key in ("states", "type_ids", "subject_ids"):
            data[key] = list(data[key])
        return data

    @classmethod
    def from_json(cls, data: dict) -> "ReportParams":
        values = dict(data)
        values["start"] = date.fromisoformat(values["start"])
        values["end"] = date.fromisoformat(values["end"])
        for key in ("states", "type_ids", "subject_ids"):
            values[key] = tuple(values.get(key) or ())
        return cls(**values)


def report_params_clean(
    *,
    operator: Operator,
    application_id: object,
    start: date | None,
    end: date | None,
    movement: str = Movement.ALL,
    include_open_before: bool = False,
    attendant_id: object = None,
    attendant_movement: str = AttendantMovement.ALL,
    states: list | tuple = (),
    type_ids: list | tuple = (),
    subject_ids: list | tuple = (),
    mode: str = ModeFilter.ALL,
) -> ReportParams:
    """Every parameter checked against the operator's own data; all errors at once."""
    errors: dict[str, str] = {}
    application = Application.objects.filter(
        operator=operator, pk=_int_or_none(application_id)
    ).first()
    if application is None:
        errors["application"] = _("Choose an application instance of the operator.")
    if start is None:
        errors["start"] = _("Give the first day of the period.")
    if end is None:
        errors["end"] = _("Give the last day of the period.")
    for name, day in (("start", start), ("end", end)):
        try:
            if day is not None:
                date_in_range(day)
        except ValidationError as error:
            errors[name] = error.messages[0]
    if start is not None and end is not None and not errors.keys() & {"start", "end"}:
        if end < start:
            errors["end"] = _("The period ends before it starts.")
        elif (end - start).days + 1 > operator.report_max_days:
            errors["end"] = _("The period may be at most %(days)d days long.") % {
                "days": operator.report_max_days
            }
    if movement not in Movement.values:
        errors["movement"] = _("Choose a movement type.")
    if attendant_movement not in AttendantMovement.values:
        errors["attendant_movement"] = _("Choose a movement type for the attendant.")
    if mode not in ModeFilter.values:
        errors["mode"] = _("Choose a mode.")
    attendant = None
    if attendant_id not in (None, ""):
        attendant = (
            Membership.objects.filter(operator=operator, user_id=_int_or_none(attendant_id))
            .values_list("user_id", flat=True)
            .first()
        )
        if attendant is None:
            errors["attendant"] = _("Choose a person of the operator.")
    state_values = _ints(states)
    if state_values is None or not set(state_values) <= set(State.values):
        errors["states"] = _("Choose states from the list.")
    type_values = _ints(type_ids)
    known_types = OccurrenceType.objects.filter(operator=operator, pk__in=type_values or ())
    if type_values is None or known_types.count() != len(set(type_values)):
        errors["types"] = _("Choose occurrence types of the operator.")
    subject_values = _ints(subject_ids)
    known_subjects = Subject.objects.filter(
        occurrence_type__operator=operator, pk__in=subject_values or ()
    )
    if subject_values is None or known_subjects.count() != len(set(subject_values)):
        errors["subjects"] = _("Choose subjects of the operator's occurrence types.")
    if errors:
        raise ValidationError(errors)
    return ReportParams(
        operator_id=operator.pk,
        application_id=application.pk,
        start=start,
        end=end,
        movement=movement,
        include_open_before=bool(include_open_before),
        attendant_id=attendant,
        attendant_movement=attendant_movement,
        states=tuple(sorted(set(state_values))),
        type_ids=tuple(sorted(set(type_values))),
        subject_ids=tuple(sorted(set(subject_values))),
        mode=mode,
    )


def _int_or_none(value: object) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _ints(values: object) -> list[int] | None:
    result = [_int_or_none(v) for v in values or ()]
    if any(v is None for v in result):
        return None
    return result
