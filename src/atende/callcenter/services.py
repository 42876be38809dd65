"""The call center's operations. Every occurrence is created and changed through the
occurrence services; a contact only groups them and records what happened during it.

A contact is changed under a lock on its row, so two tabs (or the idle sweep and the
attendant) never finish and abandon the same call at once."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

import httpx
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.beneficiaries.critiques import request_check
from atende.beneficiaries.models import Beneficiary, ContactKind, Guide, ProcedureGroup
from atende.beneficiaries.services import beneficiary_contacts_set
from atende.callcenter.models import (
    CRITIQUE_CHECKED,
    Call,
    CallCenterSettings,
    Contact,
    ContactEntry,
    ContactOccurrence,
    EntryKind,
    Service,
    TissGuideKind,
)
from atende.catalog.models import (
    Classification,
    ClassificationLevel,
    Closing,
    Level,
    OccurrenceType,
    Scale,
    Status,
    Subject,
)
from atende.core.db import PreparedRead, row_locked
from atende.notifications.models import Channel as DeliveryChannel
from atende.notifications.models import Delivery, Purpose
from atende.notifications.outbound import OutboundRefused, outbound_request, url_check
from atende.notifications.services import delivery_enqueue, sender_for
from atende.occurrences.models import Channel, EventKind, Occurrence
from atende.occurrences.services import (
    Actor,
    NotAllowed,
    Submission,
    actor_among,
    actor_for_application,
    actor_for_user,
    actors_for_user,
    attachment_check,
    created_once,
    occurrence_add_attachment,
    occurrence_close,
    occurrence_create,
    occurrence_create_child,
    occurrence_start_attendance,
)
from atende.occurrences.services.core import _change, _email_clean, _text_clean
from atende.portal.models import BeneficiaryLogin
from atende.tenancy.models import Application, Membership, Operator, Role
from atende.tenancy.timezones import operator_clock
from atende.tenancy.validators import only_digits, phone_parse

DESCRIPTION_MAX = 10_000
OBSERVATION_MAX = 2_000
GUIDES_MAX = 20
ABANDONED_TEXT = "Atendimento abandonado: a ligação caiu ou o beneficiário desistiu."
CONCLUDED_TEXT = "Atendimento concluído na ligação."


# Read by every contact started: compiled once.
_settings_read = PreparedRead(
    lambda operator_id: CallCenterSettings.objects.filter(operator_id=operator_id).select_related(
        "application__operator", "occurrence_type"
    ),
    -101,
)


def settings_of(operator_id: int) -> CallCenterSettings:
    found = next(iter(_settings_read(operator_id)), None)
    if found is None:
        raise ValidationError(
            _("The call center of this operator is not configured yet: ask a supervisor."),
            code="not_configured",
        )
    return found


def settings_check(*, operator_id: int, occurrence_type: OccurrenceType) -> None:
    """The manifestations' type must be able to end a call both ways."""
    if occurrence_type.operator_id != operator_id or not occurrence_type.is_active:
        raise ValidationError({"occurrence_type": _("Choose an active occurrence type.")})
    for closing, label in ((Closing.RESOLVED, _("resolved")), (Closing.CLOSED, _("not resolved"))):
        if _closing_status(occurrence_type.pk, closing) is None:
            raise ValidationError(
                {
                    "occurrence_type": _(
                        "This type needs an active status that closes as %(closing)s."
                    )
                    % {"closing": label}
                }
            )


def _closing_status(type_id: int, closing: str) -> Status | None:
    return (
        Status.objects.filter(occurrence_type_id=type_id, closing=closing, is_active=True)
        .order_by("id")
        .first()
    )


def _entry(
    contact: Contact,
    *,
    user: object | None,
    kind: str,
    text: str,
    at: datetime,
    login: BeneficiaryLogin | None = None,
) -> None:
    ContactEntry.objects.create(
        operator_id=contact.operator_id,
        contact=contact,
        at=at,
        actor=user,
        kind=kind,
        text=text[:1000],
        login=login,
    )


# ---- starting a contact -------------------------------------------------------------------


