"""Registering contacts: the protocol is issued as the first act."""

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.catalog.formdefs import entry_clean
from atende.catalog.models import (
    OccurrenceType,
    ProtocolScheme,
    Subject,
    ViewMode,
)
from atende.catalog.protocols import protocol_issue_into, protocol_manual_clean
from atende.catalog.snapshots import type_snapshot
from atende.core.db import row_insert
from atende.notifications.services import actions_enqueue
from atende.occurrences.models import (
    Channel,
    CreationKey,
    Event,
    EventKind,
    Mode,
    Nature,
    Occurrence,
    State,
    TabEntry,
)
from atende.occurrences.services.actors import Actor, NotAllowed
from atende.occurrences.services.core import (
    OUTCOME_MAX,
    _change,
    _email_clean,
    _event,
    _identifier_clean,
    _open_check,
    _phone_clean,
    _text_clean,
)
from atende.tenancy.models import Application, Unit


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
    contact_email: str = "",
    contact_phone: str = "",
    description: str = "",
    parent: Occurrence | None = None,
    parent_check: Callable[[Occurrence], None] | None = None,
    parent_version: int | None = None,
    unit: Unit | None = None,
    manual_protocol: str = "",
    reserved_protocol: str = "",
    place_follows: bool = False,
    opening_form: dict | None = None,
    at: datetime | None = None,
) -> Occurrence:
    """Register a contact: the protocol is issued, the default status set, SLA computed.
    ``reserved_protocol`` is a number taken from the type's sequence beforehand (a block
    for paper forms), checked by the caller; it is used instead of issuing one.

    Opened by an application (the beneficiary's portal or app, an integrator), the type's
    view mode has its effect (seed 001): a *Básico* type's request arrives as a draft for
    the intake queue; a *Solicitações* type with a tab filled at opening requires
    ``opening_form``, its answers, validated against the tab's form and kept as its first
    entry."""
    operator_id = actor.operator_id
    if application.operator_id != operator_id or not application.is_active:
        raise ValidationError({"application": _("Choose an active application of the operator.")})
    # The catalog as committed now (the snapshot), not as the caller's objects say.
    snapshot = type_snapshot(operator=application.operator, type_id=occurrence_type.pk)
    if snapshot is None:
        raise ValidationError({"occurrence_type": _("Choose an active occurrence type.")})
    if snapshot.occurrence_type.has_place and not place_follows:
        # Every registration has its place and requesters: only their service opens one
        # (``registrations.services``, which says ``place_follows``).
        raise ValidationError(
            {
                "occurrence_type": _(
                    "Registrations of this type are opened with their place and requesters: "
                    "Inserir RA, or POST /api/v1/registrations."
                )
            }
        )
    if subject is not None and subject.pk not in snapshot.subjects:
        raise ValidationError({"subject": _("Choose an active subject of this occurrence type.")})
    if unit is not None and (unit.operator_id != operator_id or not unit.is_active):
        raise ValidationError({"unit": _("Choose an active unit of the operator.")})
    if parent is not None and not actor.sees(parent):
        raise ValidationError({"parent": _("The parent protocol was not found.")})
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    if nature not in Nature.values or mode not in Mode.values:
        raise ValidationError({"mode": _("Unknown mode or nature.")})
    if snapshot.default_status is None:
        raise ValidationError(
            {"occurrence_type": _("This occurrence type has no active default status.")}
        )
    view_mode = snapshot.occurrence_type.view_mode
    if actor.is_system and view_mode == ViewMode.BASIC:
        mode = Mode.DRAFT
    opening = None
    if actor.is_system and view_mode == ViewMode.REQUESTS and snapshot.opening_tab is not None:
        try:
            opening = entry_clean(snapshot.opening_version.fields, opening_form or {})
        except ValidationError as error:
            raise ValidationError(
                {
                    f"form.{key}" if key else "form": messages
                    for key, messages in _by_field(error).items()
                }
            ) from None
    default = snapshot.default_status
    at = at or timezone.now()
    due = snapshot.due_for(subject.pk if subject is not None else None)
    sla_due_at = due(at) if due is not None else None
    if unit is None and subject is not None and mode == Mode.ACTIVE:
        # A specification's responsible unit, when the caller chose none (a draft waits
        # in the intake queue, in no unit's).
        default_unit = snapshot.subjects[subject.pk].default_unit
        unit = default_unit if default_unit is not None and default_unit.is_active else None
    occurrence = Occurrence(
        operator=application.operator,  # read with the application (its messages' clock)
        application=application,
        protocol_type=snapshot.occurrence_type.protocol_type,
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
        contact_email=_email_clean(contact_email, "contact_email"),
        contact_phone=_phone_clean(contact_phone, "contact_phone"),
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
    # From the snapshot: made from the operator read in this request.
    protocol_type = snapshot.occurrence_type.protocol_type
    try:
        with transaction.atomic():
            if reserved_protocol:
                occurrence.protocol = reserved_protocol
            elif protocol_type.scheme == ProtocolScheme.MANUAL:
                occurrence.protocol = protocol_manual_clean(manual_protocol)
            else:
                # A unique placeholder until the number is issued, last, below.
                occurrence.protocol = f"~{secrets.token_hex(8)}"
            row_insert(occurrence)
            created = _event(
                occurrence,
                actor=actor,
                kind=EventKind.CREATED,
                at=at,
                before=None,
                status_changed=True,
            )
            if protocol_type.scheme != ProtocolScheme.MANUAL and not reserved_protocol:
                # The sequence row stays locked from here to the commit: only this number,
                # written into the row in the same statement, and the actions' rows happen
                # under the lock, whatever else creation does.
                occurrence.protocol = protocol_issue_into(
                    protocol_type=protocol_type,
                    at=at,
                    table=Occurrence._meta.db_table,
                    pk=occurrence.pk,
                )
            actions_enqueue(
                occurrence=occurrence,
                event=created,
                actions=snapshot.actions.get(default.pk, []),
            )
            if opening is not None:
                TabEntry.objects.create(
                    operator_id=operator_id,
                    occurrence=occurrence,
                    tab=snapshot.opening_tab,
                    form_version=snapshot.opening_version,
                    data=opening,
                    created_by=actor.user,
                    created_at=at,
                )
            if parent is not None:
                # The parent is checked under its lock, in the same transaction: a refusal
                # there undoes the creation and its protocol number.
                _change(
                    parent,
                    actor=actor,
                    kind=EventKind.CHILD_CREATED,
                    expected_version=parent_version,
                    at=at,
                    check=parent_check,
                    payload={"child": occurrence.protocol},
                    allow_closed=True,
                )
    except IntegrityError:
        if manual_protocol or reserved_protocol:
            raise ValidationError({"protocol": _("This protocol number already exists.")}) from None
        raise
    return occurrence


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

    def open_parent(current: Occurrence) -> None:
        _open_check(current)

    return _follow_up(
        actor=actor,
        parent=parent,
        occurrence_type=occurrence_type,
        subject=subject,
        unit=unit,
        description=description,
        parent_check=open_parent,
        parent_version=None,
        at=at,
    )


def occurrence_reopen_as_new(
    *,
    actor: Actor,
    occurrence: Occurrence,
    expected_version: int | None,
    reason: str = "",
    place_follows: bool = False,
    at: datetime | None = None,
) -> Occurrence:
    """Reactivation GSAN style: a new occurrence (new protocol, state Novo) whose origin
    protocol is the closed one, which stays closed."""

    def closed_and_supervised(current: Occurrence) -> None:
        if not actor.is_supervisor:
            raise NotAllowed(_("Only a supervisor reopens an occurrence."))
        if not current.is_closed:
            raise ValidationError(_("Only a closed occurrence can be reopened."), code="not_closed")

    return _follow_up(
        actor=actor,
        parent=occurrence,
        occurrence_type=occurrence.occurrence_type,
        subject=occurrence.subject,
        unit=occurrence.unit,
        description=_text_clean(reason, "reason", OUTCOME_MAX) or occurrence.description,
        parent_check=closed_and_supervised,
        parent_version=expected_version,
        place_follows=place_follows,
        at=at,
    )


def _follow_up(
    *,
    actor: Actor,
    parent: Occurrence,
    occurrence_type: OccurrenceType,
    subject: Subject | None,
    unit: Unit | None,
    description: str,
    parent_check: Callable[[Occurrence], None],
    parent_version: int | None,
    at: datetime | None,
    place_follows: bool = False,
) -> Occurrence:
    """A new occurrence that continues ``parent``, for the same requester and beneficiary."""
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
        contact_email=parent.contact_email,
        contact_phone=parent.contact_phone,
        description=description,
        parent=parent,
        parent_check=parent_check,
        parent_version=parent_version,
        unit=unit,
        place_follows=place_follows,
        at=at,
    )


