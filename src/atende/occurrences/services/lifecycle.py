"""Attendance, status, routing, closing and reopening."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.catalog.models import (
    AttendanceTab,
    Closing,
    OutcomeReason,
    Status,
)
from atende.catalog.snapshots import type_snapshot_any
from atende.occurrences.models import (
    Event,
    EventKind,
    Mode,
    Occurrence,
)
from atende.occurrences.services.actors import Actor, NotAllowed, actor_for_user
from atende.occurrences.services.core import (
    NOTE_MAX,
    OUTCOME_MAX,
    _change,
    _default_status,
    _open_check,
    _panel_allows,
    _person_works_it,
    _status_of_type,
    _status_permitted,
    _text_clean,
    refusal_of,
)
from atende.registrations.rules import orders_on_closing
from atende.tenancy.models import Unit


def occurrence_start_attendance(
    *,
    actor: Actor,
    occurrence: Occurrence,
    expected_version: int | None,
    assignee: object | None = None,
    at: datetime | None = None,
) -> Event:
    """Assign to me, or (supervisor) to someone; the default status moves to the type's
    start-of-attendance status."""
    assignee = assignee or actor.user
    if assignee is None:
        raise ValidationError({"assignee": _("Choose who attends the occurrence.")})

    def check(current: Occurrence) -> None:
        _start_check(actor, current, assignee)

    def status_for(current: Occurrence) -> Status | None:
        if not current.status.is_default:
            return None
        snapshot = type_snapshot_any(operator=current.operator, type_id=current.occurrence_type_id)
        return next(
            (
                s
                for s in snapshot.statuses.values()
                if s.starts_attendance and s.is_active and s.pk != current.status_id
            ),
            None,
        )

    def kind_for(current: Occurrence) -> str:
        if current.attendant_id is None:
            return EventKind.ATTENDANCE_STARTED
        return EventKind.ASSIGNED

    return _change(
        occurrence,
        actor=actor,
        kind=kind_for,
        expected_version=expected_version,
        check=check,
        at=at,
        status=status_for,
        attendant=assignee,
    )


def _start_check(actor: Actor, occurrence: Occurrence, assignee: object) -> None:
    _panel_allows(actor, occurrence)
    if assignee != actor.user and not actor.is_supervisor:
        raise NotAllowed(_("Only a supervisor assigns an occurrence to someone else."))
    if occurrence.attendant_id == assignee.pk:
        raise ValidationError(
            _("You are already attending this occurrence.")
            if assignee == actor.user
            else _("This occurrence is already being attended by %(name)s.")
            % {"name": assignee.full_name or assignee.email},
            code="already_assigned",
        )
    if occurrence.attendant_id is not None and not actor.is_supervisor:
        raise NotAllowed(
            _("This occurrence is being attended by %(name)s.")
            % {"name": occurrence.attendant.full_name or occurrence.attendant.email}
        )
    if assignee == actor.user:
        return  # the actor was made from this person's membership of the operator
    try:
        theirs = actor_for_user(user=assignee, operator=occurrence.operator_id)
    except NotAllowed:
        raise ValidationError(
            {"assignee": _("Choose an attendant or supervisor of the operator.")}
        ) from None
    if not theirs.sees(occurrence):
        raise ValidationError(
            {
                "assignee": _("%(name)s does not work in this occurrence's unit.")
                % {"name": assignee.full_name or assignee.email}
            }
        )


def occurrence_start_refusal(actor: Actor, occurrence: Occurrence) -> str:
    """Why this actor may not start attending the occurrence now ("" when they may)."""
    if actor.user is None:
        return refusal_of(lambda: _open_check(occurrence))
    return refusal_of(
        lambda: _open_check(occurrence, actor),
        lambda: _start_check(actor, occurrence, actor.user),
    )


def occurrence_change_status(
    *,
    actor: Actor,
    occurrence: Occurrence,
    status: Status,
    expected_version: int | None,
    at: datetime | None = None,
) -> Event:
    def check(current: Occurrence) -> None:
        _panel_allows(actor, current)
        _person_works_it(actor, current)
        _status_of_type(current, status)
        _status_permitted(actor, status)
        if status.is_closing:
            raise ValidationError(
                {"status": _("A closing status needs an outcome: close the occurrence instead.")},
                code="needs_outcome",
            )
        if status.pk == current.status_id:
            raise ValidationError(
                {"status": _("The occurrence is already in this status.")}, code="same_status"
            )

    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.STATUS_CHANGED,
        expected_version=expected_version,
        check=check,
        at=at,
        status=status,
    )


def occurrence_release(
    *,
    actor: Actor,
    occurrence: Occurrence,
    expected_version: int | None,
    at: datetime | None = None,
) -> Event:
    """Give the occurrence back to its unit's queue."""

    def check(current: Occurrence) -> None:
        if current.attendant_id is None:
            raise ValidationError(_("This occurrence is already in the queue."), code="in_queue")
        _person_works_it(actor, current)

    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.RELEASED,
        expected_version=expected_version,
        check=check,
        at=at,
        attendant=None,
    )