def contact_start(
    *,
    user: object,
    attendant_operator_id: int,
    operator_id: int,
    card: str,
    channel: str = Channel.PHONE,
    call: Call | None = None,
    at: datetime | None = None,
    actors: list[Actor] | None = None,
    submission: Submission | None = None,
) -> Contact:
    """Register a call with a beneficiary: the contact and its first protocol, attended
    by the person who started it, in one transaction. ``actors`` are the user's, when the
    caller read them already in this request. The same ``submission`` sent again (a form
    sent twice) answers the contact it started."""
    actors = actors_for_user(user=user) if actors is None else actors
    actor = actor_among(actors, operator_id=operator_id)
    actor_among(actors, operator_id=attendant_operator_id)
    config = settings_of(operator_id)
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    beneficiary = (
        Beneficiary.objects.filter(operator_id=operator_id, card=(card or "").strip())
        .prefetch_related("contacts")
        .first()
    )
    if beneficiary is None:
        raise ValidationError({"card": _("No beneficiary of this operator has this card.")})
    if call is not None and (call.operator_id != operator_id or call.attendant_id != user.pk):
        raise ValidationError({"call": _("This call was announced to someone else.")})
    at = at or timezone.now()
    started = []

    def start() -> Occurrence:
        with transaction.atomic():
            if call is not None and Contact.objects.filter(call=call).exists():
                raise ValidationError({"call": _("This call is already registered.")})
            contact = Contact.objects.create(
                operator_id=operator_id,
                attendant_operator_id=attendant_operator_id,
                attendant=user,
                beneficiary=beneficiary,
                channel=channel,
                ivr_code=call.ivr_code if call else "",
                call=call,
                started_at=at,
                last_activity_at=at,
            )
            started.append(contact)
            return _protocol_issue(contact, actor=actor, config=config, at=at)

    first, replayed = created_once(submission, start)
    if replayed:
        return ContactOccurrence.objects.select_related("contact").get(occurrence=first).contact
    return started[-1]


def _protocol_issue(
    contact: Contact, *, actor: Actor, config: CallCenterSettings, at: datetime
) -> Occurrence:
    beneficiary = contact.beneficiary
    main = {}
    for item in beneficiary.contacts.all():
        main.setdefault(item.kind, item.value)
    occurrence = occurrence_create(
        actor=actor,
        application=config.application,
        occurrence_type=config.occurrence_type,
        channel=contact.channel,
        requester_identifier=beneficiary.cpf,
        requester_name=beneficiary.social_name or beneficiary.name,
        beneficiary_identifier=beneficiary.cpf,
        beneficiary_name=beneficiary.social_name or beneficiary.name,
        contract_number=beneficiary.contract_number,
        contact_email=main.get(ContactKind.EMAIL, ""),
        contact_phone=main.get(ContactKind.PHONE, ""),
        at=at,
    )
    occurrence_start_attendance(actor=actor, occurrence=occurrence, expected_version=None, at=at)
    ContactOccurrence.objects.create(contact=contact, occurrence=occurrence)
    return occurrence


# ---- working a contact --------------------------------------------------------------------


@dataclass(frozen=True)
class Working:
    """A contact locked for a change, with the actor changing its occurrences."""

    contact: Contact
    actor: Actor
    at: datetime


class _Locked:
    """``with _Locked(user, contact) as work:`` — the contact's row locked in a
    transaction, checked to be still in attendance and the user's to change."""

    def __init__(self, user: object, contact: Contact, *, actor: Actor | None = None) -> None:
        self.user, self.contact, self.actor = user, contact, actor
        self.atomic = transaction.atomic()

    def __enter__(self) -> Working:
        self.atomic.__enter__()
        try:
            current = row_locked(Contact, self.contact.pk)
            if current is None:
                raise Contact.DoesNotExist
            actor = self.actor or contact_actor(self.user, current)
            if current.abandoned_at is not None:
                raise ValidationError(_("This attendance was abandoned."), code="abandoned")
            if current.finished_at is not None:
                raise ValidationError(_("This attendance is already finished."), code="finished")
            at = timezone.now()
            return Working(contact=current, actor=actor, at=at)
        except BaseException as error:
            self.atomic.__exit__(type(error), error, error.__traceback__)
            raise

    def __exit__(self, kind, error, trace) -> bool | None:
        if error is None:
            Contact.objects.filter(pk=self.contact.pk).update(last_activity_at=timezone.now())
        return self.atomic.__exit__(kind, error, trace)


