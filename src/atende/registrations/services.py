"""Registro de Atendimento (seed 004): opening a registration with its place and requesters,
the citizens' reports of the intake queue, requesters and place kept with their events,
routing with an opinion, and the SMS a citizen receives.

Every change goes through the occurrence services (``_change``): the registration's row is
locked, its version bumped and one event appended in the transaction that writes the
place or the requesters."""

import logging
import re
import secrets
from dataclasses import replace
from datetime import date, datetime, timedelta

import serial
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Exists, F, Max, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.catalog.formdefs import entry_clean
from atende.catalog.models import (
    Closing,
    FormVersion,
    OccurrenceType,
    OutcomeReason,
    ProtocolScheme,
    Status,
    Subject,
)
from atende.catalog.protocols import protocol_reserve
from atende.catalog.services import form_current_version
from atende.catalog.snapshots import type_snapshot
from atende.core.leases import lease_claim, stale_redrive
from atende.notifications.channels.base import Transient
from atende.notifications.channels.sms import Received, modem_inbox
from atende.notifications.models import Channel as DeliveryChannel
from atende.notifications.models import Purpose, Sender, SenderKind
from atende.notifications.services import delivery_enqueue, sender_for, sender_slot_take
from atende.occurrences.models import Attachment, Channel, EventKind, Mode, Occurrence, State
from atende.occurrences.services import (
    NOTE_MAX,
    OUTCOME_MAX,
    Actor,
    Conflict,
    NotAllowed,
    actor_for_application,
    actor_for_user,
    attachment_check,
    draft_check,
    draft_close,
    occurrence_add_attachment,
    occurrence_close,
    occurrence_create,
    occurrence_relate,
    occurrence_reopen_as_new,
    occurrence_route,
)
from atende.occurrences.services.core import (
    _change,
    _email_clean,
    _identifier_clean,
    _phone_clean,
    _text_clean,
)
from atende.registrations.models import (
    ORDER_MOVES,
    BatchClosing,
    BatchState,
    BillingRule,
    Incident,
    IncidentReason,
    LocalityRule,
    ManualBlock,
    OpeningForm,
    OrderOutcome,
    OrderPriority,
    OrderState,
    Place,
    ProcedureFile,
    PropertyAccount,
    RegistrationSettings,
    Requester,
    RequesterKind,
    ServiceOrder,
    ServiceType,
    text_key,
)
from atende.registrations.selectors import distance_m
from atende.tenancy.models import BRAZILIAN_STATES, Application, Unit
from atende.tenancy.services import api_token_hash
from atende.tenancy.timezones import operator_clock
from atende.tenancy.validators import phone_parse

logger = logging.getLogger(__name__)

PLACE_FIELDS = (
    "street",
    "number",
    "complement",
    "neighbourhood",
    "city",
    "state",
    "postal_code",
    "reference",
    "latitude",
    "longitude",
    "property_registration",
)
_PLACE_LIMITS = {
    "street": 200,
    "number": 20,
    "complement": 100,
    "neighbourhood": 100,
    "city": 100,
    "reference": 200,
    "property_registration": 30,
}
_STATES = frozenset(code for code, _name in BRAZILIAN_STATES)
REQUESTER_FIELDS = ("kind", "name", "identifier", "phone", "email", "unit")


# --- Checking what is typed ------------------------------------------------------------


def place_clean(values: dict, *, required: bool) -> dict:
    """The place as stored, every field checked. A registration needs a street and city,
    or coordinates; a citizen's report may arrive with less (the attendant completes it)."""
    place: dict = {}
    errors: dict = {}
    for name, limit in _PLACE_LIMITS.items():
        try:
            place[name] = _text_clean(str(values.get(name) or ""), name, limit)
        except ValidationError as error:
            errors.update(error.message_dict)
    state = str(values.get("state") or "").strip().upper()
    if state and state not in _STATES:
        errors["state"] = [_("Choose a Brazilian state (UF).")]
    place["state"] = state
    postal = re.sub(r"\D", "", str(values.get("postal_code") or ""))
    if values.get("postal_code") and (len(postal) != 8 or postal == "0" * 8):
        errors["postal_code"] = [_("Enter the CEP's 8 digits, e.g. 50030-230.")]
    place["postal_code"] = postal
    for name, bound in (("latitude", 90), ("longitude", 180)):
        raw = values.get(name)
        if raw in (None, ""):
            place[name] = None
            continue
        try:
            number = float(str(raw).replace(",", "."))
        except ValueError:
            number = None
        if number is None or not -bound <= number <= bound or number != number:
            errors[name] = [
                _("Enter a number between -%(bound)d and %(bound)d.") % {"bound": bound}
            ]
        place[name] = number
    if (place["latitude"] is None) != (place["longitude"] is None) and not errors:
        errors["longitude" if place["longitude"] is None else "latitude"] = [
            _("Give both coordinates, latitude and longitude.")
        ]
    located = (place["street"] and place["city"]) or place["latitude"] is not None
    if required and not located and not errors:
        errors["street"] = [_("Give the street and city of the place, or its coordinates.")]
    if errors:
        raise ValidationError(errors)
    return place


def requester_clean(values: dict, *, operator_id: int) -> dict:
    """A requester as stored: a person (name or phone at least) or a unit of the operator."""
    kind = values.get("kind") or RequesterKind.PERSON
    if kind not in RequesterKind.values:
        raise ValidationError({"kind": _("Choose a person or a unit.")})
    if kind == RequesterKind.UNIT:
        unit = values.get("unit")
        if not isinstance(unit, Unit) or unit.operator_id != operator_id or not unit.is_active:
            raise ValidationError({"unit": _("Choose an active unit of the operator.")})
        return {"kind": kind, "unit": unit, "name": "", "identifier": "", "phone": "", "email": ""}
    cleaned = {
        "kind": kind,
        "unit": None,
        "name": _text_clean(values.get("name") or "", "name", 200),
        "identifier": _identifier_clean(values.get("identifier") or "", "identifier"),
        "phone": _phone_clean(values.get("phone") or "", "phone"),
        "email": _email_clean(values.get("email") or "", "email"),
    }
    if not (cleaned["name"] or cleaned["phone"]):
        raise ValidationError({"name": _("Give the requester's name or phone.")})
    return cleaned


# --- Routing by locality ---------------------------------------------------------------