def _by_field(error: ValidationError) -> dict[str, list[str]]:
    return error.message_dict if hasattr(error, "error_dict") else {"": error.messages}


# --- A creation asked twice ---------------------------------------------------------------

# How long a key finds what it created, at least (the worker forgets older keys every
# hour): an integrator retries within minutes, a second click within seconds.
CREATION_KEY_KEPT = timedelta(hours=24)


@dataclass(frozen=True)
class Submission:
    """A creation request that may arrive twice: who sent it (``CreationKey.issuer``), the
    key it carries and, for the API, a digest of what it asked."""

    issuer: str
    key: str
    digest: str = ""


def issuer_of(sender: Model) -> str:
    """``CreationKey.issuer`` for who sends: a person, a portal login, an API token."""
    return f"{sender._meta.model_name}:{sender.pk}"


class SubmissionReused(Exception):
    """The key was already used by this sender for a different request."""

    def __init__(self) -> None:
        super().__init__(
            _(
                "This Idempotency-Key was already used for a different request. "
                "Send a new key for a new request."
            )
        )


def submitted(submission: Submission | None) -> Occurrence | None:
    """The occurrence this submission already created or wrote to, if it did and its key is
    still kept; ``SubmissionReused`` when the key came with another request."""
    found = _key_of(submission)
    return None if found is None else found.occurrence