def occurrence_route(
    *,
    actor: Actor,
    occurrence: Occurrence,
    unit: Unit,
    expected_version: int | None,
    opinion: str = "",
    at: datetime | None = None,
) -> Event:
    """Send the occurrence to another unit's queue (trâmite) with an opinion (parecer,
    required for a registration of seed 004); it leaves its attendant."""
    opinion = _text_clean(opinion, "opinion", NOTE_MAX)

    def check(current: Occurrence) -> None:
        if not opinion and current.occurrence_type.has_place:
            raise ValidationError({"opinion": _("Write the opinion (parecer) of the routing.")})
        if unit.operator_id != current.operator_id or not unit.is_active:
            raise ValidationError({"unit": _("Choose an active unit of the operator.")})
        if unit.pk == current.unit_id:
            raise ValidationError({"unit": _("The occurrence is already in this unit.")})
        if current.attendant_id is not None:
            _person_works_it(actor, current)

    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.ROUTED,
        expected_version=expected_version,
        check=check,
        at=at,
        attendant=None,
        unit=unit,
        payload={"unit": unit.name, **({"opinion": opinion} if opinion else {})},
    )


def occurrence_close(
    *,
    actor: Actor,
    occurrence: Occurrence,
    status: Status,
    outcome_text: str,
    expected_version: int | None,
    reason: OutcomeReason | None = None,
    resolved: bool | None = None,
    attachment_url: str = "",
    duplicate_of: Occurrence | None = None,
    at: datetime | None = None,
) -> Event:
    """Close with an outcome; every required tab must be filled first. Whether the request
    was attended is the closing status's to say (resolved or closed): ``resolved``, when
    given, must agree with it. A reason that marks a duplicate needs the original
    (``duplicate_of``, of the same operator), which the occurrence then links to."""
    text = _text_clean(outcome_text, "outcome_text", OUTCOME_MAX, required=True)
    resolves = status.closing == Closing.RESOLVED
    if resolved is not None and resolved != resolves:
        raise ValidationError(
            {
                "resolved": _(
                    "The status %(status)s closes the request as %(meaning)s: choose a status "
                    "that says what happened."
                )
                % {
                    "status": status.internal_description,
                    "meaning": _("attended") if resolves else _("not attended"),
                }
            },
            code="contradiction",
        )
    url = _text_clean(attachment_url, "attachment_url", 500)
    if url and not url.startswith(("https://", "http://")):
        raise ValidationError({"attachment_url": _("Give a web address (https://…).")})
    if reason is not None and (reason.operator_id != actor.operator_id or not reason.is_active):
        raise ValidationError({"reason": _("Choose an active outcome reason.")})

    at = at or timezone.now()
    # What the closing did beyond itself, filled under the lock (a registration's orders).
    payload: dict = {}
    fields = {}
    if reason is not None and reason.marks_duplicate:
        if duplicate_of is None:
            raise ValidationError(
                {"duplicate_of": _("Give the protocol of the original this one repeats.")}
            )
        if duplicate_of.operator_id != occurrence.operator_id or duplicate_of.pk == occurrence.pk:
            raise ValidationError(
                {"duplicate_of": _("The original must be another protocol of the operator.")}
            )
        fields["duplicate_of"] = duplicate_of
        payload["duplicate_of"] = duplicate_of.protocol
    elif duplicate_of is not None:
        raise ValidationError(
            {"reason": _("Choose the reason that marks a duplicate to name an original.")}
        )

    def check(current: Occurrence) -> None:
        _panel_allows(actor, current)
        _person_works_it(actor, current)
        _status_of_type(current, status)
        _status_permitted(actor, status)
        if not status.is_closing:
            raise ValidationError({"status": _("Choose a closing status.")}, code="not_closing")
        missing = occurrence_missing_tabs(current)
        if missing:
            raise ValidationError(
                _("Fill the required tabs before closing: %(tabs)s.")
                % {"tabs": ", ".join(missing)},
                code="tabs_missing",
            )
        if current.occurrence_type.has_place:
            payload.update(orders_on_closing(current, resolves=resolves, at=at))

    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.CLOSED,
        expected_version=expected_version,
        check=check,
        at=at,
        status=status,
        outcome={
            "text": text,
            "attachment_url": url,
            "reason": reason,
            "resolved": resolves,
        },
        payload=payload,
        fields=fields,
    )