def contact_actor(user: object, contact: Contact) -> Actor:
    """The contact's attendant, or a supervisor of its operator, acting on its protocols."""
    actor = actor_for_user(user=user, operator=contact.operator_id)
    if not contact.worked_by(actor):
        raise NotAllowed(_("This attendance belongs to another attendant."))
    return actor


def _item(contact: Contact, occurrence_id: int) -> Occurrence:
    """One of the contact's manifestations (not a pendency)."""
    link = (
        ContactOccurrence.objects.filter(
            contact=contact, occurrence_id=occurrence_id, is_pendency=False
        )
        .select_related("occurrence")
        .first()
    )
    if link is None:
        raise ValidationError(_("This protocol is not part of this attendance."), code="foreign")
    return link.occurrence


def _level(operator_id: int, scale: str, pk: object, field: str) -> Level:
    level = Level.objects.filter(
        operator_id=operator_id, scale=scale, is_active=True, pk=pk
    ).first()
    if level is None:
        raise ValidationError({field: _("Choose one of the listed options.")})
    return level


def _classification(operator_id: int, pk: object) -> Classification:
    found = (
        Classification.objects.filter(
            operator_id=operator_id,
            level=ClassificationLevel.SUBCATEGORY,
            is_active=True,
            parent__is_active=True,
            parent__parent__is_active=True,
            pk=pk,
        )
        .select_related("parent__parent")
        .first()
    )
    if found is None:
        raise ValidationError(
            {"classification": _("Choose the manifestation type, category and subcategory.")}
        )
    return found


def guides_clean(operator_id: int, beneficiary_id: int, guides: Iterable[dict]) -> list[dict]:
    """TISS guides typed for a manifestation; one the registry knows must be this card's."""
    cleaned = []
    for position, guide in enumerate(guides, start=1):
        number = str(guide.get("number") or "").strip()
        kind = str(guide.get("kind") or "").strip()
        password = str(guide.get("password") or "").strip()
        if not number and not password:
            continue
        where = _("Guide %(n)d: ") % {"n": position}
        if not number.isdigit() or len(number) > 20:
            raise ValidationError({"guides": where + _("the number has up to 20 digits.")})
        if kind not in TissGuideKind.values:
            raise ValidationError({"guides": where + _("choose the kind of guide.")})
        if len(password) > 20:
            raise ValidationError(
                {"guides": where + _("the authorisation password has up to 20 characters.")}
            )
        cleaned.append({"number": number, "kind": kind, "password": password})
    if len(cleaned) > GUIDES_MAX:
        raise ValidationError({"guides": _("At most %(max)d guides.") % {"max": GUIDES_MAX}})
    numbers = [g["number"] for g in cleaned]
    if len(set(numbers)) != len(numbers):
        raise ValidationError({"guides": _("A guide is listed twice.")})
    foreign = (
        Guide.objects.filter(operator_id=operator_id, number__in=numbers)
        .exclude(beneficiary_id=beneficiary_id)
        .values_list("number", flat=True)
        .first()
    )
    if foreign:
        raise ValidationError(
            {"guides": _("Guide %(number)s belongs to another beneficiary.") % {"number": foreign}}
        )
    return cleaned


