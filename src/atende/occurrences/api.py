"""The occurrence endpoints: authorize → parse → one service or selector → output.

Occurrences are addressed by protocol among those the caller sees; anything else answers
404 and leaks nothing. Changes that overwrite state take the ``version`` the caller read:
a stale one answers 409.
"""

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from django.core.exceptions import ValidationError
from django.db.models import Model, QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Header, Path, Query, Router, Schema
from ninja import Status as Reply
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

from atende.accounts.models import User
from atende.callcenter.services import critique_checked_types, request_card, request_refusal
from atende.catalog.models import AttendanceTab, OccurrenceType, OutcomeReason, Status, Subject
from atende.catalog.snapshots import TypeSnapshot, type_snapshot
from atende.occurrences.models import Attachment, Channel, Event, Nature, Occurrence, State
from atende.occurrences.schemas import (
    PROTOCOL_PATTERN,
    ApplicationRef,
    AttachmentOut,
    ChildIn,
    CloseIn,
    CustomerEventOut,
    CustomerMessageOut,
    CustomerOccurrenceDetailOut,
    CustomerOccurrenceOut,
    ErrorOut,
    EventOut,
    GuideRef,
    Id,
    LevelRef,
    ManifestationOut,
    MessageFileOut,
    MessageIn,
    Named,
    NoteIn,
    OccurrenceCreateIn,
    OccurrenceOut,
    OccurrencePage,
    OutcomeOut,
    ReopenAsNewIn,
    ReopenIn,
    ReplyIn,
    RouteIn,
    StartAttendanceIn,
    StatusChangeIn,
    StatusRef,
    TabEntryIn,
    TabEntryOut,
    VersionIn,
    state_out,
)
from atende.occurrences.selectors import (
    OccurrenceFilters,
    beneficiary_occurrences,
    conversation,
    customer_view,
    occurrence_by_protocol,
    occurrence_for_change,
    occurrence_history,
    occurrence_list,
    occurrence_of_application,
    occurrences_of_application,
    occurrences_visible_to,
)
from atende.occurrences.services import (
    Actor,
    Submission,
    actor_among,
    actor_for_application,
    actors_for_user,
    created_once,
    done_once,
    issuer_of,
    occurrence_add_note,
    occurrence_attach_once,
    occurrence_change_status,
    occurrence_close,
    occurrence_create,
    occurrence_create_child,
    occurrence_customer_message,
    occurrence_fill_tab,
    occurrence_relate,
    occurrence_release,
    occurrence_reopen,
    occurrence_reopen_as_new,
    occurrence_reply,
    occurrence_route,
    occurrence_start_attendance,
    submitted,
)
from atende.registrations.services import registration_reactivate
from atende.tenancy.auth import API_AUTH, ApiError, request_token, require_scope
from atende.tenancy.models import Application, Scope, Unit

router = Router(tags=["Ocorrências"], auth=API_AUTH)

ProtocolPath = Annotated[str, Path(pattern=PROTOCOL_PATTERN)]
READ_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}
# A creation's retry: the IETF's Idempotency-Key header, a string, quoted or not.
IdempotencyKey = Annotated[
    str | None,
    Header(
        None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=257,
        pattern=r'^(?:[\x21\x23-\x7e]{1,255}|"[\x21\x23-\x7e]{1,255}")$',
        description=(
            "A key of your own (a UUID, say) for this request. Sent again with the same "
            "body within 24 hours, the request answers with what the first one created "
            "(header Idempotent-Replayed: true) instead of creating it again; with a "
            "different body it is refused (409)."
        ),
    ),
]
WRITE_ERRORS = {400: ErrorOut, 409: ErrorOut, **READ_ERRORS}


# --- Who is calling --------------------------------------------------------------------


def _people(request: HttpRequest) -> list[Actor]:
    """The signed-in person as an actor per operator, read once per request."""
    if not hasattr(request, "atende_actors"):
        request.atende_actors = actors_for_user(user=request.auth)
    return request.atende_actors