def unit_for_place(*, operator_id: int, subject: Subject | None, place: dict) -> Unit | None:
    """The unit a registration opens in: for a debtor property, the billing rule's unit
    of the specification; else the locality rule's (the neighbourhood's before the city's);
    else None, and the specification's default unit applies."""
    if subject is None:
        return None
    registration = (place.get("property_registration") or "").strip()
    if registration:
        billing = (
            BillingRule.objects.filter(
                operator_id=operator_id, subject=subject, unit__is_active=True
            )
            .filter(
                Exists(
                    PropertyAccount.objects.filter(
                        operator_id=operator_id,
                        property_registration=registration,
                        debtor=True,
                    )
                )
            )
            .select_related("unit")
            .first()
        )
        if billing is not None:
            return billing.unit
    if not place.get("city"):
        return None
    city, area = text_key(place["city"]), text_key(place.get("neighbourhood") or "")
    rules = {
        rule.neighbourhood_key: rule
        for rule in LocalityRule.objects.filter(
            operator_id=operator_id,
            subject=subject,
            city_key=city,
            neighbourhood_key__in={area, ""},
        ).select_related("unit")
        if rule.unit.is_active
    }
    rule = rules.get(area) or rules.get("")
    return rule.unit if rule is not None else None


def _own_records(rule: LocalityRule | BillingRule) -> None:
    """A rule's specification and unit must be its operator's."""
    if rule.subject.occurrence_type.operator_id != rule.operator_id:
        raise ValidationError({"subject": _("Choose one of this operator's own records.")})
    if rule.unit.operator_id != rule.operator_id:
        raise ValidationError({"unit": _("Choose one of this operator's own records.")})


def locality_rule_save(*, rule: LocalityRule) -> LocalityRule:
    """The configurator's rule, matched on the names without accents nor case."""
    _own_records(rule)
    rule.city = _text_clean(rule.city, "city", 100, required=True)
    rule.neighbourhood = _text_clean(rule.neighbourhood, "neighbourhood", 100)
    rule.city_key, rule.neighbourhood_key = text_key(rule.city), text_key(rule.neighbourhood)
    rule.validate_constraints()
    rule.save()
    return rule


def properties_load(*, operator_id: int, rows: list[tuple[str, bool]]) -> int:
    """Store the billing situation of properties (an upsert by matrícula), as the
    operator's commercial system sends it."""
    now = timezone.now()
    seen: dict[str, bool] = {}
    for registration, debtor in rows:
        key = _text_clean(registration, "property_registration", 30, required=True)
        seen[key] = bool(debtor)
    PropertyAccount.objects.bulk_create(
        [
            PropertyAccount(
                operator_id=operator_id, property_registration=key, debtor=debtor, updated_at=now
            )
            for key, debtor in seen.items()
        ],
        update_conflicts=True,
        unique_fields=["operator", "property_registration"],
        update_fields=["debtor", "updated_at"],
    )
    return len(seen)


def procedure_file_add(*, subject: Subject, upload: UploadedFile) -> ProcedureFile:
    """A file of the specification's POP, checked as every attachment is (type by its
    content, size)."""
    name, content_type = attachment_check(upload)
    procedure = ProcedureFile(
        operator_id=subject.occurrence_type.operator_id,
        subject=subject,
        token=secrets.token_hex(16),
        name=name,
        content_type=content_type,
        size=upload.size,
        uploaded_at=timezone.now(),
    )
    procedure.file.save(procedure.token, upload, save=False)
    procedure.save()
    return procedure


def procedure_file_remove(*, procedure: ProcedureFile) -> None:
    """Withdrawn from the POP; the stored file stays (registrations may have cited it)."""
    procedure.is_active = False
    procedure.save(update_fields=["is_active"])


def billing_rule_save(*, rule: BillingRule) -> BillingRule:
    _own_records(rule)
    rule.validate_unique()
    rule.save()
    return rule


# --- Opening ---------------------------------------------------------------------------


def registration_open(
    *,
    actor: Actor,
    application: Application,
    occurrence_type: OccurrenceType,
    subject: Subject | None,
    channel: str,
    description: str,
    place: dict,
    requesters: list[dict],
    mode: int = Mode.ACTIVE,
    document: UploadedFile | None = None,
    photo: UploadedFile | None = None,
    manual_protocol: str = "",
    form_data: dict | None = None,
    at: datetime | None = None,
) -> Occurrence:
    """Open a registration (or, in mode Rascunho, a citizen's report for the intake queue)
    with its place and requesters in one transaction: the unit comes from the locality
    rules, the protocol goes to the requesters' phones by SMS once it is a registration."""
    if not occurrence_type.has_place:
        raise ValidationError(
            {"occurrence_type": _("This type does not take a place of occurrence.")}
        )
    active = mode == Mode.ACTIVE
    if active and subject is None:
        raise ValidationError({"subject": _("Choose the specification.")})
    place = place_clean(place, required=active)
    people = [requester_clean(values, operator_id=actor.operator_id) for values in requesters]
    if not people:
        raise ValidationError({"phone": _("Give at least one requester.")})
    if active and subject is not None and subject.required_document and document is None:
        raise ValidationError(
            {
                "document": _("The specification %(name)s requires at opening: %(document)s.")
                % {"name": subject.name, "document": subject.required_document}
            }
        )
    for upload in (document, photo):
        if upload is not None:
            attachment_check(upload)
    opening = _opening_form(subject, form_data, required=active)
    reserved = (
        manual_number_check(actor=actor, occurrence_type=occurrence_type, number=manual_protocol)
        if manual_protocol
        else ""
    )
    first = next((p for p in people if p["kind"] == RequesterKind.PERSON), {})
    at = at or timezone.now()
    with transaction.atomic():
        occurrence = occurrence_create(
            actor=actor,
            application=application,
            occurrence_type=occurrence_type,
            subject=subject,
            channel=channel,
            mode=mode,
            requester_identifier=first.get("identifier", ""),
            requester_name=first.get("name", ""),
            contact_email=first.get("email", ""),
            contact_phone=first.get("phone", ""),
            description=_text_clean(description, "description", OUTCOME_MAX, required=True),
            # A draft waits in the intake queue, in no unit's; its unit is chosen on opening.
            unit=unit_for_place(operator_id=actor.operator_id, subject=subject, place=place)
            if active
            else None,
            reserved_protocol=reserved,
            place_follows=True,
            at=at,
        )
        incident = (
            incident_for(operator_id=occurrence.operator_id, subject=subject, place=place, at=at)
            if active
            else None
        )
        stored = Place(
            occurrence=occurrence,
            operator_id=occurrence.operator_id,
            subject=subject,
            incident=incident,
            **place,
        )
        stored.keys_refresh()
        stored.save(force_insert=True)
        Requester.objects.bulk_create(
            Requester(
                operator_id=occurrence.operator_id, occurrence=occurrence, created_at=at, **person
            )
            for person in people
        )
        if opening is not None:
            OpeningForm.objects.create(
                occurrence=occurrence,
                operator_id=occurrence.operator_id,
                form_version=opening[0],
                data=opening[1],
            )
        for upload in (document, photo):
            if upload is not None:
                occurrence_add_attachment(actor=actor, occurrence=occurrence, upload=upload, at=at)
        if active:
            protocol_sms(
                occurrence, phones=[p["phone"] for p in people], cause="open", incident=incident
            )
    return occurrence


