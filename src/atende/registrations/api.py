"""Registro de Atendimento endpoints: a citizen's report from the phone app, the SMS
gateway's inbound webhook, opening a registration with its place and requesters, the
duplicate check, requesters and place, and routing many at once.

Registrations are addressed by protocol among those the caller sees, like occurrences."""

import base64
import binascii
from datetime import date, datetime
from typing import Annotated, Literal

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Form, Path, Query, Router, Schema, UploadedFile
from ninja import Status as Reply
from ninja.security import HttpBearer
from pydantic import Field, StrictBool, StringConstraints

from atende.catalog.models import Subject
from atende.occurrences.api import (
    IdempotencyKey,
    ProtocolPath,
    _actor,
    _changing,
    _occurrence,
    _people,
    _visible,
    api_created,
    api_earlier,
    api_submission,
)
from atende.occurrences.models import Channel, Mode, Occurrence
from atende.occurrences.schemas import MAX_ID, NO_NUL, ErrorOut, Id, Text
from atende.occurrences.selectors import occurrence_by_protocol, occurrence_of_application
from atende.occurrences.services import actor_for_application, occurrence_relate
from atende.registrations.models import (
    Place,
    RegistrationSettings,
    Requester,
    ServiceOrder,
    ServiceType,
)
from atende.registrations.selectors import Match, duplicates_find, related_of, routings_of
from atende.registrations.services import (
    order_create,
    order_move,
    place_update,
    properties_load,
    registration_open,
    registration_update,
    registrations_route,
    report_receive,
    requester_add,
    requester_update,
    settings_for_sms_token,
    sms_receive,
)
from atende.tenancy.auth import API_AUTH, ApiError, request_token, require_scope
from atende.tenancy.models import Application, Scope, Unit

router = Router(tags=["Registro de Atendimento"], auth=API_AUTH)

READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {400: ErrorOut, 409: ErrorOut, **READ_ERRORS}


def Filled(max_length: int) -> type[str]:
    """Text that a form must send (an empty form field is a missing one)."""
    return Annotated[str, StringConstraints(min_length=1, max_length=max_length, pattern=NO_NUL)]


ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]


class PlaceIn(Schema):
    street: Text(200) = ""
    number: Text(20) = ""
    complement: Text(100) = ""
    neighbourhood: Text(100) = ""
    city: Text(100) = ""
    state: Text(2) = ""
    postal_code: Text(9) = ""
    reference: Text(200) = ""
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)
    property_registration: Text(30) = ""


class PlaceOut(PlaceIn):
    address: str


class RequesterIn(Schema):
    kind: Literal["person", "unit"] = "person"
    name: Text(200) = ""
    identifier: Text(20) = Field("", description="CPF, optional.")
    phone: Text(30) = ""
    email: Text(254) = ""
    unit_id: Id | None = None


class RequesterOut(Schema):
    id: int
    kind: str
    name: str
    identifier: str
    phone: str
    email: str
    unit_id: int | None
    origin_protocol: str


class DocumentIn(Schema):
    name: Text(200)
    content_base64: str = Field(..., max_length=14_000_000)


class RegistrationIn(Schema):
    application_id: Id | None = Field(None, description="For a signed-in person: the source.")
    subject_id: Id = Field(..., description="The specification (a subject of a type with a place).")
    channel: ChannelName = Channel.PHONE
    description: Text(10_000)
    place: PlaceIn
    requesters: list[RequesterIn] = Field(..., min_length=1, max_length=50)
    document: DocumentIn | None = None
    form: dict[str, str | int | float | bool | list[str] | None] = Field(
        default_factory=dict,
        description="The specification's form, when it has one (its field keys and values).",
    )
    manual_protocol: Text(30) = Field(
        "", description="A number reserved for paper forms (manual numbering), if typed from one."
    )
    open_anyway: StrictBool = Field(
        False,
        description=(
            "The duplicate check runs first: with open registrations of the specification "
            "at the place, the answer is 409 with them, unless this is true."
        ),
    )


class GeneralIn(Schema):
    subject_id: Id
    description: Text(10_000)