def manifestation_record(
    *,
    user: object,
    contact: Contact,
    occurrence_id: int,
    classification: object,
    procedure_group: object,
    urgency: object,
    sentiment: object,
    priority: object,
    description: str,
    observation: str = "",
    guides: Iterable[dict] = (),
    upload: UploadedFile | None = None,
) -> Occurrence:
    """What the beneficiary asked for, on the protocol it was issued for: one event
    (``manifestation``) carries it; recorded again while the call lasts, it corrects it."""
    operator_id = contact.operator_id
    subcategory = _classification(operator_id, classification)
    group = ProcedureGroup.objects.filter(operator_id=operator_id, pk=procedure_group).first()
    if group is None:
        raise ValidationError({"procedure_group": _("Choose the procedure group.")})
    levels = {
        name: _level(operator_id, scale, pk, name)
        for name, scale, pk in (
            ("urgency", Scale.URGENCY, urgency),
            ("sentiment", Scale.SENTIMENT, sentiment),
            ("priority", Scale.PRIORITY, priority),
        )
    }
    text = _text_clean(description, "description", DESCRIPTION_MAX, required=True)
    note = _text_clean(observation, "observation", OBSERVATION_MAX)
    tiss = guides_clean(operator_id, contact.beneficiary_id, guides)
    if upload is not None:
        attachment_check(upload)
    with _Locked(user, contact) as work:
        occurrence = _item(work.contact, occurrence_id)
        category = subcategory.parent
        _change(
            occurrence,
            actor=work.actor,
            kind=EventKind.MANIFESTATION,
            expected_version=None,
            check=None,
            at=work.at,
            fields={
                "classification": subcategory,
                "procedure_group": group,
                "description": text,
                "observation": note,
                "guides": tiss,
                **levels,
            },
            payload={
                "manifestation": category.parent.name,
                "category": category.name,
                "subcategory": subcategory.name,
                "procedure_group": group.name,
                **{name: level.name for name, level in levels.items()},
                "guides": [g["number"] for g in tiss],
            },
        )
        if upload is not None:
            occurrence_add_attachment(
                actor=work.actor, occurrence=occurrence, upload=upload, at=work.at
            )
    return occurrence


def contact_new_event(
    *, user: object, contact: Contact, submission: Submission | None = None
) -> Occurrence:
    """Another manifestation in the same call, with its own protocol (the same
    ``submission`` sent again answers the protocol it issued)."""
    config = settings_of(contact.operator_id)

    def issue() -> Occurrence:
        with _Locked(user, contact) as work:
            work.contact.beneficiary = Beneficiary.objects.prefetch_related("contacts").get(
                pk=work.contact.beneficiary_id
            )
            return _protocol_issue(work.contact, actor=work.actor, config=config, at=work.at)

    return created_once(submission, issue)[0]


def pendency_create(
    *,
    user: object,
    contact: Contact,
    occurrence_id: int,
    occurrence_type: OccurrenceType,
    subject: Subject | None,
    unit: object,
    description: str,
    submission: Submission | None = None,
) -> Occurrence:
    """A child occurrence of a manifestation routed to a unit, with its own protocol (the
    same ``submission`` sent again answers the pendency it raised)."""
    if unit is None:
        raise ValidationError({"unit": _("Choose the unit that handles the pendency.")})
    text = _text_clean(description, "description", DESCRIPTION_MAX, required=True)

    def raise_pendency() -> Occurrence:
        with _Locked(user, contact) as work:
            parent = _item(work.contact, occurrence_id)
            child = occurrence_create_child(
                actor=work.actor,
                parent=parent,
                occurrence_type=occurrence_type,
                subject=subject,
                unit=unit,
                description=text,
                at=work.at,
            )
            ContactOccurrence.objects.create(
                contact=work.contact, occurrence=child, is_pendency=True
            )
        return child

    return created_once(submission, raise_pendency)[0]


def contact_finish(*, user: object, contact: Contact) -> Contact:
    """End the call: every protocol must carry its manifestation. Those without a
    pendency are closed as concluded on the call; those with one stay open while the
    units work, and the contact reads Pendente until the last pendency closes."""
    with _Locked(user, contact) as work:
        items = list(
            ContactOccurrence.objects.filter(contact=work.contact).select_related("occurrence")
        )
        manifestations = [i.occurrence for i in items if not i.is_pendency]
        missing = [o.protocol for o in manifestations if o.classification_id is None]
        if missing:
            raise ValidationError(
                _(
                    "Record the manifestation of protocol %(protocols)s, or mark the "
                    "attendance as abandoned."
                )
                % {"protocols": ", ".join(missing)},
                code="unrecorded",
            )
        with_pendency = {i.occurrence.parent_id for i in items if i.is_pendency}
        _close_all(
            work,
            [o for o in manifestations if o.pk not in with_pendency],
            Closing.RESOLVED,
            CONCLUDED_TEXT,
        )
        work.contact.finished_at = work.at
        work.contact.save(update_fields=["finished_at"])
    return work.contact