def _opening_form(
    subject: Subject | None, data: dict | None, *, required: bool
) -> tuple[FormVersion, dict] | None:
    """The specification's form, checked against its current version (each error named
    ``form_<field>``); None when the specification has none."""
    if subject is None or subject.form_id is None:
        return None
    if not data and not required:
        return None
    version = form_current_version(subject.form)
    try:
        cleaned = entry_clean(version.fields, data or {})
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            raise ValidationError(
                {f"form_{key}": messages for key, messages in error.message_dict.items()}
            ) from None
        raise
    return version, cleaned


def report_receive(
    *,
    application: Application,
    subject: Subject | None,
    description: str,
    phone: str,
    place: dict,
    channel: str = Channel.APP,
    name: str = "",
    photo: UploadedFile | None = None,
    occurrence_type: OccurrenceType | None = None,
    at: datetime | None = None,
) -> Occurrence:
    """A citizen's report (the phone app, or an SMS): a draft in the intake queue, never
    in the work queues, until an attendant analyses it."""
    if subject is not None:
        occurrence_type = subject.occurrence_type
    if occurrence_type is None:
        raise ValidationError({"subject_id": _("Choose the specification.")})
    if not phone:
        raise ValidationError({"phone": _("Give the phone that receives the protocol.")})
    return registration_open(
        actor=actor_for_application(application=application),
        application=application,
        occurrence_type=occurrence_type,
        subject=subject,
        channel=channel,
        description=description,
        place=place,
        requesters=[{"name": name, "phone": phone}],
        mode=Mode.DRAFT,
        photo=photo,
        at=at,
    )


def sms_receive(
    *, config: RegistrationSettings, number: str, text: str, at: datetime | None = None
):
    """An SMS received by the operator's gateway or modem becomes a report in the intake
    queue carrying the sender's number."""
    application = config.application
    application.operator = config.operator
    return report_receive(
        application=application,
        subject=None,
        occurrence_type=config.sms_type,
        description=(text or "").strip()[:OUTCOME_MAX] or _("(empty message)"),
        phone=number,
        place={},
        channel=Channel.SMS,
        at=at,
    )


def modem_inboxes_read() -> int:
    """Read the SMS that citizens sent to each operator's GSM modem (the chip that sends
    the protocols) into the intake queue. A modem busy sending is read next time: reading
    takes one of its send slots, so no two workers use the port at once."""
    stored = 0
    for config in RegistrationSettings.objects.select_related(
        "operator", "application", "sms_type"
    ):
        modem = Sender.objects.filter(
            operator_id=config.operator_id, kind=SenderKind.SMS_MODEM, is_active=True
        ).first()
        if modem is None or sender_slot_take(modem) is not None:
            continue

        def store(message: Received, config: RegistrationSettings = config) -> bool:
            nonlocal stored
            if _sms_known(config, message):
                return True  # stored before the modem deleted it: only delete it now
            try:
                with transaction.atomic():
                    sms_receive(
                        config=config, number=message.number, text=message.text, at=message.at
                    )
            except ValidationError as refusal:
                # Not a citizen's phone (a carrier's short code): no report can answer it.
                logger.warning("SMS from %s not stored: %s", message.number, refusal)
                return True
            stored += 1
            return True

        try:
            modem_inbox(modem, delete=store)
        except (serial.SerialException, OSError, Transient) as error:
            logger.warning("Modem %s could not be read: %s", modem.pk, error)
    return stored


def _sms_known(config: RegistrationSettings, message: Received) -> bool:
    """Whether this message is already a report (read before, its deletion lost)."""
    phone = phone_parse(message.number)
    return (
        message.at is not None
        and phone is not None
        and Occurrence.objects.filter(
            operator_id=config.operator_id,
            channel=Channel.SMS,
            registered_at=message.at,
            contact_phone=phone,
            description=(message.text or "").strip()[:OUTCOME_MAX] or _("(empty message)"),
        ).exists()
    )


def sms_token_new(*, config: RegistrationSettings) -> str:
    """A new token for the SMS gateway's inbound webhook, shown once; the old one stops."""
    plain = f"atsms_{secrets.token_urlsafe(32)}"
    config.sms_token_hash = api_token_hash(plain)
    config.save(update_fields=["sms_token_hash"])
    return plain


def settings_for_sms_token(plain: str) -> RegistrationSettings | None:
    if not plain or not plain.startswith("atsms_"):
        return None
    return (
        RegistrationSettings.objects.select_related("operator", "application", "sms_type")
        .filter(sms_token_hash=api_token_hash(plain))
        .first()
    )


# --- The intake queue ------------------------------------------------------------------