def api_submission(
    request: HttpRequest, key: str | None, payload: Schema | bytes
) -> Submission | None:
    """The creation request as a ``Submission`` when it carries an Idempotency-Key: the key
    is the caller's (its token, or the signed-in person), the digest covers the address
    and the body (``payload``, or the bytes that stand for a body that is a file)."""
    if key is None:
        return None
    token = request_token(request)
    body = payload if isinstance(payload, bytes) else payload.model_dump_json().encode()
    asked = request.path.encode() + b"\n" + body
    return Submission(
        issuer=issuer_of(token if token is not None else request.auth),
        key=key.strip('"'),
        digest=hashlib.sha256(asked).hexdigest(),
    )


def api_earlier(
    request: HttpRequest, response: HttpResponse, submission: Submission | None
) -> Occurrence | None:
    """What this submission already created (see ``submitted``), as the caller sees it
    now, the answer marked a replay; None when it created nothing yet. A key used for
    another request is answered 409 by the API's handler of ``SubmissionReused``."""
    earlier = submitted(submission)
    return None if earlier is None else _replayed(request, response, earlier)


def api_created(
    request: HttpRequest,
    response: HttpResponse,
    submission: Submission | None,
    create: Callable[[], Occurrence],
) -> Occurrence:
    """``create`` run once for the submission (``created_once``); a copy that lost the
    race to an earlier one answers as its replay."""
    occurrence, replayed = created_once(submission, create)
    return _replayed(request, response, occurrence) if replayed else occurrence


def _replayed(request: HttpRequest, response: HttpResponse, earlier: Occurrence) -> Occurrence:
    # Read again as the caller sees it now (a person may have lost the operator since:
    # 404), and said to be a replay.
    _say_replayed(response)
    return occurrence_by_protocol(
        _visible(request).filter(operator_id=earlier.operator_id), earlier.protocol
    )


def _say_replayed(response: HttpResponse) -> None:
    response["Idempotent-Replayed"] = "true"  # Stripe's name for it


def _visible(request: HttpRequest) -> QuerySet[Occurrence]:
    token = request_token(request)
    if token is not None:
        return occurrences_of_application(application=token.application)
    return occurrences_visible_to(actors=_people(request))


def _occurrence(request: HttpRequest, protocol: str, scope: str) -> Occurrence:
    require_scope(request, scope)
    return occurrence_by_protocol(_visible(request), protocol)


def _changing(request: HttpRequest, protocol: str) -> tuple[Occurrence, Actor, TypeSnapshot]:
    """The occurrence to change, read alone, with the caller as its actor; its catalog
    (type, statuses) comes from the snapshot the caller's operator keys."""
    require_scope(request, Scope.OCCURRENCES_WRITE)
    token = request_token(request)
    if token is not None:
        occurrence = occurrence_of_application(application=token.application, protocol=protocol)
    else:
        occurrence = occurrence_for_change(_people(request), protocol)
    actor = _actor(request, occurrence.operator_id)
    return occurrence, actor, occurrence_relate(occurrence, actor=actor)


def _status(snapshot: TypeSnapshot, pk: int | None) -> Status | None:
    """A status of the occurrence's type, or a 400 naming the field."""
    if pk is None:
        return None
    status = snapshot.statuses.get(pk)
    if status is None:
        raise ValidationError(
            {"status_id": [_("Choose an active status of this occurrence type.")]}
        )
    return status


def _actor(request: HttpRequest, operator_id: int) -> Actor:
    token = request_token(request)
    if token is not None:
        return actor_for_application(application=token.application)
    return actor_among(_people(request), operator_id=operator_id)


def _person_only(request: HttpRequest) -> None:
    if request_token(request) is not None:
        raise ApiError(
            403,
            "person_required",
            _("This operation is done by a signed-in attendant or supervisor, not by a token."),
        )


def _pick(model: type[Model], operator_id: int, pk: int | None, field: str) -> object | None:
    """The record ``pk`` of ``model`` of the occurrence's operator, None when the request
    names none (then nothing is read), or a 400 naming the field."""
    if pk is None:
        return None
    return _found(model.objects.for_operator(operator_id), pk, field)


def _found(queryset: QuerySet, pk: int, field: str) -> object:
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: [_("Not found among this operator's records.")]})
    return found


# --- Output ----------------------------------------------------------------------------


def _named(obj: object, name: str) -> Named | None:
    return None if obj is None else Named(id=obj.pk, name=name)


