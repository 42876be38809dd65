"""The change machinery every operation goes through: lock, check, update, append one event."""

from collections.abc import Callable
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from validate_docbr import CNPJ, CPF

from atende.catalog.models import (
    Closing,
    OccurrenceType,
    Status,
)
from atende.catalog.snapshots import TypeSnapshot, type_snapshot_any
from atende.core.db import row_insert, row_locked, row_update
from atende.notifications.services import actions_enqueue
from atende.occurrences.models import (
    Event,
    EventKind,
    Mode,
    Occurrence,
    ReportCode,
    State,
)
from atende.occurrences.services.actors import Actor, Conflict, NotAllowed
from atende.tenancy.models import Operator, Role, Unit
from atende.tenancy.validators import only_digits, phone_parse

NOTE_MAX = 5000


OUTCOME_MAX = 10_000


def state_derive(*, status: Status, attendant_id: int | None, attended: bool) -> State:
    """The SPEC's table, checked in order."""
    if status.closing != Closing.NONE:
        return State.CLOSED
    if attendant_id is not None:
        return State.IN_ATTENDANCE
    if not attended:
        return State.NEW
    return State.OPEN


def report_code_for(*, kind: str, status_changed: bool, state_before: int, state_after: int) -> str:
    if kind == EventKind.CREATED:
        return ReportCode.CREATED
    if state_after == State.CLOSED and state_before != State.CLOSED:
        return ReportCode.CLOSED
    if status_changed or state_before != state_after:
        return ReportCode.CHANGED
    return ReportCode.NONE


def _identifier_clean(value: str, field_name: str) -> str:
    digits = only_digits(value)
    if not value or not value.strip():
        return ""
    if (len(digits) == 11 and CPF().validate(digits)) or (
        len(digits) == 14 and CNPJ().validate(digits)
    ):
        return digits
    raise ValidationError({field_name: _("Invalid CPF or CNPJ: check the digits.")})


def _email_clean(value: str, field_name: str) -> str:
    address = (value or "").strip()
    if not address:
        return ""
    try:
        if len(address) > 254:
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError:
        raise ValidationError({field_name: _("Enter a valid e-mail address.")}) from None
    return address


def _phone_clean(value: str, field_name: str) -> str:
    """A Brazilian or international number, stored in E.164 (+5581999990000)."""
    text = (value or "").strip()
    if not text:
        return ""
    number = phone_parse(text)
    if number is None:
        raise ValidationError({field_name: _("Invalid phone number: include the area code (DDD).")})
    return number