def draft_promote(
    *,
    actor: Actor,
    draft: Occurrence,
    subject: Subject,
    place: dict,
    expected_version: int | None,
) -> Occurrence:
    """Open the report as a new registration: its specification and place completed by the
    attendant, the locality's unit, and the protocol by SMS to the citizen's phone."""
    snapshot = type_snapshot(operator=draft.operator, type_id=draft.occurrence_type_id)
    if snapshot is None or subject.pk not in snapshot.subjects:
        raise ValidationError(
            {
                "subject": _("Choose an active specification of the type %(type)s.")
                % {"type": draft.occurrence_type.name}
            }
        )
    due = snapshot.due_for(subject.pk)
    place = place_clean(place, required=True)
    unit = unit_for_place(operator_id=draft.operator_id, subject=subject, place=place)
    if unit is None:
        unit = snapshot.subjects[subject.pk].default_unit
    with transaction.atomic():
        stored = Place.objects.select_for_update().filter(occurrence_id=draft.pk).first()
        before = _place_values(stored) if stored is not None else {}
        _change(
            draft,
            actor=actor,
            kind=EventKind.PROMOTED,
            expected_version=expected_version,
            check=draft_check,
            unit=unit if unit is not None else draft.unit,
            fields={
                "mode": Mode.ACTIVE,
                "subject": subject,
                # The specification's own deadline, from the report's arrival.
                "sla_due_at": due(draft.registered_at) if due is not None else None,
            },
            payload={"summary": _("Opened as a registration."), **_changes(before, place)},
        )
        incident = incident_for(operator_id=draft.operator_id, subject=subject, place=place)
        stored = _place_store(draft, stored, subject, place)
        if incident is not None:
            stored.incident = incident
            stored.save(update_fields=["incident"])
        protocol_sms(draft, phones=_phones(draft), cause="open", incident=incident)
    return draft


def draft_attach(
    *, actor: Actor, draft: Occurrence, target: Occurrence, expected_version: int | None
) -> Occurrence:
    """The report is the same problem as an open registration: its citizen becomes one more
    requester there and receives that protocol by SMS; the report closes, pointing to it."""
    if (
        target.operator_id != draft.operator_id
        or target.pk == draft.pk
        or target.mode != Mode.ACTIVE
        or not target.occurrence_type.has_place
    ):
        raise ValidationError({"target": _("Choose an open registration of the operator.")})
    people = list(Requester.objects.filter(occurrence=draft).order_by("pk"))
    at = timezone.now()
    with transaction.atomic():
        draft_close(
            actor,
            draft,
            _("Attached to registration %(protocol)s.") % {"protocol": target.protocol},
            expected_version=expected_version,
            payload={"attached_to": target.protocol},
            # The report's origin protocol, in the occurrence report too, is the registration.
            fields={"parent": target},
            at=at,
        )
        _change(
            target,
            actor=actor,
            kind=EventKind.REQUESTER,
            expected_version=None,
            check=None,
            payload={
                "summary": _("Requester from report %(protocol)s: %(who)s")
                % {"protocol": draft.protocol, "who": ", ".join(str(p) for p in people)},
                "from": draft.protocol,
            },
            at=at,
        )
        _requesters_copy(people, to=target, origin=draft, at=at)
        area = Place.objects.select_related("incident__reason").filter(occurrence_id=target.pk)
        incident = next((p.incident for p in area if p.incident and not p.incident.closed_at), None)
        protocol_sms(
            target,
            phones=[p.phone for p in people],
            cause=f"attach:{draft.pk}",
            incident=incident,
        )
    return target


def _requesters_copy(
    people: list[Requester], *, to: Occurrence, origin: Occurrence | None, at: datetime
) -> None:
    """The same people as requesters of another registration (attached, reactivated)."""
    Requester.objects.bulk_create(
        Requester(
            operator_id=to.operator_id,
            occurrence=to,
            kind=p.kind,
            name=p.name,
            identifier=p.identifier,
            phone=p.phone,
            email=p.email,
            unit_id=p.unit_id,
            origin=origin,
            created_at=at,
        )
        for p in people
    )


# --- Requesters and place --------------------------------------------------------------


def requester_add(*, actor: Actor, occurrence: Occurrence, values: dict) -> Requester:
    person = requester_clean(values, operator_id=occurrence.operator_id)
    requester = Requester(
        operator_id=occurrence.operator_id,
        occurrence=occurrence,
        created_at=timezone.now(),
        **person,
    )
    with transaction.atomic():
        _registration_change(
            actor,
            occurrence,
            EventKind.REQUESTER,
            {
                "summary": _("Requester added: %(who)s") % {"who": requester},
                "added": _shown(person),
            },
        )
        requester.save(force_insert=True)
    return requester


def requester_update(*, actor: Actor, requester: Requester, values: dict) -> Requester:
    person = requester_clean(values, operator_id=requester.operator_id)
    before = {name: getattr(requester, name) for name in REQUESTER_FIELDS}
    with transaction.atomic():
        _registration_change(
            actor,
            requester.occurrence,
            EventKind.REQUESTER,
            {
                "summary": _("Requester changed: %(who)s") % {"who": requester},
                **_changes(_shown(before), _shown(person)),
            },
        )
        for name, value in person.items():
            setattr(requester, name, value)
        requester.save()
    return requester


def place_update(*, actor: Actor, occurrence: Occurrence, values: dict) -> Place:
    place = place_clean(values, required=True)
    with transaction.atomic():
        stored = Place.objects.select_for_update().filter(occurrence_id=occurrence.pk).first()
        before = _place_values(stored) if stored is not None else {}
        changes = _changes(before, place)
        if not changes:
            raise ValidationError(_("Nothing changed."), code="unchanged")
        _registration_change(
            actor,
            occurrence,
            EventKind.EDITED,
            {"summary": _("Place of occurrence changed."), **changes},
        )
        return _place_store(occurrence, stored, occurrence.subject, place)


def registration_update(
    *, actor: Actor, occurrence: Occurrence, subject: Subject, description: str
) -> Occurrence:
    """Atualizar RA, dados gerais: the specification (of the same type: the workflow stays)
    and the description, with what they were in the event. The deadline stays the one
    given at opening: the citizen was told it."""
    snapshot = type_snapshot(operator=occurrence.operator, type_id=occurrence.occurrence_type_id)
    if snapshot is None or subject.pk not in snapshot.subjects:
        raise ValidationError(
            {
                "subject": _("Choose an active specification of the type %(type)s.")
                % {"type": occurrence.occurrence_type.name}
            }
        )
    text = _text_clean(description, "description", OUTCOME_MAX, required=True)
    before = {
        "subject": occurrence.subject.name if occurrence.subject_id else "",
        "description": occurrence.description,
    }
    changes = _changes(before, {"subject": subject.name, "description": text})
    if not changes:
        raise ValidationError(_("Nothing changed."), code="unchanged")
    with transaction.atomic():
        _change(
            occurrence,
            actor=actor,
            kind=EventKind.EDITED,
            expected_version=None,
            check=_registration_check,
            fields={"subject": subject, "description": text},
            payload={"summary": _("General data changed."), **changes},
        )
        Place.objects.filter(occurrence_id=occurrence.pk).update(subject=subject)
    return occurrence