def _person(user: User | None) -> Named | None:
    return None if user is None else Named(id=user.pk, name=user.full_name or user.email)


def occurrence_out(o: Occurrence) -> OccurrenceOut:
    outcome = None
    if o.closed_at is not None:
        reason = o.outcome_reason
        outcome = OutcomeOut(
            text=o.outcome_text,
            attachment_url=o.outcome_attachment_url,
            reason_id=o.outcome_reason_id,
            reason=reason.description if reason else "",
            resolved=o.resolved,
        )
    return OccurrenceOut(
        protocol=o.protocol,
        protocol_type=o.protocol_type.name,
        parent_protocol=o.parent.protocol if o.parent_id else None,
        operator_id=o.operator_id,
        application=ApplicationRef(
            id=o.application_id, bundle=o.application.bundle, instance=o.application.instance
        ),
        occurrence_type=_named(o.occurrence_type, o.occurrence_type.name),
        subject=_named(o.subject, o.subject.name) if o.subject_id else None,
        status=StatusRef(
            id=o.status_id,
            internal_description=o.status.internal_description,
            external_description=o.status.external_description,
            color=o.status.color,
        ),
        state=state_out(o.state),
        mode=o.mode,
        channel=o.channel,
        nature=o.nature,
        requester_identifier=o.requester_identifier,
        requester_name=o.requester_name,
        beneficiary_identifier=o.beneficiary_identifier,
        beneficiary_name=o.beneficiary_name,
        contract_number=o.contract_number,
        contact_email=o.contact_email,
        contact_phone=o.contact_phone,
        description=o.description,
        attendant=_person(o.attendant),
        unit=_named(o.unit, o.unit.name) if o.unit_id else None,
        registered_at=o.registered_at,
        updated_at=o.updated_at,
        sla_due_at=o.sla_due_at,
        sla_breached=o.sla_breached_at is not None,
        closed_at=o.closed_at,
        outcome=outcome,
        manifestation=manifestation_out(o),
        awaiting_since=o.awaiting_since,
        version=o.version,
    )


def manifestation_out(o: Occurrence) -> ManifestationOut | None:
    if o.classification_id is None:
        return None
    subcategory = o.classification
    category = subcategory.parent
    kind = category.parent

    def level(value: object) -> LevelRef:
        return LevelRef(id=value.pk, name=value.name, rank=value.rank)

    return ManifestationOut(
        manifestation_type=_named(kind, kind.name),
        category=_named(category, category.name),
        subcategory=_named(subcategory, subcategory.name),
        procedure_group=_named(o.procedure_group, o.procedure_group.name),
        urgency=level(o.urgency),
        sentiment=level(o.sentiment),
        priority=level(o.priority),
        observation=o.observation,
        guides=[GuideRef(number=g["number"], kind=g["kind"]) for g in o.guides],
    )


def event_out(e: Event) -> EventOut:
    return EventOut(
        seq=e.seq,
        kind=e.kind,
        report_code=e.report_code,
        at=e.at,
        actor=Named(id=e.actor_id, name=e.actor_name) if e.actor_id else None,
        application_id=e.actor_application_id,
        status_before=Named(id=e.status_before_id, name=e.status_before_description)
        if e.status_before_id
        else None,
        status_after=Named(id=e.status_after_id, name=e.status_after_description),
        state_before=e.state_before,
        state_after=e.state_after,
        attendant_after_id=e.attendant_after_id,
        unit_after_id=e.unit_after_id,
        shows_occurrence=e.shows_occurrence,
        visible_in_history=e.visible_in_history,
        outcome_text=e.outcome_text,
        outcome_attachment_url=e.outcome_attachment_url,
        outcome_reason_id=e.outcome_reason_id,
        outcome_reason_description=e.outcome_reason_description,
        resolved=e.resolved,
        payload=e.payload,
    )


# --- Create, read, list ----------------------------------------------------------------


