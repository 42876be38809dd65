"""Input and output schemas of the occurrence API. Strings refuse NUL characters and ids
stay inside the database's integer range, so bad input is a 422, never a 500."""

from datetime import datetime
from typing import Annotated

from ninja import Schema
from pydantic import Field, StringConstraints

from atende.occurrences.models import Channel, Mode, Nature, State

MAX_ID = 2**31 - 1


# PostgreSQL text cannot hold NUL; saying so in the schema makes it a 422 for everyone.
NO_NUL = r"^[^\x00]*$"


def Text(max_length: int) -> type[str]:
    return Annotated[str, StringConstraints(max_length=max_length, pattern=NO_NUL)]


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="The version you last read.")]
PROTOCOL_PATTERN = r"^[A-Za-z0-9-]{1,30}$"


class ErrorOut(Schema):
    code: str
    message: str
    errors: dict[str, list[str]] | None = None
    current_version: int | None = None


class Named(Schema):
    id: int
    name: str


class StatusRef(Schema):
    id: int
    internal_description: str
    external_description: str
    color: str


class StateOut(Schema):
    code: int
    name: str


class ApplicationRef(Schema):
    id: int
    bundle: str
    instance: int


class OutcomeOut(Schema):
    text: str
    attachment_url: str
    reason_id: int | None
    reason: str
    resolved: bool | None


class LevelRef(Schema):
    id: int
    name: str
    rank: int


class GuideRef(Schema):
    number: str
    kind: str


class ManifestationOut(Schema):
    """What the call center recorded (seed 002): classification, procedure group, the
    configured scales, the highlighted observation and the TISS guides (their
    authorisation passwords stay in Atende)."""

    manifestation_type: Named
    category: Named
    subcategory: Named
    procedure_group: Named
    urgency: LevelRef
    sentiment: LevelRef
    priority: LevelRef
    observation: str
    guides: list[GuideRef]


class OccurrenceOut(Schema):
    protocol: str
    protocol_type: str
    parent_protocol: str | None
    operator_id: int
    application: ApplicationRef
    occurrence_type: Named
    subject: Named | None
    status: StatusRef
    state: StateOut
    mode: int
    channel: str
    nature: int
    requester_identifier: str
    requester_name: str
    beneficiary_identifier: str
    beneficiary_name: str
    contract_number: str
    contact_email: str
    contact_phone: str
    description: str
    attendant: Named | None
    unit: Named | None
    registered_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None
    sla_breached: bool
    closed_at: datetime | None
    outcome: OutcomeOut | None
    manifestation: ManifestationOut | None = None
    awaiting_since: datetime | None = Field(
        None, description="Since when a message of the beneficiary waits for an answer."
    )
    version: int


class OccurrencePage(Schema):
    items: list[OccurrenceOut]
    next_cursor: int | None = Field(
        description="Pass it as `cursor` to read the next page; null on the last page."
    )


class EventOut(Schema):
    seq: int
    kind: str
    report_code: str
    at: datetime
    actor: Named | None
    application_id: int | None
    status_before: Named | None
    status_after: Named
    state_before: int | None
    state_after: int
    attendant_after_id: int | None
    unit_after_id: int | None
    shows_occurrence: bool
    visible_in_history: bool
    outcome_text: str
    outcome_attachment_url: str
    outcome_reason_id: int | None
    outcome_reason_description: str
    resolved: bool | None
    payload: dict


class OccurrenceCreateIn(Schema):
    occurrence_type_id: Id
    subject_id: Id | None = None
    application_id: Id | None = Field(
        None, description="Required with a session; a token is already bound to one."
    )
    channel: Channel = Channel.PUBLIC_API
    nature: Nature | None = Field(
        None, description="Default: 2 (self-service) with a token, 1 with a session."
    )
    mode: Mode = Mode.ACTIVE
    requester_identifier: Text(20) = ""
    requester_name: Text(200) = ""
    beneficiary_identifier: Text(20) = ""
    beneficiary_name: Text(200) = ""
    contract_number: Text(30) = ""
    contact_email: Text(254) = Field("", description="Where e-mail actions reach the beneficiary.")
    contact_phone: Text(20) = Field(
        "", description="For SMS and WhatsApp actions; Brazilian unless it starts with +."
    )
    description: Text(10_000) = ""
    parent_protocol: Annotated[str, Field(pattern=PROTOCOL_PATTERN)] | None = None
    unit_id: Id | None = None
    protocol: Text(30) = Field("", description="Only for a manual protocol type.")
    form: dict[str, object] | None = Field(
        None,
        description=(
            "The answers to the type's form filled at opening (view mode Solicitações), by "
            "field key: required from an application when the type has one; refused ones "
            "are named form.<key>."
        ),
    )


class VersionIn(Schema):
    version: Version


class StartAttendanceIn(VersionIn):
    assignee_id: Id | None = Field(None, description="A supervisor may assign someone else.")


class StatusChangeIn(VersionIn):
    status_id: Id


class RouteIn(VersionIn):
    unit_id: Id
    opinion: Text(5000) = ""


class NoteIn(Schema):
    text: Text(5000)
    version: Version | None = None


class ReplyIn(Schema):
    text: Text(5000)
    version: Version | None = None


class MessageIn(Schema):
    text: Text(5000)


class TabEntryIn(Schema):
    data: dict[str, object]
    version: Version | None = None


class ChildIn(Schema):
    occurrence_type_id: Id
    subject_id: Id | None = None
    unit_id: Id | None = None
    description: Text(10_000) = ""


class CloseIn(VersionIn):
    status_id: Id
    outcome_text: Text(10_000)
    reason_id: Id | None = None
    resolved: bool | None = Field(
        None,
        description="Whether it was attended: the closing status says; if sent, it must agree.",
    )
    attachment_url: Text(500) = ""
    duplicate_of_protocol: Text(30) = Field(
        "", description="With a reason that marks a duplicate: the original's protocol."
    )


class ReopenIn(VersionIn):
    status_id: Id | None = None
    reason: Text(5000) = ""


class ReopenAsNewIn(VersionIn):
    reason: Text(10_000) = Field("", description="Becomes the new occurrence's description.")


class AttachmentOut(Schema):
    token: str
    name: str
    content_type: str
    size: int
    uploaded_at: datetime


class TabEntryOut(Schema):
    id: int
    tab_id: int
    form_version: int
    data: dict
    created_at: datetime


class CustomerEventOut(Schema):
    at: datetime
    status: str
    state: StateOut


class CustomerOccurrenceOut(Schema):
    protocol: str
    occurrence_type: str
    subject: str | None
    status: str
    state: StateOut
    registered_at: datetime
    updated_at: datetime
    sla_due_at: datetime | None
    closed_at: datetime | None
    outcome_text: str | None
    resolved: bool | None


class MessageFileOut(Schema):
    token: str
    name: str
    size: int


class CustomerMessageOut(Schema):
    at: datetime
    from_beneficiary: bool = Field(description="False: a reply of the operator.")
    text: str
    files: list[MessageFileOut]


class CustomerOccurrenceDetailOut(CustomerOccurrenceOut):
    history: list[CustomerEventOut]
    messages: list[CustomerMessageOut]


def state_out(code: int) -> StateOut:
    return StateOut(code=code, name=str(State(code).label))