def _registration_check(current: Occurrence) -> None:
    if not current.occurrence_type.has_place:
        raise ValidationError(_("This occurrence is not a registration."))


def _registration_change(actor: Actor, occurrence: Occurrence, kind: str, payload: dict) -> None:
    _change(
        occurrence,
        actor=actor,
        kind=kind,
        expected_version=None,
        check=_registration_check,
        payload=payload,
    )


def _place_store(
    occurrence: Occurrence, stored: Place | None, subject: Subject | None, place: dict
) -> Place:
    if stored is None:
        stored = Place(occurrence=occurrence, operator_id=occurrence.operator_id)
    for name, value in place.items():
        setattr(stored, name, value)
    stored.subject = subject
    stored.keys_refresh()
    stored.save()
    return stored


def _place_values(place: Place) -> dict:
    return {name: getattr(place, name) for name in PLACE_FIELDS}


def _shown(values: dict) -> dict:
    return {k: (str(v) if v is not None else "") for k, v in values.items() if v not in ("", None)}


def _changes(before: dict, after: dict) -> dict:
    """``{"changes": {field: [before, after]}}`` of what differs, for the event."""
    changed = {
        name: [before.get(name), value]
        for name, value in after.items()
        if before.get(name) != value
        and not (before.get(name) in (None, "") and value in (None, ""))
    }
    return {"changes": changed} if changed else {}


# --- Service orders --------------------------------------------------------------------


def order_create(
    *,
    actor: Actor,
    occurrence: Occurrence,
    service_type: ServiceType,
    unit: Unit | None = None,
    priority: int = OrderPriority.NORMAL,
    scheduled_for: date | None = None,
) -> ServiceOrder:
    """A service order of the registration, numbered in it, for the service type's unit
    unless another is chosen."""
    if (
        service_type.subject_id != occurrence.subject_id
        or service_type.operator_id != occurrence.operator_id
        or not service_type.is_active
    ):
        raise ValidationError(
            {
                "service_type": _(
                    "Choose an active service type of the registration's specification."
                )
            }
        )
    unit = unit or service_type.default_unit
    if unit.operator_id != occurrence.operator_id or not unit.is_active:
        raise ValidationError({"unit": _("Choose an active unit of the operator.")})
    if priority not in OrderPriority.values:
        raise ValidationError({"priority": _("Choose a priority.")})
    at = timezone.now()
    with transaction.atomic():
        # The registration's lock (taken by the event) numbers its orders one at a time.
        number = 1 + (
            ServiceOrder.objects.filter(occurrence_id=occurrence.pk).aggregate(Max("number"))[
                "number__max"
            ]
            or 0
        )
        order = ServiceOrder(
            operator_id=occurrence.operator_id,
            occurrence=occurrence,
            number=number,
            service_type=service_type,
            priority=priority,
            unit=unit,
            scheduled_for=scheduled_for,
            created_at=at,
            updated_at=at,
        )
        _registration_change(
            actor,
            occurrence,
            EventKind.SERVICE_ORDER,
            {
                "summary": _("Service order %(n)d created: %(service)s, %(unit)s.")
                % {"n": number, "service": service_type.name, "unit": unit.name},
                "order": number,
                "state": OrderState.PENDING,
            },
        )
        order.save(force_insert=True)
    return order


class OrderConflict(Conflict):
    """Someone else moved the order since it was read (409 in the API, like an
    occurrence's conflict)."""

    def __init__(self, order: ServiceOrder) -> None:
        self.current_version = order.version
        Exception.__init__(
            self,
            _("Service order %(n)d was changed by someone else: see it as it is now.")
            % {"n": order.number},
        )


def order_refusal(actor: Actor, order: ServiceOrder) -> str:
    """Why this actor may not work the order ("" when they may): its executing unit's
    people, anyone not bound to units, and supervisors do."""
    if actor.is_system or actor.is_supervisor or not actor.unit_ids:
        return ""
    if order.unit_id in actor.unit_ids:
        return ""
    return _("Service order %(n)d is worked by the unit %(unit)s.") % {
        "n": order.number,
        "unit": order.unit.name,
    }


def order_move(
    *,
    actor: Actor,
    order: ServiceOrder,
    state: str,
    expected_version: int | None = None,
    outcome: str = "",
    opinion: str = "",
) -> ServiceOrder:
    """Pendente → Em execução → Aguardando liberação, and back one step; Encerrada with
    its outcome and opinion (executed once in execution or awaiting release; not executed
    from any open state). Each move is an event of the registration."""
    refusal = order_refusal(actor, order)
    if refusal:
        raise NotAllowed(refusal)
    opinion = _text_clean(opinion, "opinion", NOTE_MAX, required=state == OrderState.CLOSED)
    at = timezone.now()
    with transaction.atomic():
        current = ServiceOrder.objects.select_for_update().get(pk=order.pk)
        if expected_version is not None and current.version != expected_version:
            raise OrderConflict(current)
        _order_move_check(current, state, outcome)
        before = current.state
        current.state = state
        current.version += 1
        current.updated_at = at
        if state == OrderState.CLOSED:
            current.outcome = outcome
            current.opinion = opinion
            current.closed_at = at
        # The executing unit's person acts on a registration of another unit: for this
        # change, as a member of the whole operator (checked above).
        _registration_change(
            replace(actor, unit_ids=frozenset()),
            order.occurrence,
            EventKind.SERVICE_ORDER,
            {
                "summary": _("Service order %(n)d: %(before)s → %(after)s.")
                % {
                    "n": current.number,
                    "before": OrderState(before).label,
                    "after": OrderState(state).label
                    + (f" ({OrderOutcome(outcome).label})" if outcome else ""),
                },
                "order": current.number,
                "state": state,
                **({"opinion": opinion} if opinion else {}),
            },
        )
        current.save()
    return current


def _order_move_check(order: ServiceOrder, state: str, outcome: str) -> None:
    if state == OrderState.CLOSED:
        if not order.is_open:
            raise ValidationError(_("Service order %(n)d is closed.") % {"n": order.number})
        if outcome not in OrderOutcome.values:
            raise ValidationError({"outcome": _("Say whether the service was executed.")})
        if outcome == OrderOutcome.EXECUTED and order.state == OrderState.PENDING:
            raise ValidationError({"outcome": _("An order is executed once it was in execution.")})
        return
    if state not in ORDER_MOVES.get(order.state, set()):
        raise ValidationError(
            {
                "state": _("Service order %(n)d cannot go from %(before)s to %(after)s.")
                % {
                    "n": order.number,
                    "before": OrderState(order.state).label,
                    "after": OrderState(state).label if state in OrderState.values else state,
                }
            }
        )