@router.post(
    "/occurrences",
    response={201: OccurrenceOut, **WRITE_ERRORS},
    summary="Register an occurrence (the protocol is issued at once)",
)
def create(
    request: HttpRequest,
    response: HttpResponse,
    payload: OccurrenceCreateIn,
    idempotency_key: IdempotencyKey = None,
) -> Reply[OccurrenceOut]:
    require_scope(request, Scope.OCCURRENCES_WRITE)
    submission = api_submission(request, idempotency_key, payload)
    earlier = api_earlier(request, response, submission)
    if earlier is not None:
        return Reply(201, occurrence_out(earlier))
    token = request_token(request)
    if token is not None:
        application = token.application
        nature = payload.nature or Nature.SELF_SERVICE
    else:
        if payload.application_id is None:
            raise ValidationError({"application_id": [_("Choose the application.")]})
        application = (
            Application.objects.for_user(request.auth)
            .select_related("operator")
            .filter(pk=payload.application_id)
            .first()
        )
        if application is None:
            raise ValidationError(
                {"application_id": [_("Not found among this operator's records.")]}
            )
        nature = payload.nature or Nature.ATTENDANCE
    actor = _actor(request, application.operator_id)
    snapshot = type_snapshot(operator=application.operator, type_id=payload.occurrence_type_id)
    if snapshot is None:
        raise ValidationError({"occurrence_type_id": [_("Choose an active occurrence type.")]})
    subject = None
    if payload.subject_id is not None:
        subject = snapshot.subjects.get(payload.subject_id)
        if subject is None:
            raise ValidationError(
                {"subject_id": [_("Choose an active subject of this occurrence type.")]}
            )
    if payload.beneficiary_identifier and snapshot.occurrence_type.pk in critique_checked_types(
        application.operator
    ):
        # A refund for a card with a blocking critique is refused here as in a call and in
        # the portal (seed 003).
        refusal = request_refusal(
            beneficiary=request_card(
                operator_id=application.operator_id,
                identifier=payload.beneficiary_identifier,
                contract_number=payload.contract_number,
            ),
            occurrence_type=snapshot.occurrence_type,
        )
        if refusal:
            raise ValidationError({"beneficiary_identifier": [refusal]})
    parent = None
    if payload.parent_protocol:
        try:
            parent = occurrence_by_protocol(_visible(request), payload.parent_protocol)
        except Occurrence.DoesNotExist:
            raise ValidationError({"parent_protocol": [_("Protocol not found.")]}) from None
    unit = _pick(Unit, application.operator_id, payload.unit_id, "unit_id")
    occurrence = api_created(
        request,
        response,
        submission,
        lambda: occurrence_create(
            actor=actor,
            application=application,
            occurrence_type=snapshot.occurrence_type,
            subject=subject,
            channel=payload.channel,
            nature=nature,
            mode=payload.mode,
            requester_identifier=payload.requester_identifier,
            requester_name=payload.requester_name,
            beneficiary_identifier=payload.beneficiary_identifier,
            beneficiary_name=payload.beneficiary_name,
            contract_number=payload.contract_number,
            contact_email=payload.contact_email,
            contact_phone=payload.contact_phone,
            opening_form=payload.form,
            description=payload.description,
            parent=parent,
            unit=unit,
            manual_protocol=payload.protocol,
        ),
    )
    return Reply(201, occurrence_out(occurrence))


@router.get(
    "/occurrences/{protocol}",
    response={200: OccurrenceOut, **READ_ERRORS},
    summary="Read an occurrence by protocol",
)
def read(request: HttpRequest, protocol: ProtocolPath) -> OccurrenceOut:
    return occurrence_out(_occurrence(request, protocol, Scope.OCCURRENCES_READ))


def _iso_only(value: object) -> object:
    # Pydantic would read a bare number as a Unix time; the API takes ISO 8601 only.
    if not isinstance(value, str) or not value[:1].isdigit() or "T" not in value:
        raise ValueError("give an ISO 8601 date-time with its offset")
    return value


def _in_utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None


IsoDateTime = Annotated[AwareDatetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]


class ListQuery(Schema):
    occurrence_type: list[Id] | None = None
    subject: list[Id] | None = None
    status: list[Id] | None = None
    state: list[State] | None = None
    unit: list[Id] | None = None
    attendant: list[Id] | None = None
    channel: list[Channel] | None = None
    registered_from: IsoDateTime | None = Field(None, description="Inclusive.")
    registered_to: IsoDateTime | None = Field(None, description="Inclusive.")
    sla_breached: bool | None = None
    beneficiary: Annotated[str, Field(max_length=20, pattern=r"^\d*$")] | None = None
    cursor: Id | None = None
    limit: Annotated[int, Field(ge=1, le=200)] = 50
    oldest_first: bool = False