def contact_abandon(
    *, user: object | None, contact: Contact, actor: Actor | None = None, idle: bool = False
) -> Contact:
    """The call dropped or the beneficiary gave up: its protocols are kept, closed without
    resolution, and reported."""
    with _Locked(user, contact, actor=actor) as work:
        items = list(
            ContactOccurrence.objects.filter(
                contact=work.contact, is_pendency=False
            ).select_related("occurrence")
        )
        _close_all(work, [i.occurrence for i in items], Closing.CLOSED, ABANDONED_TEXT)
        work.contact.abandoned_at = work.at
        work.contact.abandoned_idle = idle
        work.contact.save(update_fields=["abandoned_at", "abandoned_idle"])
    return work.contact


def _close_all(work: Working, occurrences: list[Occurrence], closing: str, text: str) -> None:
    config = settings_of(work.contact.operator_id)
    status = _closing_status(config.occurrence_type_id, closing)
    for occurrence in occurrences:
        if occurrence.closed_at is not None:
            continue
        kind_status = (
            status
            if occurrence.occurrence_type_id == config.occurrence_type_id
            else _closing_status(occurrence.occurrence_type_id, closing)
        )
        if kind_status is None:
            raise ValidationError(
                _("Protocol %(protocol)s has no closing status of this kind.")
                % {"protocol": occurrence.protocol}
            )
        occurrence_close(
            actor=work.actor,
            occurrence=occurrence,
            status=kind_status,
            outcome_text=text,
            expected_version=None,
            at=work.at,
        )


def contacts_abandon_idle(*, now: datetime | None = None) -> int:
    """Mark as abandoned the calls left without activity past their operator's limit
    (the worker's scheduler runs this every minute)."""
    now = now or timezone.now()
    done = 0
    for config in CallCenterSettings.objects.select_related("application"):
        limit = now - timedelta(minutes=config.abandon_after_minutes)
        actor = actor_for_application(application=config.application)
        idle = Contact.objects.filter(
            operator_id=config.operator_id,
            finished_at__isnull=True,
            abandoned_at__isnull=True,
            last_activity_at__lt=limit,
        )
        for contact in idle:
            try:
                contact_abandon(user=None, contact=contact, actor=actor, idle=True)
            except ValidationError:
                continue  # finished or abandoned meanwhile
            done += 1
    return done


def entry_record(*, user: object, contact: Contact, kind: str, text: str = "") -> None:
    """Record on the contact what was consulted or done during it (any time: the
    history of a finished call is still consulted)."""
    contact_actor(user, contact)
    if kind not in EntryKind.values:
        raise ValueError(kind)
    _entry(contact, user=user, kind=kind, text=text, at=timezone.now())


def audit_record(*, user: object, contact: Contact, text: str) -> None:
    """Seed 003's Auditoria: an interaction with the beneficiary, written on the contact."""
    note = _text_clean(text, "text", 1000, required=True)
    entry_record(user=user, contact=contact, kind=EntryKind.AUDIT, text=note)


# ---- the phone system ---------------------------------------------------------------------


def call_announce(
    *,
    application: Application,
    caller_number: str = "",
    ivr_code: str = "",
    channel: str = Channel.PHONE,
    attendant_email: str = "",
    extension: str = "",
    at: datetime | None = None,
) -> Call:
    """A call the phone system is putting through to an attendant of the operator."""
    if channel not in Channel.values:
        raise ValidationError({"channel": _("Unknown channel.")})
    number = ""
    if caller_number.strip():
        number = phone_parse(caller_number)
        if number is None:
            raise ValidationError({"caller_number": _("Invalid phone number.")})
    if len(ivr_code.strip()) > 30:
        raise ValidationError({"ivr_code": _("At most %(max)d characters.") % {"max": 30}})
    email, extension = attendant_email.strip(), extension.strip()
    if not email and not extension:
        raise ValidationError({"attendant": _("Name the attendant by e-mail or extension.")})
    members = Membership.objects.filter(
        operator_id=application.operator_id,
        is_active=True,
        user__is_active=True,
        role__in=[Role.ATTENDANT, Role.SUPERVISOR],
    )
    members = members.filter(
        Q(user__email__iexact=email) if email else Q(extension=extension)
    ).select_related("user")
    found = list(members[:2])
    if len(found) != 1:
        raise ValidationError(
            {"attendant": _("No single attendant of the operator has this e-mail or extension.")}
        )
    return Call.objects.create(
        operator_id=application.operator_id,
        application=application,
        caller_number=number,
        ivr_code=ivr_code.strip(),
        channel=channel,
        attendant=found[0].user,
        received_at=at or timezone.now(),
    )