def service_type_save(*, service_type: ServiceType) -> ServiceType:
    """The configurator's service type of a specification, executed by one of its units."""
    if service_type.subject.occurrence_type.operator_id != service_type.operator_id:
        raise ValidationError({"subject": _("Choose one of this operator's own records.")})
    if service_type.default_unit.operator_id != service_type.operator_id:
        raise ValidationError({"default_unit": _("Choose one of this operator's own records.")})
    service_type.name = _text_clean(service_type.name, "name", 120, required=True)
    service_type.save()
    return service_type


# --- Operational incidents -------------------------------------------------------------


def incident_create(
    *,
    actor: Actor,
    reason: IncidentReason,
    description: str,
    subjects: list[Subject],
    starts_at: datetime,
    expected_end_at: datetime,
    city: str = "",
    neighbourhoods: list[str] | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    radius_m: int | None = None,
) -> Incident:
    """Inserir ocorrência operacional: its area is neighbourhoods of a city, a circle, or
    both; registrations of its specifications opened there are linked to it."""
    if not actor.is_supervisor:
        raise NotAllowed(_("Only a supervisor registers an operational incident."))
    errors: dict = {}
    if reason.operator_id != actor.operator_id or not reason.is_active:
        errors["reason"] = [_("Choose an active reason of the operator.")]
    if not subjects or any(
        s.occurrence_type.operator_id != actor.operator_id or not s.occurrence_type.has_place
        for s in subjects
    ):
        errors["subjects"] = [_("Choose the specifications the incident affects.")]
    names = [n.strip() for n in (neighbourhoods or []) if n.strip()]
    circle = latitude is not None and longitude is not None and radius_m
    if not ((city.strip() and names) or circle):
        errors["neighbourhoods"] = [
            _("Give the affected neighbourhoods of a city, or a point and a radius.")
        ]
    if expected_end_at <= starts_at:
        errors["expected_end_at"] = [_("The expected end must come after the start.")]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        incident = Incident.objects.create(
            operator_id=actor.operator_id,
            reason=reason,
            description=_text_clean(description, "description", 300, required=True),
            city=city.strip(),
            neighbourhoods=sorted({text_key(n) for n in names}),
            latitude=latitude if circle else None,
            longitude=longitude if circle else None,
            radius_m=radius_m if circle else None,
            starts_at=starts_at,
            expected_end_at=expected_end_at,
            created_by=actor.user,
            created_at=timezone.now(),
        )
        incident.subjects.set(subjects)
    return incident


def incident_for(
    *, operator_id: int, subject: Subject | None, place: dict, at: datetime | None = None
) -> Incident | None:
    """The open incident whose area and specifications cover this place, if any (the one
    expected to last longest when several do)."""
    if subject is None:
        return None
    at = at or timezone.now()
    city = text_key(place.get("city") or "")
    area = text_key(place.get("neighbourhood") or "")
    lat, lon = place.get("latitude"), place.get("longitude")
    for incident in (
        Incident.objects.filter(
            operator_id=operator_id, closed_at__isnull=True, starts_at__lte=at, subjects=subject
        )
        .select_related("reason")
        .order_by("-expected_end_at")
    ):
        if city and area and city == text_key(incident.city) and area in incident.neighbourhoods:
            return incident
        if (
            incident.radius_m
            and lat is not None
            and lon is not None
            and distance_m(lat, lon, incident.latitude, incident.longitude) <= incident.radius_m
        ):
            return incident
    return None


def incident_close(
    *,
    actor: Actor,
    incident: Incident,
    status: Status | None = None,
    outcome_text: str = "",
) -> tuple[int, list[tuple[str, str]]]:
    """Close the incident and, with a closing ``status``, each of its open registrations with
    the same outcome, one by one: returns how many closed and which were refused and why
    (an open service order, a status of another type)."""
    if not actor.is_supervisor:
        raise NotAllowed(_("Only a supervisor closes an operational incident."))
    if incident.operator_id != actor.operator_id:
        raise Incident.DoesNotExist
    if status is not None:
        outcome_text = _text_clean(outcome_text, "outcome_text", OUTCOME_MAX, required=True)
    with transaction.atomic():
        closed_now = Incident.objects.filter(pk=incident.pk, closed_at__isnull=True).update(
            closed_at=timezone.now()
        )
    if not closed_now:
        raise ValidationError(_("The incident is already closed."))
    closed, refused = 0, []
    if status is None:
        return closed, refused
    for occurrence in Occurrence.objects.filter(place__incident=incident, mode=Mode.ACTIVE).exclude(
        state=State.CLOSED
    ):
        occurrence_relate(occurrence, actor=actor)
        try:
            with transaction.atomic():
                occurrence_close(
                    actor=actor,
                    occurrence=occurrence,
                    status=status,
                    outcome_text=outcome_text,
                    expected_version=None,
                )
        except (ValidationError, NotAllowed) as refusal:
            refused.append(
                (occurrence.protocol, " ".join(getattr(refusal, "messages", [str(refusal)])))
            )
        else:
            closed += 1
    return closed, refused


# --- Comandar encerramento --------------------------------------------------------------

BATCH_LEASE = timedelta(seconds=60)
BATCH_MAX_ATTEMPTS = 3
CRITERIA = (
    "occurrence_type",
    "subject",
    "unit",
    "registered_from",
    "registered_to",
    "city",
    "neighbourhood",
    "incident",
)


def batch_selection(*, operator_id: int, criteria: dict) -> QuerySet[Occurrence]:
    """The open registrations a batch closing's criteria name (the ids of type,
    specification, unit and incident; a period of registration; a neighbourhood)."""
    found = Occurrence.objects.filter(
        operator_id=operator_id, occurrence_type__has_place=True, mode=Mode.ACTIVE
    ).exclude(state=State.CLOSED)
    lookups = {
        "occurrence_type_id": criteria.get("occurrence_type"),
        "subject_id": criteria.get("subject"),
        "unit_id": criteria.get("unit"),
        "place__incident_id": criteria.get("incident"),
        "registered_at__date__gte": criteria.get("registered_from"),
        "registered_at__date__lte": criteria.get("registered_to"),
    }
    found = found.filter(**{k: v for k, v in lookups.items() if v not in (None, "")})
    if criteria.get("neighbourhood"):
        found = found.filter(
            place__neighbourhood_key=f"{text_key(criteria.get('city') or '')}|"
            f"{text_key(criteria['neighbourhood'])}"
        )
    return found