@router.get(
    "/occurrences",
    response={200: OccurrencePage, **READ_ERRORS, 400: ErrorOut},
    summary="List occurrences (filters, keyset pagination)",
)
def list_occurrences(request: HttpRequest, query: Query[ListQuery]) -> OccurrencePage:
    require_scope(request, Scope.OCCURRENCES_READ)
    filters = OccurrenceFilters(
        occurrence_type=query.occurrence_type,
        subject=query.subject,
        status=query.status,
        state=[int(s) for s in query.state] if query.state else None,
        unit=query.unit,
        attendant=query.attendant,
        channel=query.channel,
        registered_from=query.registered_from,
        registered_to=query.registered_to,
        sla_breached=query.sla_breached,
        beneficiary=query.beneficiary or None,
    )
    items = occurrence_list(
        _visible(request),
        filters=filters,
        after=query.cursor,
        limit=query.limit + 1,
        newest_first=not query.oldest_first,
    )
    more = len(items) > query.limit
    items = items[: query.limit]
    return OccurrencePage(
        items=[occurrence_out(o) for o in items],
        next_cursor=items[-1].pk if more else None,
    )


@router.get(
    "/occurrences/{protocol}/events",
    response={200: list[EventOut], **READ_ERRORS},
    summary="The occurrence's history (its event log)",
)
def history(request: HttpRequest, protocol: ProtocolPath) -> list[EventOut]:
    occurrence = _occurrence(request, protocol, Scope.OCCURRENCES_READ)
    return [event_out(e) for e in occurrence_history(occurrence)]


# --- Lifecycle -------------------------------------------------------------------------


@router.post(
    "/occurrences/{protocol}/start-attendance",
    response={200: OccurrenceOut, **WRITE_ERRORS},
    summary="Start attending (assign to me; a supervisor may assign someone)",
)
def start_attendance(
    request: HttpRequest, protocol: ProtocolPath, payload: StartAttendanceIn
) -> OccurrenceOut:
    _person_only(request)
    occurrence, actor, _ = _changing(request, protocol)
    assignee = None
    if payload.assignee_id is not None:
        assignee = _found(User.objects.filter(is_active=True), payload.assignee_id, "assignee_id")
    occurrence_start_attendance(
        actor=actor,
        occurrence=occurrence,
        expected_version=payload.version,
        assignee=assignee,
    )
    return occurrence_out(occurrence)


@router.post(
    "/occurrences/{protocol}/status",
    response={200: OccurrenceOut, **WRITE_ERRORS},
    summary="Change the status (not to a closing one: close instead)",
)
def change_status(
    request: HttpRequest, protocol: ProtocolPath, payload: StatusChangeIn
) -> OccurrenceOut:
    occurrence, actor, snapshot = _changing(request, protocol)
    occurrence_change_status(
        actor=actor,
        occurrence=occurrence,
        status=_status(snapshot, payload.status_id),
        expected_version=payload.version,
    )
    return occurrence_out(occurrence)


@router.post(
    "/occurrences/{protocol}/release",
    response={200: OccurrenceOut, **WRITE_ERRORS},
    summary="Release to the queue",
)
def release(request: HttpRequest, protocol: ProtocolPath, payload: VersionIn) -> OccurrenceOut:
    _person_only(request)
    occurrence, actor, _ = _changing(request, protocol)
    occurrence_release(
        actor=actor,
        occurrence=occurrence,
        expected_version=payload.version,
    )
    return occurrence_out(occurrence)


@router.post(
    "/occurrences/{protocol}/route",
    response={200: OccurrenceOut, **WRITE_ERRORS},
    summary="Route to another unit",
)
def route(request: HttpRequest, protocol: ProtocolPath, payload: RouteIn) -> OccurrenceOut:
    occurrence, actor, _ = _changing(request, protocol)
    unit = _pick(Unit, occurrence.operator_id, payload.unit_id, "unit_id")
    occurrence_route(
        actor=actor,
        occurrence=occurrence,
        unit=unit,
        expected_version=payload.version,
        opinion=payload.opinion,
    )
    return occurrence_out(occurrence)