def _key_of(submission: Submission | None) -> CreationKey | None:
    if submission is None:
        return None
    found = (
        CreationKey.objects.filter(issuer=submission.issuer, key=submission.key)
        .select_related("occurrence", "event")
        .first()
    )
    if found is None:
        return None
    if found.digest and submission.digest and found.digest != submission.digest:
        raise SubmissionReused
    return found


def _once(
    submission: Submission, run: Callable[[], tuple[Occurrence, Event | None]]
) -> tuple[CreationKey, bool]:
    """``run`` unless the submission already ran: its key (the new one, or the earlier)
    and whether it was earlier.

    The key is written in the run's transaction. Two copies sent at once both get past the
    first look; the second to write its key is refused by the key's uniqueness, and all it
    wrote rolls back (a protocol number too) to answer with the first's."""
    earlier = _key_of(submission)
    if earlier is not None:
        return earlier, True
    try:
        with transaction.atomic():
            occurrence, event = run()
            key = CreationKey.objects.create(
                operator_id=occurrence.operator_id,
                issuer=submission.issuer,
                key=submission.key,
                digest=submission.digest,
                occurrence=occurrence,
                event=event,
                created_at=timezone.now(),
            )
    except IntegrityError:
        earlier = _key_of(submission)
        if earlier is None:
            raise
        return earlier, True
    return key, False


def created_once(
    submission: Submission | None, create: Callable[[], Occurrence]
) -> tuple[Occurrence, bool]:
    """Run ``create`` (one of the creation services) unless the submission already created
    an occurrence; returns it and whether it was found rather than created."""
    if submission is None:
        return create(), False
    key, earlier = _once(submission, lambda: (create(), None))
    return key.occurrence, earlier


def done_once(
    submission: Submission | None, occurrence: Occurrence, act: Callable[[], Event]
) -> tuple[Event, bool]:
    """Run ``act``, a change that adds an event to ``occurrence`` (a message to or from the
    beneficiary), unless the submission already did; returns the event (the earlier one
    when it had) and whether it ran now."""
    if submission is None:
        return act(), True
    key, earlier = _once(submission, lambda: (occurrence, act()))
    return key.event, not earlier


def creation_keys_forget() -> int:
    """Remove the keys older than ``CREATION_KEY_KEPT``; returns how many."""
    cutoff = timezone.now() - CREATION_KEY_KEPT
    return CreationKey.objects.filter(created_at__lt=cutoff).delete()[0]