def batch_closing_request(
    *,
    actor: Actor,
    criteria: dict,
    status: Status,
    outcome_text: str,
    reason: OutcomeReason | None = None,
) -> BatchClosing:
    """A supervisor commands the closing; the worker does it after the commit."""
    if not actor.is_supervisor or actor.user is None:
        raise NotAllowed(_("Only a supervisor commands a batch closing."))
    unknown = set(criteria) - set(CRITERIA)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    if not any(criteria.get(name) for name in CRITERIA if name != "city"):
        raise ValidationError(
            _("Give at least one criterion: closing every registration at once is not offered.")
        )
    if status.closing == Closing.NONE or not status.occurrence_type.has_place:
        raise ValidationError({"status": _("Choose a closing status of a registration type.")})
    if status.occurrence_type.operator_id != actor.operator_id:
        raise ValidationError({"status": _("Choose one of this operator's own records.")})
    if criteria.get("occurrence_type") and criteria["occurrence_type"] != status.occurrence_type_id:
        raise ValidationError({"status": _("Choose a status of the type chosen.")})
    if reason is not None and reason.operator_id != actor.operator_id:
        raise ValidationError({"reason": _("Choose one of this operator's own records.")})
    text = _text_clean(outcome_text, "outcome_text", OUTCOME_MAX, required=True)
    now = timezone.now()
    batch = BatchClosing.objects.create(
        operator_id=actor.operator_id,
        requested_by=actor.user,
        criteria={k: v for k, v in criteria.items() if v not in (None, "")},
        status=status,
        reason=reason,
        outcome_text=text,
        total=batch_selection(operator_id=actor.operator_id, criteria=criteria)
        .filter(occurrence_type_id=status.occurrence_type_id)
        .count(),
        created_at=now,
        enqueued_at=now,
    )
    transaction.on_commit(lambda: _batch_enqueue(batch.pk))
    return batch


def _batch_enqueue(batch_id: int) -> None:
    from atende.registrations.tasks import batch_closing_task

    batch_closing_task.enqueue(batch_id=batch_id)


def batch_closing_run(*, batch_id: int) -> bool:
    """Claim the batch and close its registrations one by one, renewing the lease and
    publishing progress; True when this call finished it."""
    if not lease_claim(
        BatchClosing,
        batch_id,
        now=timezone.now(),
        lease=BATCH_LEASE,
        max_attempts=BATCH_MAX_ATTEMPTS,
    ):
        return False
    batch = BatchClosing.objects.select_related("status__occurrence_type", "reason").get(
        pk=batch_id
    )
    mine = BatchClosing.objects.filter(
        pk=batch_id, state=BatchState.RUNNING, attempts=batch.attempts
    )
    actor = actor_for_user(user=batch.requested_by, operator=batch.operator_id)
    refused = dict(batch.refused)
    pending = list(
        batch_selection(operator_id=batch.operator_id, criteria=batch.criteria)
        .filter(occurrence_type_id=batch.status.occurrence_type_id)
        .order_by("pk")
    )
    closed = batch.closed
    # What an earlier attempt already went through is no longer open.
    base = max(batch.total - len(pending), 0)
    for index, occurrence in enumerate(pending, start=1):
        if occurrence.protocol in refused:
            continue  # refused by an earlier attempt: said once
        occurrence_relate(occurrence, actor=actor)
        try:
            with transaction.atomic():
                occurrence_close(
                    actor=actor,
                    occurrence=occurrence,
                    status=batch.status,
                    outcome_text=batch.outcome_text,
                    reason=batch.reason,
                    expected_version=None,
                )
        except (ValidationError, NotAllowed) as refusal:
            refused[occurrence.protocol] = " ".join(getattr(refusal, "messages", [str(refusal)]))
        else:
            closed += 1
        # Progress and a renewed lease every 20; a lost lease: another attempt owns it.
        if index % 20 == 0 and not mine.update(
            closed=closed,
            refused=refused,
            processed=min(base + index, batch.total),
            lease_until=timezone.now() + BATCH_LEASE,
        ):
            return False
    done = mine.update(
        state=BatchState.DONE,
        closed=closed,
        refused=refused,
        processed=F("total"),
        finished_at=timezone.now(),
        lease_until=None,
    )
    return bool(done)


def batch_closings_drive() -> tuple[int, int]:
    """The scheduler's pass: queue again what a dead worker left, fail what failed too often."""
    return stale_redrive(
        BatchClosing,
        now=timezone.now(),
        max_attempts=BATCH_MAX_ATTEMPTS,
        exhausted_error=_("The batch closing was interrupted %(n)d times; command it again.")
        % {"n": BATCH_MAX_ATTEMPTS},
        enqueue=_batch_enqueue,
    )


# --- Manual numbering ------------------------------------------------------------------

MANUAL_BLOCK_MAX = 1000


def manual_block_reserve(
    *, actor: Actor, unit: Unit, occurrence_type: OccurrenceType, count: int
) -> ManualBlock:
    """A supervisor takes ``count`` numbers from the type's protocol sequence for a unit's
    paper forms: no protocol issued afterwards will repeat them."""
    if not actor.is_supervisor:
        raise NotAllowed(_("Only a supervisor reserves protocol numbers."))
    if unit.operator_id != actor.operator_id or not unit.is_active:
        raise ValidationError({"unit": _("Choose an active unit of the operator.")})
    if occurrence_type.operator_id != actor.operator_id or not occurrence_type.has_place:
        raise ValidationError({"occurrence_type": _("Choose a type of registration.")})
    if not 1 <= count <= MANUAL_BLOCK_MAX:
        raise ValidationError(
            {"count": _("Reserve from 1 to %(max)d numbers.") % {"max": MANUAL_BLOCK_MAX}}
        )
    protocol_type = occurrence_type.protocol_type
    protocol_type.operator = occurrence_type.operator
    if protocol_type.scheme == ProtocolScheme.MANUAL:
        raise ValidationError(
            {"occurrence_type": _("This type's protocols are typed by hand already.")}
        )
    at = timezone.now()
    with transaction.atomic():
        head, width, first = protocol_reserve(protocol_type=protocol_type, at=at, count=count)
        return ManualBlock.objects.create(
            operator_id=actor.operator_id,
            unit=unit,
            occurrence_type=occurrence_type,
            head=head,
            width=width,
            first=first,
            count=count,
            created_by=actor.user,
            created_at=at,
        )