@router.post(
    "/occurrences/{protocol}/notes",
    response={201: EventOut, **WRITE_ERRORS},
    summary="Add an internal note",
)
def add_note(request: HttpRequest, protocol: ProtocolPath, payload: NoteIn) -> Reply[EventOut]:
    occurrence, actor, _ = _changing(request, protocol)
    event = occurrence_add_note(
        actor=actor,
        occurrence=occurrence,
        text=payload.text,
        expected_version=payload.version,
    )
    return Reply(201, event_out(event))


@router.post(
    "/occurrences/{protocol}/replies",
    response={201: EventOut, **WRITE_ERRORS},
    summary="Reply to the beneficiary (public: they read it and are told by e-mail and push)",
)
def add_reply(request: HttpRequest, protocol: ProtocolPath, payload: ReplyIn) -> Reply[EventOut]:
    occurrence, actor, _ = _changing(request, protocol)
    event = occurrence_reply(
        actor=actor, occurrence=occurrence, text=payload.text, expected_version=payload.version
    )
    return Reply(201, event_out(event))


@router.post(
    "/occurrences/{protocol}/attachments",
    response={201: AttachmentOut, **WRITE_ERRORS},
    summary="Attach a file (size and type limits apply)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                }
            },
        }
    },
)
def add_attachment(
    request: HttpRequest,
    response: HttpResponse,
    protocol: ProtocolPath,
    idempotency_key: IdempotencyKey = None,
) -> Reply[AttachmentOut]:
    occurrence = _occurrence(request, protocol, Scope.OCCURRENCES_WRITE)
    # Read by hand (the body is declared below): Django drops an empty file part, and
    # "no file" must be the same clear 400 as "an empty file".
    file = request.FILES.get("file")
    if file is None:
        raise ValidationError({"file": [_("Send a file with content.")]})
    submission = None
    if idempotency_key is not None:
        content = hashlib.sha256()
        for chunk in file.chunks():
            content.update(chunk)
        file.seek(0)
        stands_for = f"{file.name}\n{content.hexdigest()}".encode()
        submission = api_submission(request, idempotency_key, stands_for)
    attachment, now = occurrence_attach_once(
        submission=submission,
        actor=_actor(request, occurrence.operator_id),
        occurrence=occurrence,
        upload=file,
    )
    if not now:
        _say_replayed(response)
    return Reply(201, AttachmentOut.from_orm(attachment))


@router.get(
    "/occurrences/{protocol}/attachments",
    response={200: list[AttachmentOut], **READ_ERRORS},
    summary="List the attachments",
)
def list_attachments(request: HttpRequest, protocol: ProtocolPath) -> list[AttachmentOut]:
    occurrence = _occurrence(request, protocol, Scope.OCCURRENCES_READ)
    return [AttachmentOut.from_orm(a) for a in occurrence.attachments.all()]