def occurrence_missing_tabs(occurrence: Occurrence) -> list[str]:
    required = AttendanceTab.objects.filter(
        occurrence_type_id=occurrence.occurrence_type_id, required=True, is_active=True
    )
    filled = set(occurrence.tab_entries.values_list("tab_id", flat=True))
    return [tab.name for tab in required if tab.pk not in filled]


def occurrence_reopen(
    *,
    actor: Actor,
    occurrence: Occurrence,
    expected_version: int | None,
    status: Status | None = None,
    reason: str = "",
    at: datetime | None = None,
) -> Event:
    """A supervisor reactivates a closed occurrence: back to Aberto in the same protocol."""
    reason = _text_clean(reason, "reason", NOTE_MAX)
    occurrence_type = occurrence.occurrence_type
    # A status the supervisor chose obeys its permissions; the one reopening picks does not.
    chosen = status is not None
    if status is None:
        status = occurrence_type.statuses.filter(
            starts_attendance=True, is_active=True
        ).first() or _default_status(occurrence_type)

    def check(current: Occurrence) -> None:
        if not actor.is_supervisor:
            raise NotAllowed(_("Only a supervisor reopens an occurrence."))
        if not current.is_closed:
            raise ValidationError(_("Only a closed occurrence can be reopened."), code="not_closed")
        _status_of_type(current, status)
        if chosen:
            _status_permitted(actor, status)
        if status.is_closing:
            raise ValidationError({"status": _("Reopen into a status that does not close.")})

    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.REOPENED,
        expected_version=expected_version,
        check=check,
        at=at,
        status=status,
        attendant=None,
        reopen=True,
        payload={"reason": reason} if reason else None,
    )


# --- The intake queue: drafts promoted or discarded ------------------------------------


def draft_check(current: Occurrence) -> None:
    if current.mode != Mode.DRAFT:
        raise ValidationError(
            _("Request %(protocol)s was already analysed.") % {"protocol": current.protocol},
            code="not_draft",
        )


def occurrence_promote(
    *, actor: Actor, draft: Occurrence, expected_version: int | None, at: datetime | None = None
) -> Event:
    """A draft (a *Básico* self-service request, an integrator's draft) becomes an
    occurrence of the work queues, with its protocol and deadline as they were."""
    return _change(
        draft,
        actor=actor,
        kind=EventKind.PROMOTED,
        expected_version=expected_version,
        check=draft_check,
        fields={"mode": Mode.ACTIVE},
        payload={"summary": _("Promoted from the intake queue.")},
        at=at,
    )


def occurrence_discard(
    *, actor: Actor, draft: Occurrence, reason: str, expected_version: int | None
) -> Event:
    """Not a request to attend (a prank, a repeated one): closed with the reason."""
    text = _text_clean(reason, "reason", OUTCOME_MAX, required=True)
    return draft_close(
        actor, draft, text, expected_version=expected_version, payload={"discarded": True}
    )


def draft_close(
    actor: Actor,
    draft: Occurrence,
    text: str,
    *,
    expected_version: int | None,
    payload: dict,
    fields: dict | None = None,
    at: datetime | None = None,
) -> Event:
    """An analysed draft ends closed without resolution, with ``text`` as its outcome."""
    return _change(
        draft,
        actor=actor,
        kind=EventKind.CLOSED,
        expected_version=expected_version,
        check=draft_check,
        status=_unresolved_status(draft),
        attendant=None,
        outcome={"text": text, "attachment_url": "", "reason": None, "resolved": False},
        payload=payload,
        fields=fields,
        at=at,
    )


def _unresolved_status(occurrence: Occurrence) -> Status:
    """Where an analysed draft ends: the type's status that closes without resolution."""
    snapshot = type_snapshot_any(
        operator=occurrence.operator, type_id=occurrence.occurrence_type_id
    )
    statuses = [] if snapshot is None else [s for s in snapshot.statuses.values() if s.is_active]
    status = next((s for s in statuses if s.closing == Closing.CLOSED), None)
    if status is None:
        raise ValidationError(
            _(
                "The type %(type)s has no status that closes without resolution: the "
                "configurator must create one to discard requests."
            )
            % {"type": occurrence.occurrence_type.name}
        )
    return status