def manual_number_check(*, actor: Actor, occurrence_type: OccurrenceType, number: str) -> str:
    """A number typed from a paper form: it must be in a block of the type for a unit the
    attendant works (any unit for whoever is not bound to units) and not used yet."""
    number = re.sub(r"\s", "", number or "").upper()
    blocks = ManualBlock.objects.filter(
        operator_id=occurrence_type.operator_id, occurrence_type=occurrence_type
    ).select_related("unit")
    block = next((b for b in blocks if b.holds(number)), None)
    if block is None:
        raise ValidationError(
            {
                "manual_protocol": _("%(number)s is not in a block reserved for paper forms.")
                % {"number": number or "—"}
            }
        )
    if actor.unit_ids and not actor.is_supervisor and block.unit_id not in actor.unit_ids:
        raise ValidationError(
            {
                "manual_protocol": _("%(number)s was reserved for the unit %(unit)s.")
                % {"number": number, "unit": block.unit.name}
            }
        )
    if Occurrence.objects.filter(operator_id=occurrence_type.operator_id, protocol=number).exists():
        raise ValidationError(
            {"manual_protocol": _("%(number)s was already used.") % {"number": number}}
        )
    return number


def manual_blocks_used(blocks: list[ManualBlock]) -> dict[int, list[str]]:
    """The numbers of each block already used, for the blocks' list."""
    used: dict[int, list[str]] = {b.pk: [] for b in blocks}
    numbers = {b.number(i): b.pk for b in blocks for i in range(b.count)}
    operators = {b.operator_id for b in blocks}
    for protocol in Occurrence.objects.filter(
        operator_id__in=operators, protocol__in=list(numbers)
    ).values_list("protocol", flat=True):
        used[numbers[protocol]].append(protocol)
    return used


# --- Reactivation ----------------------------------------------------------------------


def registration_reactivate(
    *, actor: Actor, occurrence: Occurrence, reason: str, expected_version: int | None = None
) -> Occurrence:
    """Reativar RA: a new registration whose origin protocol is the closed one, with its
    place, requesters and attachments copied (the files themselves are shared), and its
    protocol told to the requesters by SMS. The closed one stays closed."""
    with transaction.atomic():
        created = occurrence_reopen_as_new(
            actor=actor,
            occurrence=occurrence,
            expected_version=expected_version,
            reason=reason,
            place_follows=True,
        )
        place = Place.objects.filter(occurrence_id=occurrence.pk).first()
        if place is not None:
            _place_store(created, None, created.subject, _place_values(place))
        people = list(Requester.objects.filter(occurrence_id=occurrence.pk).order_by("pk"))
        _requesters_copy(people, to=created, origin=None, at=created.registered_at)
        Attachment.objects.bulk_create(
            Attachment(
                operator_id=created.operator_id,
                occurrence=created,
                token=secrets.token_hex(16),
                file=a.file.name,
                name=a.name,
                content_type=a.content_type,
                size=a.size,
                uploaded_by_id=a.uploaded_by_id,
                uploaded_at=a.uploaded_at,
            )
            for a in Attachment.objects.filter(occurrence_id=occurrence.pk).order_by("pk")
        )
        protocol_sms(created, phones=[p.phone for p in people], cause="open")
    return created


# --- Routing ---------------------------------------------------------------------------


def registrations_route(
    *, actor: Actor, occurrences: list[Occurrence], unit: Unit, opinion: str
) -> int:
    """Route many registrations at once (tramitar conjunto), all or none: a refusal names
    the protocol it stopped at."""
    if not occurrences:
        raise ValidationError({"occurrences": _("Select at least one registration.")})
    with transaction.atomic():
        for occurrence in occurrences:
            try:
                occurrence_route(
                    actor=actor,
                    occurrence=occurrence,
                    unit=unit,
                    opinion=opinion,
                    expected_version=None,
                )
            except (ValidationError, NotAllowed) as refusal:
                messages = getattr(refusal, "messages", None) or [str(refusal)]
                raise ValidationError(
                    _("%(protocol)s: %(reason)s")
                    % {"protocol": occurrence.protocol, "reason": " ".join(messages)}
                ) from None
    return len(occurrences)


# --- SMS to the citizen ----------------------------------------------------------------


def _phones(occurrence: Occurrence) -> list[str]:
    return list(
        Requester.objects.filter(occurrence=occurrence)
        .exclude(phone="")
        .values_list("phone", flat=True)
    )


def protocol_sms(
    occurrence: Occurrence, *, phones: list[str], cause: str, incident: Incident | None = None
) -> int:
    """The registration's protocol to each phone once per cause (the opening, or the report
    attached), through the delivery pipeline with its retries and failures screen; with
    the area's operational incident and when it is expected to end."""
    text = _("%(operator)s: your request was registered under protocol %(protocol)s.") % {
        "operator": occurrence.operator.name,
        "protocol": occurrence.protocol,
    }
    if incident is not None:
        end = operator_clock(incident.expected_end_at, occurrence.operator.time_zone)
        text += " " + _("%(reason)s in the area, expected to end %(end)s.") % {
            "reason": incident.reason.description,
            "end": f"{end:%d/%m %H:%M}",
        }
    sent = 0
    for phone in dict.fromkeys(p for p in phones if p):
        delivery_enqueue(
            key=f"ra-protocol:{occurrence.pk}:{cause}:{phone}",
            purpose=Purpose.PROTOCOL,
            channel=DeliveryChannel.SMS,
            recipient=phone,
            body=text,
            operator_id=occurrence.operator_id,
            occurrence=occurrence,
            sender=_sms_sender(occurrence.operator_id),
        )
        sent += 1
    return sent


def _sms_sender(operator_id: int) -> object:
    try:
        return sender_for(operator_id=operator_id, channel=DeliveryChannel.SMS)
    except ValidationError:
        # Written failed by the pipeline's rule for a message without a sender: the
        # failures screen shows it instead of the opening being refused.
        return None