class ReportIn(Schema):
    """A citizen's report, sent by the phone app as a form (with an optional photo)."""

    subject_id: int = Field(..., ge=1, le=MAX_ID)
    description: Filled(10_000)
    phone: Filled(30)
    name: Text(200) = ""
    street: Text(200) = ""
    number: Text(20) = ""
    neighbourhood: Text(100) = ""
    city: Text(100) = ""
    state: Text(2) = ""
    postal_code: Text(9) = ""
    reference: Text(200) = ""
    # As a form sends them; checked by the service (a comma or a point for decimals).
    latitude: Text(30) = ""
    longitude: Text(30) = ""
    property_registration: Text(30) = ""


class ReportOut(Schema):
    protocol: str
    mode: str
    received_at: datetime


class RoutingOut(Schema):
    at: datetime
    from_unit: str
    to_unit: str
    person: str
    opinion: str


class RelatedOut(Schema):
    of_property: list[str]
    closed_here: list[str]
    open_in_area: list[str]


class RegistrationOut(Schema):
    protocol: str
    mode: str
    specification: str
    unit: str
    place: PlaceOut | None
    requesters: list[RequesterOut]
    routings: list[RoutingOut]
    related: RelatedOut | None


class MatchOut(Schema):
    protocol: str
    reason: str = Field(..., description="property, address or near")
    distance_m: float | None
    registered_at: datetime
    status: str
    address: str
    requesters: list[str]


class DuplicatesOut(Schema):
    code: str
    message: str
    matches: list[MatchOut]


class DuplicatesQuery(PlaceIn):
    subject_id: Id


class RouteManyIn(Schema):
    protocols: list[Text(30)] = Field(..., min_length=1, max_length=200)
    unit_id: Id
    opinion: Text(5000)


class RoutedOut(Schema):
    routed: int


class SmsIn(Schema):
    sender: Text(30) = Field(..., alias="from", description="The number that sent it.")
    text: Text(1600)
    received_at: datetime | None = None


class PropertyIn(Schema):
    property_registration: Filled(30)
    debtor: StrictBool


class PropertiesIn(Schema):
    properties: list[PropertyIn] = Field(..., min_length=1, max_length=10_000)


class StoredOut(Schema):
    stored: int


class OrderIn(Schema):
    service_type_id: Id
    unit_id: Id | None = Field(None, description="Blank: the service type's unit.")
    priority: Literal[1, 2, 3, 4] = 2
    scheduled_for: date | None = None


class OrderStateIn(Schema):
    state: Literal["pendente", "em_execucao", "aguardando_liberacao", "encerrada"]
    outcome: Literal["", "executada", "nao_executada"] = ""
    opinion: Text(5000) = ""
    version: Id | None = Field(None, description="The order's version you last read.")


class OrderOut(Schema):
    number: int
    service_type: str
    unit: str
    priority: int
    scheduled_for: date | None
    state: str
    outcome: str
    opinion: str
    version: int
    created_at: datetime
    closed_at: datetime | None


class SmsToken(HttpBearer):
    """``Authorization: Bearer atsms_…`` — the operator's SMS gateway."""

    def authenticate(self, request: HttpRequest, token: str) -> RegistrationSettings | None:
        return settings_for_sms_token(token)


# --- Output ----------------------------------------------------------------------------


def place_out(place: Place) -> PlaceOut:
    return PlaceOut(
        **{name: getattr(place, name) for name in PlaceIn.model_fields}, address=place.address
    )


def requester_out(r: Requester) -> RequesterOut:
    return RequesterOut(
        id=r.pk,
        kind=r.kind,
        name=r.name if r.kind == "person" else (r.unit.name if r.unit_id else ""),
        identifier=r.identifier,
        phone=r.phone,
        email=r.email,
        unit_id=r.unit_id,
        origin_protocol=r.origin.protocol if r.origin_id else "",
    )


def match_out(m: Match) -> MatchOut:
    return MatchOut(
        protocol=m.occurrence.protocol,
        reason=m.reason,
        distance_m=round(m.distance, 1) if m.distance is not None else None,
        registered_at=m.occurrence.registered_at,
        status=m.occurrence.status.internal_description,
        address=m.place.address,
        requesters=[str(r) for r in m.requesters],
    )