def protocol_send(
    *, user: object, contact: Contact, occurrence_id: int, channel: str, recipient: str
) -> Delivery:
    """Send a protocol of the contact to the beneficiary by e-mail or SMS, through the
    delivery pipeline (retries and the failures screen included); shown on the contact."""
    contact_actor(user, contact)
    occurrence = _item(contact, occurrence_id)
    if channel == DeliveryChannel.EMAIL:
        address = _email_clean(recipient, "recipient")
        sender = None
    elif channel == DeliveryChannel.SMS:
        address = phone_parse(recipient or "")
        if address is None:
            raise ValidationError({"recipient": _("Invalid phone number.")})
        sender = sender_for(operator_id=contact.operator_id, channel=channel)
    else:
        raise ValidationError({"channel": _("Choose e-mail or SMS.")})
    if not address:
        raise ValidationError({"recipient": _("This field is required.")})
    operator = contact.operator
    text = _("%(operator)s: your attendance protocol is %(protocol)s, registered on %(date)s.") % {
        "operator": operator.name,
        "protocol": occurrence.protocol,
        "date": f"{operator_clock(occurrence.registered_at, operator.time_zone):%d/%m/%Y %H:%M:%S}",
    }
    at = timezone.now()
    with transaction.atomic():
        delivery = delivery_enqueue(
            key=f"protocol:{occurrence.pk}:{secrets.token_hex(8)}",
            purpose=Purpose.PROTOCOL,
            channel=channel,
            recipient=address,
            subject=_("Your protocol %(protocol)s") % {"protocol": occurrence.protocol},
            body=text,
            operator_id=contact.operator_id,
            occurrence=occurrence,
            sender=sender,
        )
        _entry(
            contact,
            user=user,
            kind=EntryKind.PROTOCOL_SENT,
            text=f"{occurrence.protocol} → {address} ({DeliveryChannel(channel).label})",
            at=at,
        )
    return delivery


def settings_save(*, config: CallCenterSettings) -> CallCenterSettings:
    """The configurator's choice of how the operator's call center issues protocols."""
    if config.application.operator_id != config.operator_id or not config.application.is_active:
        raise ValidationError({"application": _("Choose an active application of the operator.")})
    settings_check(operator_id=config.operator_id, occurrence_type=config.occurrence_type)
    config.erp_url = config.erp_url.strip()
    if config.erp_url:
        if "{card}" not in config.erp_url:
            raise ValidationError({"erp_url": _("Put {card} where the card code goes.")})
        try:
            url_check(config.erp_url.replace("{card}", "0"), resolve=False)
        except OutboundRefused as refusal:
            raise ValidationError({"erp_url": str(refusal)}) from None
    for service in Service:
        kind = getattr(config, service.value)
        if kind is not None and (kind.operator_id != config.operator_id or not kind.is_active):
            raise ValidationError({service.value: _("Choose an active occurrence type.")})
    config.full_clean()
    config.save()
    return config


# At most this many temporary passwords per portal login a day, whoever asks.
RESETS_PER_DAY = 3


def portal_logins(contact: Contact) -> list[BeneficiaryLogin]:
    """The active portal logins of the contact's card (or, made before the registry, of
    the person's CPF without a card)."""
    beneficiary = contact.beneficiary
    return list(
        BeneficiaryLogin.objects.filter(operator_id=contact.operator_id, is_active=True)
        .filter(Q(beneficiary=beneficiary) | Q(beneficiary=None, cpf=beneficiary.cpf))
        .order_by("login")
    )


