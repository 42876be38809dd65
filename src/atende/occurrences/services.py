"""The only way to change an occurrence: the panel, the API, the portal and the call center
all call these functions.

Each operation checks, then does (zulip ``actions``): inside one transaction it locks the
occurrence row, refuses a change made from a stale read (``expected_version``), applies the
configured workflow, updates the row and appends exactly one event. State is derived by
``state_derive`` from status and assignment and never set by hand.
"""

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from validate_docbr import CNPJ, CPF

from atende.catalog.calendars import sla_due
from atende.catalog.formdefs import FieldType, entry_clean
from atende.catalog.models import (
    AttendanceTab,
    Closing,
    OccurrenceType,
    OutcomeReason,
    Status,
    Subject,
)
from atende.catalog.protocols import protocol_issue
from atende.catalog.services import form_current_version
from atende.occurrences.models import (
    Attachment,
    Channel,
    Event,
    EventKind,
    Mode,
    Nature,
    Occurrence,
    ReportCode,
    State,
    TabEntry,
)
from atende.tenancy.models import Application, Membership, Operator, Role, Unit

NOTE_MAX = 5000
OUTCOME_MAX = 10_000


class Conflict(Exception):
    """Someone else changed the occurrence since it was read."""

    def __init__(self, occurrence: Occurrence) -> None:
        self.current_version = occurrence.version
        super().__init__(
            _(
                "Protocol %(protocol)s was changed by someone else in the meantime. "
                "Reload it to see its current state and try again."
            )
            % {"protocol": occurrence.protocol}
        )


class NotAllowed(PermissionDenied):
    """The actor may see the occurrence but not make this change."""


# --- Who acts --------------------------------------------------------------------------


@dataclass(frozen=True)
class Actor:
    """A person of the operator (attendant or supervisor) or an application (the system)."""

    operator_id: int
    role: str
    user: object | None = None
    application: Application | None = None
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_system(self) -> bool:
        return self.user is None

    @property
    def is_supervisor(self) -> bool:
        return self.role == Role.SUPERVISOR or self.is_system

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.full_name or self.user.email
        return ""

    def sees(self, occurrence: Occurrence) -> bool:
        if occurrence.operator_id != self.operator_id:
            return False
        # Members bound to units see their units' queues and the occurrences of no unit.
        return (
            not self.unit_ids or occurrence.unit_id is None or occurrence.unit_id in self.unit_ids
        )


WORKING_ROLES = {Role.ATTENDANT, Role.SUPERVISOR}


def actor_for_user(*, user: object, operator: Operator | int) -> Actor:
    operator_id = operator if isinstance(operator, int) else operator.pk
    membership = (
        Membership.objects.filter(
            user=user, operator_id=operator_id, is_active=True, operator__is_active=True
        )
        .prefetch_related("units")
        .first()
    )
    if membership is None or membership.role not in WORKING_ROLES or not user.is_active:
        raise NotAllowed(_("Only the operator's attendants and supervisors work occurrences."))
    return Actor(
        operator_id=operator_id,
        role=membership.role,
        user=user,
        unit_ids=frozenset(u.pk for u in membership.units.all()),
    )


def actor_for_application(*, application: Application) -> Actor:
    return Actor(operator_id=application.operator_id, role="system", application=application)


# --- Derived state ---------------------------------------------------------------------


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


# --- Creation --------------------------------------------------------------------------


def _identifier_clean(value: str, field_name: str) -> str:
    digits = "".join(ch for ch in (value or "") if ch.isdigit())
    if not value or not value.strip():
        return ""
    if (len(digits) == 11 and CPF().validate(digits)) or (
        len(digits) == 14 and CNPJ().validate(digits)
    ):
        return digits
    raise ValidationError({field_name: _("Invalid CPF or CNPJ: check the digits.")})


def _text_clean(value: str, field_name: str, limit: int, *, required: bool = False) -> str:
    text = (value or "").strip()
    if required and not text:
        raise ValidationError({field_name: _("This field is required.")})
    if len(text) > limit:
        raise ValidationError({field_name: _("At most %(max)d characters.") % {"max": limit}})
    return text