def registration_out(o: Occurrence, visible) -> RegistrationOut:
    place = Place.objects.filter(occurrence=o).first()
    return RegistrationOut(
        protocol=o.protocol,
        mode="rascunho" if o.mode == Mode.DRAFT else "ativo",
        specification=o.subject.name if o.subject_id else "",
        unit=o.unit.name if o.unit_id else "",
        place=place_out(place) if place is not None else None,
        requesters=[
            requester_out(r) for r in o.requesters.select_related("unit", "origin").order_by("pk")
        ],
        routings=[
            RoutingOut(
                at=e.at,
                from_unit=e.unit_before.name if e.unit_before_id else "",
                to_unit=e.unit_after.name if e.unit_after_id else "",
                person=e.actor_name,
                opinion=e.payload.get("opinion", ""),
            )
            for e in routings_of(o)
        ],
        related=_related_out(place, visible) if place is not None else None,
    )


def _related_out(place: Place, visible) -> RelatedOut:
    related = related_of(place, visible=visible)
    return RelatedOut(
        of_property=[o.protocol for o in related.of_property],
        closed_here=[o.protocol for o in related.closed_here],
        open_in_area=[o.protocol for o in related.open_in_area],
    )


def _registration(request: HttpRequest, protocol: str, scope: str) -> Occurrence:
    occurrence = _occurrence(request, protocol, scope)
    if not occurrence.occurrence_type.has_place:
        raise Occurrence.DoesNotExist
    return occurrence


def _subject(request: HttpRequest, subject_id: int) -> Subject:
    subjects = Subject.objects.filter(
        pk=subject_id,
        is_active=True,
        occurrence_type__has_place=True,
        occurrence_type__is_active=True,
    ).select_related("occurrence_type__operator")
    token = request_token(request)
    if token is not None:
        subjects = subjects.filter(occurrence_type__operator_id=token.application.operator_id)
    else:
        operators = {a.operator_id for a in _people(request)}
        subjects = subjects.filter(occurrence_type__operator_id__in=operators)
    subject = subjects.first()
    if subject is None:
        raise ValidationError({"subject_id": [_("Choose an active specification.")]})
    return subject