@router.get(
    "/occurrences/{protocol}/attachments/{token}",
    response={**READ_ERRORS},
    summary="Download an attachment",
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, always as a download.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def download_attachment(
    request: HttpRequest,
    protocol: ProtocolPath,
    token: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> FileResponse:
    occurrence = _occurrence(request, protocol, Scope.OCCURRENCES_READ)
    attachment = Attachment.objects.get(occurrence=occurrence, token=token)
    # Served as a download, never rendered: an uploaded file is not trusted content.
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )


@router.post(
    "/occurrences/{protocol}/tabs/{tab_id}/entries",
    response={201: TabEntryOut, **WRITE_ERRORS},
    summary="Fill an attendance tab (validated against its form's current version)",
)
def fill_tab(
    request: HttpRequest, protocol: ProtocolPath, tab_id: Id, payload: TabEntryIn
) -> Reply[TabEntryOut]:
    occurrence = _occurrence(request, protocol, Scope.OCCURRENCES_WRITE)
    tab = _pick(AttendanceTab, occurrence.operator_id, tab_id, "tab_id")
    entry = occurrence_fill_tab(
        actor=_actor(request, occurrence.operator_id),
        occurrence=occurrence,
        tab=tab,
        data=payload.data,
        expected_version=payload.version,
    )
    return Reply(
        201,
        TabEntryOut(
            id=entry.pk,
            tab_id=entry.tab_id,
            form_version=entry.form_version.number,
            data=entry.data,
            created_at=entry.created_at,
        ),
    )


@router.post(
    "/occurrences/{protocol}/children",
    response={201: OccurrenceOut, **WRITE_ERRORS},
    summary="Raise a child occurrence (pendency) from this one",
)
def create_child(
    request: HttpRequest, protocol: ProtocolPath, payload: ChildIn
) -> Reply[OccurrenceOut]:
    parent = _occurrence(request, protocol, Scope.OCCURRENCES_WRITE)
    operator_id = parent.operator_id
    child = occurrence_create_child(
        actor=_actor(request, parent.operator_id),
        parent=parent,
        occurrence_type=_pick(
            OccurrenceType,
            operator_id,
            payload.occurrence_type_id,
            "occurrence_type_id",
        ),
        subject=_pick(Subject, operator_id, payload.subject_id, "subject_id"),
        unit=_pick(Unit, operator_id, payload.unit_id, "unit_id"),
        description=payload.description,
    )
    return Reply(201, occurrence_out(child))


@router.post(
    "/occurrences/{protocol}/close",
    response={200: OccurrenceOut, **WRITE_ERRORS},
    summary="Close with an outcome",
)
def close(request: HttpRequest, protocol: ProtocolPath, payload: CloseIn) -> OccurrenceOut:
    occurrence, actor, snapshot = _changing(request, protocol)
    occurrence_close(
        actor=actor,
        occurrence=occurrence,
        status=_status(snapshot, payload.status_id),
        outcome_text=payload.outcome_text,
        reason=_pick(
            OutcomeReason,
            occurrence.operator_id,
            payload.reason_id,
            "reason_id",
        ),
        resolved=payload.resolved,
        attachment_url=payload.attachment_url,
        duplicate_of=_original(request, payload.duplicate_of_protocol),
        expected_version=payload.version,
    )
    return occurrence_out(occurrence)


def _original(request: HttpRequest, protocol: str) -> Occurrence | None:
    """The occurrence a closing names as the original of a duplicate."""
    if not protocol:
        return None
    try:
        return occurrence_by_protocol(_visible(request), protocol, related=False)
    except Occurrence.DoesNotExist:
        raise ValidationError({"duplicate_of_protocol": [_("Protocol not found.")]}) from None


@router.post(
    "/occurrences/{protocol}/reopen",
    response={200: OccurrenceOut, **WRITE_ERRORS},
    summary="Reopen a closed occurrence (supervisor)",
)
def reopen(request: HttpRequest, protocol: ProtocolPath, payload: ReopenIn) -> OccurrenceOut:
    _person_only(request)
    occurrence, actor, snapshot = _changing(request, protocol)
    occurrence_reopen(
        actor=actor,
        occurrence=occurrence,
        expected_version=payload.version,
        status=_status(snapshot, payload.status_id),
        reason=payload.reason,
    )
    return occurrence_out(occurrence)


@router.post(
    "/occurrences/{protocol}/reopen-as-new",
    response={201: OccurrenceOut, **WRITE_ERRORS},
    summary="Reopen GSAN style: a new occurrence whose origin is this closed one (supervisor)",
)
def reopen_as_new(
    request: HttpRequest, protocol: ProtocolPath, payload: ReopenAsNewIn
) -> Reply[OccurrenceOut]:
    _person_only(request)
    occurrence = _occurrence(request, protocol, Scope.OCCURRENCES_WRITE)
    # A registration's reactivation also copies its place, requesters and attachments.
    reopen = (
        registration_reactivate
        if occurrence.occurrence_type.has_place
        else occurrence_reopen_as_new
    )
    created = reopen(
        actor=_actor(request, occurrence.operator_id),
        occurrence=occurrence,
        expected_version=payload.version,
        reason=payload.reason,
    )
    return Reply(201, occurrence_out(created))


# --- The beneficiary's view ------------------------------------------------------------

BeneficiaryPath = Annotated[str, Path(pattern=r"^\d{11}$|^\d{14}$")]


def _customer_out(o: Occurrence) -> dict:
    view = customer_view(o)
    out = {
        name: getattr(view, name) for name in CustomerOccurrenceOut.model_fields if name != "state"
    }
    return {**out, "state": state_out(view.state)}


@router.get(
    "/beneficiaries/{identifier}/occurrences",
    response={200: list[CustomerOccurrenceOut], **READ_ERRORS},
    summary="A beneficiary's own occurrences, as they see them",
    tags=["Beneficiário"],
)
def beneficiary_list(request: HttpRequest, identifier: BeneficiaryPath) -> list[dict]:
    require_scope(request, Scope.BENEFICIARY_READ)
    occurrences = beneficiary_occurrences(_visible(request), identifier=identifier)[:200]
    return [_customer_out(o) for o in occurrences]


@router.get(
    "/beneficiaries/{identifier}/occurrences/{protocol}",
    response={200: CustomerOccurrenceDetailOut, **READ_ERRORS},
    summary="One of the beneficiary's occurrences with its visible history",
    tags=["Beneficiário"],
)
def beneficiary_detail(
    request: HttpRequest, identifier: BeneficiaryPath, protocol: ProtocolPath
) -> dict:
    require_scope(request, Scope.BENEFICIARY_READ)
    occurrence = _beneficiarys(request, identifier, protocol)
    return {
        **_customer_out(occurrence),
        "messages": [_message_out(m) for m in conversation(occurrence)],
        "history": [
            CustomerEventOut(
                at=e.at,
                status=e.status_after.external_description,
                state=state_out(e.state_after),
            )
            for e in occurrence.customer_events
        ],
    }


def _message_out(message: Event) -> CustomerMessageOut:
    return CustomerMessageOut(
        at=message.at,
        from_beneficiary=message.from_beneficiary,
        text=message.payload.get("text", ""),
        files=[MessageFileOut(token=f.token, name=f.name, size=f.size) for f in message.files],
    )


def _beneficiarys(request: HttpRequest, identifier: str, protocol: str) -> Occurrence:
    """One of the beneficiary's occurrences, through the token's application."""
    return occurrence_by_protocol(
        beneficiary_occurrences(_visible(request), identifier=identifier), protocol
    )


@router.post(
    "/beneficiaries/{identifier}/occurrences/{protocol}/messages",
    response={201: CustomerMessageOut, **WRITE_ERRORS},
    summary="A message of the beneficiary on their own open occurrence (the app's chat)",
    tags=["Beneficiário"],
)
def beneficiary_message(
    request: HttpRequest,
    response: HttpResponse,
    identifier: BeneficiaryPath,
    protocol: ProtocolPath,
    payload: MessageIn,
    idempotency_key: IdempotencyKey = None,
) -> Reply[CustomerMessageOut]:
    token = request_token(request)
    if token is None:
        raise ApiError(
            403,
            "token_required",
            _("A beneficiary's message comes from their application's token, not a person."),
        )
    require_scope(request, Scope.BENEFICIARY_WRITE)
    occurrence = _beneficiarys(request, identifier, protocol)
    event, sent = done_once(
        api_submission(request, idempotency_key, payload),
        occurrence,
        lambda: occurrence_customer_message(
            application=token.application,
            occurrence=occurrence,
            author=occurrence.beneficiary_name,
            text=payload.text,
        ),
    )
    if not sent:
        _say_replayed(response)
    event.from_beneficiary, event.files = True, []
    return Reply(201, _message_out(event))


@router.get(
    "/beneficiaries/{identifier}/occurrences/{protocol}/attachments/{token}",
    response={**READ_ERRORS},
    summary="Download a file of the conversation (never the operator's internal ones)",
    tags=["Beneficiário"],
    openapi_extra={
        "responses": {
            200: {
                "description": "The file, always as a download.",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    },
)
def beneficiary_attachment(
    request: HttpRequest,
    identifier: BeneficiaryPath,
    protocol: ProtocolPath,
    token: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
) -> FileResponse:
    require_scope(request, Scope.BENEFICIARY_READ)
    occurrence = _beneficiarys(request, identifier, protocol)
    attachment = Attachment.objects.get(occurrence=occurrence, token=token, public=True)
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=attachment.name,
        content_type="application/octet-stream",
    )