def portal_password_reset(*, user: object, contact: Contact, login_id: int) -> Delivery:
    """Seed 003's Resetar senha: a temporary password of 8 digits is e-mailed to the
    login's registered address, made when the e-mail is sent (the attendant never sees
    it). Each reset is recorded on the contact and counted per login."""
    contact_actor(user, contact)
    login = next((a for a in portal_logins(contact) if a.pk == login_id), None)
    if login is None:
        raise ValidationError({"login": _("Choose one of the beneficiary's portal logins.")})
    if not login.email:
        raise ValidationError(
            {"login": _("This login has no e-mail address: the password cannot be sent.")}
        )
    now = timezone.now()
    with transaction.atomic():
        # One reset at a time per login: the count below is then exact.
        locked = row_locked(BeneficiaryLogin, login.pk)
        recent = ContactEntry.objects.filter(
            kind=EntryKind.PASSWORD_RESET, login=locked, at__gte=now - timedelta(days=1)
        ).count()
        if recent >= RESETS_PER_DAY:
            raise ValidationError(
                _(
                    "This login already had %(count)d passwords reset in the last 24 hours: "
                    "try again tomorrow."
                )
                % {"count": recent},
                code="throttled",
            )
        delivery = delivery_enqueue(
            key=f"portal_temporary:{login.pk}:{secrets.token_hex(8)}",
            purpose=Purpose.PORTAL_TEMPORARY_PASSWORD,
            channel=DeliveryChannel.EMAIL,
            recipient=login.email,
            operator_id=contact.operator_id,
            payload={"login_id": login.pk},
        )
        _entry(
            contact, user=user, kind=EntryKind.PASSWORD_RESET, text=login.login, at=now, login=login
        )
    return delivery


# ---- seed 003: the beneficiary's services -------------------------------------------------


def service_type(contact: Contact, service: str) -> OccurrenceType:
    """The type the operator issues this service's requests as."""
    if service not in Service.values:
        raise ValidationError(_("Unknown service."), code="unknown")
    config = settings_of(contact.operator_id)
    kind = getattr(config, service)
    if kind is None or not kind.is_active:
        raise ValidationError(
            _("The operator does not offer this service in the call center."), code="not_offered"
        )
    return kind


def service_refusal(*, user: object, contact: Contact, service: str) -> str:
    """Why the form of this service is not offered to this card ("" when it is); a
    refusal by a critique is recorded on the contact, so the protocol shows it."""
    try:
        kind = service_type(contact, service)
    except ValidationError as refusal:
        return " ".join(refusal.messages)
    message = request_refusal(beneficiary=contact.beneficiary, occurrence_type=kind)
    if message:
        entry_record(
            user=user,
            contact=contact,
            kind=EntryKind.REFUSED,
            text=f"{Service(service).label}: {message}",
        )
    return message


def service_request(
    *,
    user: object,
    contact: Contact,
    service: str,
    occurrence_id: int,
    subject: Subject | None,
    unit: object,
    description: str,
    submission: Submission | None = None,
) -> Occurrence:
    """The service's request for the contact's card, as a pendency of one of its
    manifestations (the contact reads Pendente until the request is closed)."""
    kind = service_type(contact, service)
    refusal = request_refusal(beneficiary=contact.beneficiary, occurrence_type=kind)
    if refusal:
        raise ValidationError(refusal, code="critique")
    if subject is not None and subject.occurrence_type_id != kind.pk:
        raise ValidationError({"subject": _("Choose a subject of the chosen type.")})
    return pendency_create(
        user=user,
        contact=contact,
        occurrence_id=occurrence_id,
        occurrence_type=kind,
        subject=subject,
        unit=unit,
        description=description,
        submission=submission,
    )


def contact_data_update(
    *, user: object, contact: Contact, phones: list[str], emails: list[str]
) -> bool:
    """Seed 002's Atualizar dados: the card's phones and e-mails corrected during the call,
    audited in the registry and recorded on the contact."""
    contact_actor(user, contact)
    with transaction.atomic():
        changed = beneficiary_contacts_set(
            user=user, beneficiary=contact.beneficiary, phones=phones, emails=emails
        )
        if changed:
            _entry(contact, user=user, kind=EntryKind.DATA_UPDATED, text="", at=timezone.now())
    return changed


