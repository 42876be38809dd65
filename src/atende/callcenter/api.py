"""The phone system's side of the call center: it announces a call (the screen pop) to the
attendant who will answer it. Only application tokens with the scope ``calls:write``;
the call belongs to the token's operator."""

from datetime import datetime
from typing import Literal

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja import Status as Reply

from atende.callcenter.services import call_announce
from atende.occurrences.models import Channel
from atende.occurrences.schemas import ErrorOut
from atende.tenancy.auth import TokenAuth, request_token, require_scope
from atende.tenancy.models import Scope

router = Router(tags=["Central de atendimento"], auth=[TokenAuth()])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut}
ChannelName = Literal[tuple(Channel.values)]  # type: ignore[valid-type]


class CallIn(Schema):
    caller_number: str = Field("", max_length=30, description="The caller's number, any format.")
    ivr_code: str = Field(
        "", max_length=30, description="The beneficiary code typed in the IVR (the card)."
    )
    channel: ChannelName = Field(Channel.PHONE, description="How the beneficiary reached us.")
    attendant_email: str = Field("", max_length=254)
    extension: str = Field("", max_length=10, description="The attendant's phone extension.")


class CallOut(Schema):
    id: int
    caller_number: str
    ivr_code: str
    channel: str
    attendant_email: str
    received_at: datetime


@router.post(
    "/calls",
    response={201: CallOut, **ERRORS},
    summary="Announce an incoming call to an attendant (screen pop)",
)
def call_create(request: HttpRequest, payload: CallIn) -> Reply[CallOut]:
    require_scope(request, Scope.CALLS_WRITE)
    call = call_announce(application=request_token(request).application, **payload.dict())
    return Reply(
        201,
        {
            "id": call.pk,
            "caller_number": call.caller_number,
            "ivr_code": call.ivr_code,
            "channel": call.channel,
            "attendant_email": call.attendant.email,
            "received_at": call.received_at,
        },
    )