def occurrence_create(
    *,
    actor: Actor,
    application: Application,
    occurrence_type: OccurrenceType,
    channel: str,
    subject: Subject | None = None,
    nature: int = Nature.ATTENDANCE,
    mode: int = Mode.ACTIVE,
    requester_identifier: str = "",
    requester_name: str = "",
    beneficiary_identifier: str = "",
    beneficiary_name: str = "",
    contract_number: str = "",
    description: str = "",
    parent: Occurrence | None = None,
    unit: Unit | None = None,
    manual_protocol: str = "",
    at: datetime | None = None,
) -> Occurrence:
    """Register a contact: the protocol is issued, the default status set, SLA computed."""
    operator_id = actor.operator_id
    if application.operator_id != operator_id or not application.is_active:
        raise ValidationError({"application": _("Choose an active application of the operator.")})
    if occurrence_type.operator_id != operator_id or not occurrence_type.is_active:
        raise ValidationError({"occurrence_type": _("Choose an active occurrence type.")})
    if subject is not None and (
        subject.occurrence_type_id != occurrence_type.pk or not subject.is_active
    ):
        raise ValidationError({"subject": _("Choose an active subject of this occurrence type.")})
    if unit is not None and (unit.operator_id != operator_id or not unit.is_active):
        raise ValidationError({"unit": _("Choose an active unit of the operator.")})
    if parent is not None and not actor.sees(parent):
        raise ValidationError({"parent": _("The parent protocol was not found.")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if nature not in Nature.values or mode not in Mode.values:
        raise ValidationError({"mode": _("Unknown mode or nature.")})
    default = _default_status(occurrence_type)
    at = at or timezone.now()
    operator = occurrence_type.operator
    sla_due_at = None
    if occurrence_type.sla_policy_id is not None:
        sla_due_at = sla_due(
            policy=occurrence_type.sla_policy,
            start=at,
            time_zone=operator.time_zone,
            state=operator.state,
        )
    occurrence = Occurrence(
        operator_id=operator_id,
        application=application,
        protocol_type=occurrence_type.protocol_type,
        parent=parent,
        occurrence_type=occurrence_type,
        subject=subject,
        status=default,
        state=State.NEW,
        mode=mode,
        channel=channel,
        nature=nature,
        requester_identifier=_identifier_clean(requester_identifier, "requester_identifier"),
        requester_name=_text_clean(requester_name, "requester_name", 200),
        beneficiary_identifier=_identifier_clean(beneficiary_identifier, "beneficiary_identifier"),
        beneficiary_name=_text_clean(beneficiary_name, "beneficiary_name", 200),
        contract_number=_text_clean(contract_number, "contract_number", 30),
        description=_text_clean(description, "description", OUTCOME_MAX),
        functionality_id=occurrence_type.functionality_id,
        functionality_description=occurrence_type.functionality_description,
        request_template_id=occurrence_type.request_template_id,
        request_template_description=occurrence_type.request_template_description,
        created_by=actor.user,
        unit=unit,
        registered_at=at,
        updated_at=at,
        sla_due_at=sla_due_at,
    )
    # Everything slow happened above: the sequence row stays locked only for the inserts.
    try:
        with transaction.atomic():
            occurrence.protocol = protocol_issue(
                protocol_type=occurrence_type.protocol_type, at=at, manual_number=manual_protocol
            )
            occurrence.save(force_insert=True)
            _event(
                occurrence,
                actor=actor,
                kind=EventKind.CREATED,
                at=at,
                before=None,
                status_changed=True,
            )
            if parent is not None:
                _change(
                    parent,
                    actor=actor,
                    kind=EventKind.CHILD_CREATED,
                    expected_version=None,
                    at=at,
                    check=None,
                    payload={"child": occurrence.protocol},
                    allow_closed=True,
                )
    except IntegrityError:
        if manual_protocol:
            raise ValidationError({"protocol": _("This protocol number already exists.")}) from None
        raise
    return occurrence


def _default_status(occurrence_type: OccurrenceType) -> Status:
    default = occurrence_type.statuses.filter(is_default=True, is_active=True).first()
    if default is None:
        raise ValidationError(
            {"occurrence_type": _("This occurrence type has no active default status.")}
        )
    return default


# --- The change machinery --------------------------------------------------------------


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
    allow_closed: bool = False,
    reopen: bool = False,
    bump_version: bool = True,
) -> Event:
    """Lock, check against the fresh row, update it and append the event."""
    with transaction.atomic():
        # Lock the bare row first: PostgreSQL's recheck of a locked row that someone else
        # just changed does not combine well with outer joins. The read after the lock
        # sees the latest committed version.
        Occurrence.objects.select_for_update().filter(pk=occurrence.pk).values_list("pk").get()
        current = Occurrence.objects.select_related("status", "occurrence_type", "attendant").get(
            pk=occurrence.pk
        )
        if not actor.sees(current):
            raise Occurrence.DoesNotExist
        if expected_version is not None and current.version != expected_version:
            raise Conflict(current)
        if current.is_closed and not (allow_closed or reopen):
            raise ValidationError(
                _("Protocol %(protocol)s is closed: a supervisor must reopen it first.")
                % {"protocol": current.protocol},
                code="closed",
            )
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
        if unit is not _KEEP:
            current.unit = unit
        default_id = _default_status(current.occurrence_type).pk if status is not None else None
        current.attended = (
            current.attended
            or current.attendant_id is not None
            or (status is not None and status.pk != default_id)
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
        current.save()
    _refresh(occurrence, current)
    return event


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
    return Event.objects.create(
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


# --- Checks ----------------------------------------------------------------------------


def _person_works_it(actor: Actor, occurrence: Occurrence) -> None:
    """A person changes an occurrence only while attending it, or as a supervisor."""
    if actor.is_system or actor.is_supervisor:
        return
    if not occurrence.occurrence_type.allow_attendance:
        raise NotAllowed(_("Occurrences of this type are not attended in the panel."))
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


def _panel_allows(actor: Actor, occurrence: Occurrence) -> None:
    if not actor.is_system and not occurrence.occurrence_type.allow_attendance:
        raise NotAllowed(_("Occurrences of this type are not attended in the panel."))


# --- Lifecycle -------------------------------------------------------------------------


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
        _panel_allows(actor, current)
        if assignee != actor.user and not actor.is_supervisor:
            raise NotAllowed(_("Only a supervisor assigns an occurrence to someone else."))
        if current.attendant_id == assignee.pk:
            raise ValidationError(
                _("This occurrence is already being attended by %(name)s.")
                % {"name": assignee.full_name or assignee.email},
                code="already_assigned",
            )
        if current.attendant_id is not None and not actor.is_supervisor:
            raise NotAllowed(
                _("This occurrence is being attended by %(name)s.")
                % {"name": current.attendant.full_name or current.attendant.email}
            )
        try:
            actor_for_user(user=assignee, operator=current.operator_id)
        except NotAllowed:
            raise ValidationError(
                {"assignee": _("Choose an attendant or supervisor of the operator.")}
            ) from None

    def status_for(current: Occurrence) -> Status | None:
        if not current.status.is_default:
            return None
        return (
            current.occurrence_type.statuses.filter(starts_attendance=True, is_active=True)
            .exclude(pk=current.status_id)
            .first()
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
    at: datetime | None = None,
) -> Event:
    """Send the occurrence to another unit's queue (trâmite); it leaves its attendant."""

    def check(current: Occurrence) -> None:
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
        payload={"unit": unit.name},
    )


def occurrence_add_note(
    *,
    actor: Actor,
    occurrence: Occurrence,
    text: str,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Event:
    text = _text_clean(text, "text", NOTE_MAX, required=True)
    return _change(
        occurrence,
        actor=actor,
        kind=EventKind.NOTE,
        expected_version=expected_version,
        check=None,
        at=at,
        payload={"text": text},
    )


def occurrence_add_attachment(
    *,
    actor: Actor,
    occurrence: Occurrence,
    upload: UploadedFile,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> Attachment:
    name, content_type = attachment_check(upload)
    at = at or timezone.now()
    attachment = Attachment(
        operator_id=occurrence.operator_id,
        occurrence=occurrence,
        token=secrets.token_hex(16),
        name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_by=actor.user,
        uploaded_at=at,
    )

    def check(current: Occurrence) -> None:
        # Stored under the lock, after the checks of _change, in the same transaction.
        attachment.file.save(attachment.token, upload, save=False)
        attachment.save()

    try:
        _change(
            occurrence,
            actor=actor,
            kind=EventKind.ATTACHMENT,
            expected_version=expected_version,
            check=check,
            at=at,
            payload={"attachment": attachment.token, "name": name},
        )
    except BaseException:
        # The row was rolled back; the file must not stay behind without it.
        if attachment.file.name:
            attachment.file.storage.delete(attachment.file.name)
        raise
    return attachment


def attachment_check(upload: UploadedFile) -> tuple[str, str]:
    name = PurePath((upload.name or "").replace("\\", "/")).name.strip()[:200]
    suffix = PurePath(name).suffix.lower()
    allowed = settings.ATTACHMENT_TYPES
    if suffix not in allowed:
        raise ValidationError(
            {
                "file": _("Files of this type are not accepted. Send one of: %(types)s.")
                % {"types": ", ".join(sorted(allowed))}
            }
        )
    if upload.size == 0 or upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file must have content and at most %(mb)d MB.")
                % {"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    return name, allowed[suffix]


def occurrence_fill_tab(
    *,
    actor: Actor,
    occurrence: Occurrence,
    tab: AttendanceTab,
    data: dict,
    expected_version: int | None = None,
    at: datetime | None = None,
) -> TabEntry:
    """Validate an entry against the tab's current form version and store it with it."""
    if tab.occurrence_type_id != occurrence.occurrence_type_id or not tab.is_active:
        raise ValidationError({"tab": _("Choose an active tab of this occurrence type.")})
    version = form_current_version(tab.form)
    cleaned = entry_clean(version.fields, data)
    files = [
        f["key"] for f in version.fields if f["type"] == FieldType.FILE and f["key"] in cleaned
    ]
    at = at or timezone.now()
    entry = TabEntry(
        operator_id=occurrence.operator_id,
        occurrence=occurrence,
        tab=tab,
        form_version=version,
        data=cleaned,
        created_by=actor.user,
        created_at=at,
    )

    def check(current: Occurrence) -> None:
        _person_works_it(actor, current)
        tokens = set(current.attachments.values_list("pk", flat=True))
        missing = {
            key: [_("Attach the file to this occurrence first.")]
            for key in files
            if cleaned[key] not in tokens
        }
        if missing:
            raise ValidationError(missing)
        entry.save()

    _change(
        occurrence,
        actor=actor,
        kind=EventKind.TAB_ENTRY,
        expected_version=expected_version,
        check=check,
        at=at,
        payload={"tab": tab.pk, "form_version": version.number},
    )
    return entry


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
    at: datetime | None = None,
) -> Event:
    """Close with an outcome; every required tab must be filled first."""
    text = _text_clean(outcome_text, "outcome_text", OUTCOME_MAX, required=True)
    url = _text_clean(attachment_url, "attachment_url", 500)
    if url and not url.startswith(("https://", "http://")):
        raise ValidationError({"attachment_url": _("Give a web address (https://…).")})
    if reason is not None and (reason.operator_id != actor.operator_id or not reason.is_active):
        raise ValidationError({"reason": _("Choose an active outcome reason.")})

    def check(current: Occurrence) -> None:
        _panel_allows(actor, current)
        _person_works_it(actor, current)
        _status_of_type(current, status)
        if not status.is_closing:
            raise ValidationError({"status": _("Choose a closing status.")}, code="not_closing")
        missing = occurrence_missing_tabs(current)
        if missing:
            raise ValidationError(
                _("Fill the required tabs before closing: %(tabs)s.")
                % {"tabs": ", ".join(missing)},
                code="tabs_missing",
            )

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
            "resolved": (status.closing == Closing.RESOLVED) if resolved is None else resolved,
        },
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


def occurrence_create_child(
    *,
    actor: Actor,
    parent: Occurrence,
    occurrence_type: OccurrenceType,
    subject: Subject | None = None,
    unit: Unit | None = None,
    description: str = "",
    at: datetime | None = None,
) -> Occurrence:
    """A pendency raised from an occurrence: a new protocol whose origin is the parent,
    carrying the parent's requester and beneficiary."""
    if parent.is_closed:
        raise ValidationError(
            _("Protocol %(protocol)s is closed: a supervisor must reopen it first.")
            % {"protocol": parent.protocol},
            code="closed",
        )
    return occurrence_create(
        actor=actor,
        application=parent.application,
        occurrence_type=occurrence_type,
        subject=subject,
        channel=parent.channel,
        nature=parent.nature,
        mode=Mode.ACTIVE,
        requester_identifier=parent.requester_identifier,
        requester_name=parent.requester_name,
        beneficiary_identifier=parent.beneficiary_identifier,
        beneficiary_name=parent.beneficiary_name,
        contract_number=parent.contract_number,
        description=description,
        parent=parent,
        unit=unit,
        at=at,
    )


# --- SLA -------------------------------------------------------------------------------


def sla_breaches_mark(*, now: datetime | None = None, batch: int = 500) -> int:
    """Mark the open occurrences past their SLA due date; returns how many were marked.

    The mark is an event of the system that does not bump ``version``: an attendant
    working the occurrence is not told someone else changed it.
    """
    now = now or timezone.now()
    marked = 0
    due = (
        Occurrence.objects.filter(
            sla_due_at__lt=now, sla_breached_at__isnull=True, closed_at__isnull=True
        )
        .exclude(state=State.CLOSED)
        .order_by("sla_due_at")
        .values_list("pk", "operator_id")[:batch]
    )
    for pk, operator_id in due:
        occurrence = Occurrence(pk=pk, operator_id=operator_id)
        actor = Actor(operator_id=operator_id, role="system")
        try:
            _change(
                occurrence,
                actor=actor,
                kind=EventKind.SLA_BREACHED,
                expected_version=None,
                check=_mark_breach(now),
                at=now,
                bump_version=False,
            )
        except (_AlreadyMarked, ValidationError, Occurrence.DoesNotExist):
            continue
        marked += 1
    return marked


class _AlreadyMarked(Exception):
    pass


def _mark_breach(now: datetime) -> Callable[[Occurrence], None]:
    def check(current: Occurrence) -> None:
        if current.sla_breached_at is not None or current.sla_due_at is None:
            raise _AlreadyMarked
        current.sla_breached_at = current.sla_due_at

    return check