ERP_SECONDS = 3
ERP_RECORDS = 50


def erp_records(*, user: object, contact: Contact) -> list[dict[str, str]]:
    """The card's records in the operator's management system, read-only, within
    ``ERP_SECONDS``; each failure is told plainly. The consultation is recorded."""
    contact_actor(user, contact)
    config = settings_of(contact.operator_id)
    if not config.erp_url:
        raise ValidationError(
            _("No management system is configured for this operator."), code="not_configured"
        )
    url = config.erp_url.replace("{card}", quote(contact.beneficiary.card, safe=""))
    headers = {"Accept": "application/json"}
    if config.erp_token:
        headers["Authorization"] = f"Bearer {config.erp_token}"
    _entry(contact, user=user, kind=EntryKind.ERP, text="", at=timezone.now())
    try:
        response = outbound_request(
            "GET", url, headers=headers, seconds=ERP_SECONDS, timeout=httpx.Timeout(ERP_SECONDS)
        )
    except httpx.TimeoutException:
        raise ValidationError(
            _(
                "The management system did not answer within %(seconds)d seconds. "
                "Try again in a moment."
            )
            % {"seconds": ERP_SECONDS},
            code="timeout",
        ) from None
    except (httpx.HTTPError, OutboundRefused) as error:
        raise ValidationError(
            _("The management system could not be reached: %(error)s") % {"error": error},
            code="unreachable",
        ) from None
    if response.status_code != 200:
        raise ValidationError(
            _("The management system answered with an error (HTTP %(status)d).")
            % {"status": response.status_code},
            code="error",
        )
    try:
        records = response.json()
    except ValueError:
        records = None
    if not isinstance(records, list):
        raise ValidationError(
            _("The management system's answer is not a list of records."), code="format"
        )
    return [
        {str(key): "" if value is None else str(value) for key, value in record.items()}
        for record in records[:ERP_RECORDS]
        if isinstance(record, dict)
    ]


_checked: dict[int, tuple[int, frozenset[int]]] = {}


def critique_checked_types(operator: Operator) -> frozenset[int]:
    """The operator's types refused to a card with a blocking critique (its refunds), read
    once per catalog version (saving the settings moves it), as the catalog snapshots."""
    held = _checked.get(operator.pk)
    if held is not None and held[0] == operator.catalog_version:
        return held[1]
    config = CallCenterSettings.objects.filter(operator_id=operator.pk).first()
    ids = frozenset(config.type_ids(CRITIQUE_CHECKED)) if config is not None else frozenset()
    _checked[operator.pk] = (operator.catalog_version, ids)
    return ids


def request_card(
    *, operator_id: int, identifier: str, contract_number: str = ""
) -> Beneficiary | None:
    """The registry's card a request naming a CPF (or a card code) is for: the one of the
    contract named, or the CPF's only card. A CPF holding several cards must name the
    contract, since what each card may ask differs."""
    digits = only_digits(identifier or "")
    cards = Beneficiary.objects.filter(operator_id=operator_id)
    if len(digits) == 11:
        cards = cards.filter(cpf=digits)
    else:
        cards = cards.filter(card=(identifier or "").strip().upper())
    if contract_number:
        cards = cards.filter(contract_number=contract_number.strip())
    found = list(cards.order_by("card")[:2])
    if len(found) > 1:
        raise ValidationError(
            {
                "contract_number": _(
                    "This CPF holds several cards: name the contract of the one the request is for."
                )
            }
        )
    return found[0] if found else None


def request_refusal(*, beneficiary: Beneficiary | None, occurrence_type: OccurrenceType) -> str:
    """Why this card may not ask for this type now ("" when it may): the types the call
    center's settings name for refunds are refused to a card with a blocking critique,
    wherever they are asked for — in a call or in the portal."""
    if beneficiary is None:
        return ""
    config = CallCenterSettings.objects.filter(operator_id=occurrence_type.operator_id).first()
    if config is None:
        return ""
    if occurrence_type.pk not in config.type_ids(CRITIQUE_CHECKED):
        return ""
    try:
        request_check(beneficiary, today=timezone.localdate())
    except ValidationError as refusal:
        return " ".join(refusal.messages)
    return ""