def _text_clean(value: str, field_name: str, limit: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field_name: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({field_name: _("At most %(max)d characters.") % {"max": limit}})
    return text


def _default_status(occurrence_type: OccurrenceType) -> Status:
    default = occurrence_type.statuses.filter(is_default=True, is_active=True).first()
    if default is None:
        raise ValidationError(
            {"occurrence_type": _("This occurrence type has no active default status.")}
        )
    return default


_KEEP = object()


def _change(
    occurrence: Occurrence,
    *,
    actor: Actor,
    kind: str | Callable[[Occurrence], str],
    expected_version: int | None,
    check: Callable[[Occurrence], None] | None,
    at: datetime | None = None,
    status: Status | Callable[[Occurrence], Status | None] | None = None,
    attendant: object = _KEEP,
    unit: object = _KEEP,
    outcome: dict | None = None,
    payload: dict | None = None,
    fields: dict | None = None,
    allow_closed: bool = False,
    reopen: bool = False,
    bump_version: bool = True,
) -> Event:
    """Lock, check against the fresh row, update it and append the event. ``fields`` are
    other columns the change sets (by attribute name), checked by the caller."""
    with transaction.atomic():
        current = row_locked(Occurrence, occurrence.pk)
        if current is None or not actor.sees(current):
            raise Occurrence.DoesNotExist
        snapshot = occurrence_relate(current, actor=actor)
        if expected_version is not None and current.version != expected_version:
            raise Conflict(current)
        if not (allow_closed or reopen):
            _open_check(current)
        if check is not None:
            check(current)
        if callable(kind):
            kind = kind(current)
        if callable(status):
            status = status(current)
        before_status, before_state = current.status, current.state
        before_attendant, before_unit = current.attendant_id, current.unit_id
        at = at or timezone.now()
        if status is not None:
            current.status = status
        if attendant is not _KEEP:
            current.attendant = attendant
        for name, value in (fields or {}).items():
            setattr(current, name, value)
        if unit is not _KEEP:
            current.unit = unit
        current.attended = (
            current.attended
            or current.attendant_id is not None
            or (status is not None and not status.is_default)
            or reopen
        )
        current.state = state_derive(
            status=current.status, attendant_id=current.attendant_id, attended=current.attended
        )
        if reopen:
            current.closed_at = None
            current.outcome_text = ""
            current.outcome_attachment_url = ""
            current.outcome_reason = None
            current.resolved = None
        if outcome is not None:
            current.closed_at = at
            current.outcome_text = outcome["text"]
            current.outcome_attachment_url = outcome["attachment_url"]
            current.outcome_reason = outcome["reason"]
            current.resolved = outcome["resolved"]
            # The closing is the operator's answer: nothing waits for one any more.
            current.awaiting_since = None
        if bump_version:
            current.version += 1
            current.updated_at = at
        event = _event(
            current,
            actor=actor,
            kind=kind,
            at=at,
            before=(before_status, before_state, before_attendant, before_unit),
            status_changed=status is not None and status.pk != before_status.pk,
            outcome=outcome,
            payload=payload,
        )
        row_update(current)
        if status is not None and status.pk != before_status.pk:
            # The actions from the catalog snapshot the request read: no query.
            actions_enqueue(
                occurrence=current, event=event, actions=snapshot.actions.get(status.pk, [])
            )
    _refresh(occurrence, current)
    return event


def occurrence_relate(occurrence: Occurrence, *, actor: Actor) -> TypeSnapshot:
    """Attach to an occurrence read alone the related rows this request already holds: its
    operator (the actor's), its type, protocol type, status and subject from the catalog
    snapshot, and the acting person or application. Others (unit, attendant, parent)
    are read when used. Returns the type's snapshot."""
    operator = actor.operator
    if operator is None or operator.pk != occurrence.operator_id:
        operator = Operator.objects.get(pk=occurrence.operator_id)
    occurrence.operator = operator
    snapshot = type_snapshot_any(operator=operator, type_id=occurrence.occurrence_type_id)
    kind = snapshot.occurrence_type
    occurrence.occurrence_type = kind
    if kind.protocol_type_id == occurrence.protocol_type_id:
        occurrence.protocol_type = kind.protocol_type
    for name, known in (("status", snapshot.statuses), ("subject", snapshot.subjects)):
        related = known.get(getattr(occurrence, f"{name}_id"))
        if related is not None:
            setattr(occurrence, name, related)
    if actor.application is not None and actor.application.pk == occurrence.application_id:
        occurrence.application = actor.application
    if actor.user is not None and actor.user.pk == occurrence.attendant_id:
        occurrence.attendant = actor.user
    return snapshot


def _event(
    occurrence: Occurrence,
    *,
    actor: Actor,
    kind: str,
    at: datetime,
    before: tuple | None,
    status_changed: bool,
    outcome: dict | None = None,
    payload: dict | None = None,
) -> Event:
    if before is None:
        status_before, state_before, attendant_before, unit_before = None, None, None, None
        seq = 1
    else:
        status_before, state_before, attendant_before, unit_before = before
        occurrence.last_seq += 1
        seq = occurrence.last_seq
    status = occurrence.status
    outcome = outcome or {}
    reason = outcome.get("reason")
    event = Event(
        operator_id=occurrence.operator_id,
        occurrence=occurrence,
        seq=seq,
        kind=kind,
        report_code=report_code_for(
            kind=kind,
            status_changed=status_changed,
            state_before=state_before or occurrence.state,
            state_after=occurrence.state,
        ),
        at=at,
        actor=actor.user,
        actor_name=actor.name,
        actor_application=actor.application,
        status_before=status_before,
        status_before_description=status_before.internal_description if status_before else "",
        status_after=status,
        status_after_description=status.internal_description,
        state_before=state_before,
        state_after=occurrence.state,
        attendant_before_id=attendant_before,
        attendant_after_id=occurrence.attendant_id,
        unit_before_id=unit_before,
        unit_after_id=occurrence.unit_id,
        shows_occurrence=occurrence.mode == Mode.ACTIVE,
        visible_in_history=status.visible_in_history and kind in VISIBLE_KINDS,
        outcome_text=outcome.get("text", ""),
        outcome_attachment_url=outcome.get("attachment_url", ""),
        outcome_reason=reason,
        outcome_reason_description=reason.description if reason else "",
        resolved=outcome.get("resolved"),
        payload=payload or {},
    )
    row_insert(event)
    return event


# Events a beneficiary may see in their history (when the status allows it); notes,
# routing and attachments are the operator's internal work.
VISIBLE_KINDS = {
    EventKind.CREATED,
    EventKind.ATTENDANCE_STARTED,
    EventKind.STATUS_CHANGED,
    EventKind.CLOSED,
    EventKind.REOPENED,
}


def _refresh(target: Occurrence, source: Occurrence) -> None:
    """The caller's object becomes the stored occurrence. Related objects it had loaded
    stay (every relation a change touches is set on ``source`` as an object)."""
    for f in Occurrence._meta.concrete_fields:
        setattr(target, f.attname, getattr(source, f.attname))
    target._state.fields_cache = {**target._state.fields_cache, **source._state.fields_cache}


def _open_check(occurrence: Occurrence, actor: Actor | None = None) -> None:
    if occurrence.is_closed:
        # Said to a supervisor, who reopens it, as something they can do.
        message = (
            _("Protocol %(protocol)s is closed: reopen it to work on it again.")
            if actor is not None and actor.is_supervisor
            else _("Protocol %(protocol)s is closed: a supervisor must reopen it first.")
        )
        raise ValidationError(message % {"protocol": occurrence.protocol}, code="closed")


def refusal_of(*checks: Callable[[], None]) -> str:
    """The first reason these checks give to refuse ("" when none does): the services'
    own checks, read for a page that offers an action or explains why it does not."""
    for check in checks:
        try:
            check()
        except (NotAllowed, ValidationError) as refusal:
            return " ".join(getattr(refusal, "messages", None) or [str(refusal)])
    return ""


def occurrence_work_refusal(actor: Actor, occurrence: Occurrence) -> str:
    """Why this actor may not change the occurrence now ("" when they may)."""
    return refusal_of(
        lambda: _open_check(occurrence, actor),
        lambda: _panel_allows(actor, occurrence),
        lambda: _person_works_it(actor, occurrence),
    )


def _person_works_it(actor: Actor, occurrence: Occurrence) -> None:
    """A person changes an occurrence only while attending it, or as a supervisor."""
    if actor.is_system or actor.is_supervisor:
        return
    if occurrence.attendant_id is None:
        raise NotAllowed(_("Start the attendance of this occurrence first."))
    if occurrence.attendant_id != actor.user.pk:
        raise NotAllowed(
            _("This occurrence is being attended by %(name)s.")
            % {"name": occurrence.attendant.full_name or occurrence.attendant.email}
        )


def _status_of_type(occurrence: Occurrence, status: Status) -> None:
    if status.occurrence_type_id != occurrence.occurrence_type_id or not status.is_active:
        raise ValidationError(
            {"status": _("Choose an active status of this occurrence type.")}, code="bad_status"
        )


def status_permitted(actor: Actor, status: Status) -> bool:
    """Whether ``actor`` may set ``status``: anyone who works the occurrence, unless the
    configurator limited it to some roles or to the members of some units (an
    application acts as the system, as for every other change)."""
    if actor.is_system:
        return True
    return (not status.allowed_roles or actor.role in status.allowed_roles) and (
        not status.allowed_units or not actor.unit_ids.isdisjoint(status.allowed_units)
    )


def _status_permitted(actor: Actor, status: Status) -> None:
    if status_permitted(actor, status):
        return
    who = [", ".join(str(Role(role).label).lower() for role in status.allowed_roles)]
    if status.allowed_units:
        names = Unit.objects.filter(pk__in=status.allowed_units).order_by("name")
        who.append(_("members of %(units)s") % {"units": ", ".join(u.name for u in names)})
    raise NotAllowed(
        _("The status %(status)s is set only by: %(roles)s.")
        % {"status": status.internal_description, "roles": "; ".join(w for w in who if w)}
    )


def _panel_allows(actor: Actor, occurrence: Occurrence) -> None:
    if not actor.is_system and not occurrence.occurrence_type.allow_attendance:
        raise NotAllowed(_("Occurrences of this type are not attended in the panel."))