def _document(document: DocumentIn | None) -> UploadedFile | None:
    if document is None:
        return None
    try:
        content = base64.b64decode(document.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError({"document": [_("The document is not valid base64.")]}) from None
    return SimpleUploadedFile(document.name, content)


def _requester_values(item: RequesterIn, operator_id: int) -> dict:
    values = item.dict()
    unit_id = values.pop("unit_id")
    values["unit"] = (
        Unit.objects.filter(operator_id=operator_id, pk=unit_id).first() if unit_id else None
    )
    return values


def order_out(o: ServiceOrder) -> OrderOut:
    return OrderOut(
        number=o.number,
        service_type=o.service_type.name,
        unit=o.unit.name,
        priority=o.priority,
        scheduled_for=o.scheduled_for,
        state=o.state,
        outcome=o.outcome,
        opinion=o.opinion,
        version=o.version,
        created_at=o.created_at,
        closed_at=o.closed_at,
    )


# --- Endpoints -------------------------------------------------------------------------


@router.post(
    "/registrations/reports",
    response={201: ReportOut, **WRITE_ERRORS},
    summary="A citizen's report from the phone app: a draft in the intake queue",
)
def report_create(
    request: HttpRequest, payload: Form[ReportIn], photo: File[UploadedFile] = None
) -> Reply[ReportOut]:
    require_scope(request, Scope.OCCURRENCES_WRITE)
    token = request_token(request)
    if token is None:
        raise ApiError(403, "token_required", _("Reports are sent by the operator's app."))
    subject = _subject(request, payload.subject_id)
    values = payload.dict()
    occurrence = report_receive(
        application=token.application,
        subject=subject,
        description=values.pop("description"),
        phone=values.pop("phone"),
        name=values.pop("name"),
        place={k: v for k, v in values.items() if k != "subject_id"},
        photo=photo,
    )
    return Reply(
        201,
        ReportOut(
            protocol=occurrence.protocol, mode="rascunho", received_at=occurrence.registered_at
        ),
    )


@router.post(
    "/registrations/sms",
    response={201: ReportOut, 400: ErrorOut, 401: ErrorOut, 422: ErrorOut},
    auth=[SmsToken()],
    summary="The SMS gateway's inbound webhook: a received SMS becomes a draft",
)
def sms_inbound(request: HttpRequest, payload: SmsIn) -> Reply[ReportOut]:
    occurrence = sms_receive(
        config=request.auth, number=payload.sender, text=payload.text, at=payload.received_at
    )
    return Reply(
        201,
        ReportOut(
            protocol=occurrence.protocol, mode="rascunho", received_at=occurrence.registered_at
        ),
    )


@router.put(
    "/registrations/properties",
    response={200: StoredOut, **WRITE_ERRORS},
    summary="Load the billing situation of properties (matrícula → debtor or not)",
)
def properties_put(request: HttpRequest, payload: PropertiesIn) -> StoredOut:
    require_scope(request, Scope.PROPERTIES_WRITE)
    token = request_token(request)
    if token is None:
        raise ApiError(403, "token_required", _("The operator's commercial system loads this."))
    stored = properties_load(
        operator_id=token.application.operator_id,
        rows=[(p.property_registration, p.debtor) for p in payload.properties],
    )
    return StoredOut(stored=stored)


@router.post(
    "/registrations",
    response={201: RegistrationOut, **WRITE_ERRORS, 409: DuplicatesOut},
    summary="Open a registration with its place and requesters (the protocol is issued at once)",
)
def registration_create(
    request: HttpRequest,
    response: HttpResponse,
    payload: RegistrationIn,
    idempotency_key: IdempotencyKey = None,
) -> Reply[RegistrationOut]:
    require_scope(request, Scope.OCCURRENCES_WRITE)
    submission = api_submission(request, idempotency_key, payload)
    earlier = api_earlier(request, response, submission)
    if earlier is not None:
        # Before the duplicate check, which would find the first copy's registration.
        return Reply(201, registration_out(earlier, _visible(request)))
    token = request_token(request)
    subject = _subject(request, payload.subject_id)
    operator_id = subject.occurrence_type.operator_id
    if token is not None:
        application = token.application
    else:
        application = (
            Application.objects.for_user(request.auth)
            .select_related("operator")
            .filter(pk=payload.application_id or 0, operator_id=operator_id, is_active=True)
            .first()
        )
        if application is None:
            raise ValidationError({"application_id": [_("Choose the application.")]})
    if not payload.open_anyway:
        matches = _visible_matches(
            request,
            duplicates_find(
                operator_id=operator_id, subject_id=subject.pk, place=payload.place.dict()
            ),
        )
        if matches:
            return Reply(
                409,
                DuplicatesOut(
                    code="possible_duplicates",
                    message=_(
                        "There are open registrations of this specification at this place: "
                        "attach the requester to one of them, or send open_anyway."
                    ),
                    matches=matches,
                ),
            )
    actor = _actor(request, operator_id)
    requesters = [_requester_values(r, operator_id) for r in payload.requesters]
    document = _document(payload.document)
    occurrence = api_created(
        request,
        response,
        submission,
        lambda: registration_open(
            actor=actor,
            application=application,
            occurrence_type=subject.occurrence_type,
            subject=subject,
            channel=payload.channel,
            description=payload.description,
            place=payload.place.dict(),
            requesters=requesters,
            document=document,
            manual_protocol=payload.manual_protocol,
            form_data=payload.form,
        ),
    )
    return Reply(201, registration_out(occurrence, _visible(request)))


@router.get(
    "/registrations/duplicates",
    response={200: list[MatchOut], 400: ErrorOut, **READ_ERRORS},
    summary="The duplicate check: open registrations of the specification here or nearby",
)
def duplicates(request: HttpRequest, query: Query[DuplicatesQuery]) -> list[MatchOut]:
    require_scope(request, Scope.OCCURRENCES_READ)
    subject = _subject(request, query.subject_id)
    place = query.dict()
    place.pop("subject_id")
    matches = duplicates_find(
        operator_id=subject.occurrence_type.operator_id, subject_id=subject.pk, place=place
    )
    return _visible_matches(request, matches)


def _visible_matches(request: HttpRequest, matches: list[Match]) -> list[MatchOut]:
    """The matches the caller may read (a unit-bound attendant sees their units' only)."""
    visible = set(
        _visible(request)
        .filter(pk__in=[m.occurrence.pk for m in matches])
        .values_list("pk", flat=True)
    )
    return [match_out(m) for m in matches if m.occurrence.pk in visible]


@router.post(
    "/registrations/route",
    response={200: RoutedOut, **WRITE_ERRORS},
    summary="Route several registrations to a unit with one opinion (all or none)",
)
def route_many(request: HttpRequest, payload: RouteManyIn) -> RoutedOut:
    require_scope(request, Scope.OCCURRENCES_WRITE)
    visible = _visible(request)
    found = []
    for protocol in dict.fromkeys(p.upper() for p in payload.protocols):
        try:
            found.append(occurrence_by_protocol(visible, protocol, related=False))
        except Occurrence.DoesNotExist:
            raise ValidationError(
                {"protocols": [_("Protocol %(protocol)s not found.") % {"protocol": protocol}]}
            ) from None
    operators = {o.operator_id for o in found}
    if len(operators) != 1:
        raise ValidationError({"protocols": [_("Route registrations of one operator at a time.")]})
    operator_id = operators.pop()
    unit = Unit.objects.filter(operator_id=operator_id, pk=payload.unit_id).first()
    if unit is None:
        raise ValidationError({"unit_id": [_("Not found among this operator's records.")]})
    actor = _actor(request, operator_id)
    for occurrence in found:
        occurrence_relate(occurrence, actor=actor)
    return RoutedOut(
        routed=registrations_route(
            actor=actor, occurrences=found, unit=unit, opinion=payload.opinion
        )
    )


@router.get(
    "/registrations/{protocol}",
    response={200: RegistrationOut, **READ_ERRORS},
    summary="A registration: place, requesters, routings and the related registrations",
)
def registration_read(request: HttpRequest, protocol: ProtocolPath) -> RegistrationOut:
    occurrence = _registration(request, protocol, Scope.OCCURRENCES_READ)
    return registration_out(occurrence, _visible(request))


@router.put(
    "/registrations/{protocol}",
    response={200: RegistrationOut, **WRITE_ERRORS},
    summary="Change the general data: specification (of the same type) and description",
)
def general_change(
    request: HttpRequest, protocol: ProtocolPath, payload: GeneralIn
) -> RegistrationOut:
    occurrence, actor, snapshot = _changing(request, protocol)
    if not occurrence.occurrence_type.has_place:
        raise Occurrence.DoesNotExist
    subject = snapshot.subjects.get(payload.subject_id)
    if subject is None:
        raise ValidationError({"subject_id": [_("Choose an active specification.")]})
    registration_update(
        actor=actor, occurrence=occurrence, subject=subject, description=payload.description
    )
    return registration_out(occurrence, _visible(request))


@router.post(
    "/registrations/{protocol}/requesters",
    response={201: RequesterOut, **WRITE_ERRORS},
    summary="Add a requester",
)
def requester_create(
    request: HttpRequest, protocol: ProtocolPath, payload: RequesterIn
) -> Reply[RequesterOut]:
    occurrence, actor, _snapshot = _changing(request, protocol)
    if not occurrence.occurrence_type.has_place:
        raise Occurrence.DoesNotExist
    requester = requester_add(
        actor=actor,
        occurrence=occurrence,
        values=_requester_values(payload, occurrence.operator_id),
    )
    return Reply(201, requester_out(requester))


@router.put(
    "/registrations/{protocol}/requesters/{requester_id}",
    response={200: RequesterOut, **WRITE_ERRORS},
    summary="Change a requester",
)
def requester_change(
    request: HttpRequest, protocol: ProtocolPath, requester_id: Id, payload: RequesterIn
) -> RequesterOut:
    occurrence, actor, _snapshot = _changing(request, protocol)
    requester = Requester.objects.filter(occurrence=occurrence, pk=requester_id).first()
    if requester is None:
        raise Requester.DoesNotExist
    requester.occurrence = occurrence
    requester = requester_update(
        actor=actor,
        requester=requester,
        values=_requester_values(payload, occurrence.operator_id),
    )
    return requester_out(requester)


@router.get(
    "/registrations/{protocol}/orders",
    response={200: list[OrderOut], **READ_ERRORS},
    summary="The registration's service orders",
)
def orders_read(request: HttpRequest, protocol: ProtocolPath) -> list[OrderOut]:
    occurrence = _registration(request, protocol, Scope.OCCURRENCES_READ)
    return [
        order_out(o)
        for o in occurrence.service_orders.select_related("service_type", "unit").order_by("number")
    ]


@router.post(
    "/registrations/{protocol}/orders",
    response={201: OrderOut, **WRITE_ERRORS},
    summary="Create a service order (numbered in the registration)",
)
def order_new(request: HttpRequest, protocol: ProtocolPath, payload: OrderIn) -> Reply[OrderOut]:
    occurrence, actor, _snapshot = _changing(request, protocol)
    if not occurrence.occurrence_type.has_place:
        raise Occurrence.DoesNotExist
    service_type = ServiceType.objects.filter(
        operator_id=occurrence.operator_id, pk=payload.service_type_id
    ).first()
    if service_type is None:
        raise ValidationError({"service_type_id": [_("Not found among this operator's records.")]})
    unit = None
    if payload.unit_id is not None:
        unit = Unit.objects.filter(operator_id=occurrence.operator_id, pk=payload.unit_id).first()
        if unit is None:
            raise ValidationError({"unit_id": [_("Not found among this operator's records.")]})
    order = order_create(
        actor=actor,
        occurrence=occurrence,
        service_type=service_type,
        unit=unit,
        priority=payload.priority,
        scheduled_for=payload.scheduled_for,
    )
    return Reply(201, order_out(order))


@router.post(
    "/registrations/{protocol}/orders/{number}/state",
    response={200: OrderOut, **WRITE_ERRORS},
    summary="Move a service order (the executing unit's people, or a supervisor)",
)
def order_state(
    request: HttpRequest,
    protocol: ProtocolPath,
    number: Annotated[int, Path(ge=1, le=32767)],
    payload: OrderStateIn,
) -> OrderOut:
    require_scope(request, Scope.OCCURRENCES_WRITE)
    token = request_token(request)
    if token is not None:
        occurrence = occurrence_of_application(application=token.application, protocol=protocol)
        actor = actor_for_application(application=token.application)
    else:
        # The executing unit's people work orders of registrations they may not see.
        people = _people(request)
        occurrence = occurrence_by_protocol(
            Occurrence.objects.filter(operator_id__in=[a.operator_id for a in people]),
            protocol,
            related=False,
        )
        actor = _actor(request, occurrence.operator_id)
    occurrence_relate(occurrence, actor=actor)
    order = (
        ServiceOrder.objects.filter(occurrence=occurrence, number=number)
        .select_related("service_type", "unit")
        .first()
    )
    if order is None:
        raise ServiceOrder.DoesNotExist
    order.occurrence = occurrence
    moved = order_move(
        actor=actor,
        order=order,
        state=payload.state,
        outcome=payload.outcome,
        opinion=payload.opinion,
        expected_version=payload.version,
    )
    moved.service_type, moved.unit = order.service_type, order.unit
    return order_out(moved)


@router.put(
    "/registrations/{protocol}/place",
    response={200: PlaceOut, **WRITE_ERRORS},
    summary="Change the place of occurrence",
)
def place_change(request: HttpRequest, protocol: ProtocolPath, payload: PlaceIn) -> PlaceOut:
    occurrence, actor, _snapshot = _changing(request, protocol)
    if not occurrence.occurrence_type.has_place:
        raise Occurrence.DoesNotExist
    return place_out(place_update(actor=actor, occurrence=occurrence, values=payload.dict()))
