"""Devices for push: the operator's apps register a beneficiary's FCM token, the portal a
browser's Web Push subscription. Only an application's token with ``push:register`` may."""

from typing import Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja import Status as Reply

from atende.notifications.models import PushTarget
from atende.notifications.services import push_target_register, push_target_remove
from atende.occurrences.schemas import ErrorOut
from atende.tenancy.auth import API_AUTH, ApiError, request_token, require_scope
from atende.tenancy.models import Scope

router = Router(tags=["Notificações"], auth=API_AUTH)
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class PushTargetIn(Schema):
    beneficiary_identifier: str = Field(..., max_length=20, description="CPF or CNPJ")
    kind: Literal["fcm", "webpush"]
    token: str = Field("", max_length=4096, description="FCM registration token (kind fcm)")
    subscription: dict | None = Field(
        None, description="PushSubscription.toJSON() of the browser (kind webpush)"
    )


class PushTargetOut(Schema):
    id: int
    kind: str
    beneficiary_identifier: str


def _application(request: HttpRequest) -> object:
    token = request_token(request)
    if token is None:
        raise ApiError(
            403, "token_required", _("Devices are registered by the operator's application.")
        )
    require_scope(request, Scope.PUSH_REGISTER)
    return token.application


@router.post("/push-targets", response={201: PushTargetOut, **ERRORS}, summary="Register a device")
def register(request: HttpRequest, payload: PushTargetIn) -> Reply:
    application = _application(request)
    target = push_target_register(
        application=application,
        beneficiary_identifier=payload.beneficiary_identifier,
        kind=payload.kind,
        token=payload.token,
        subscription=payload.subscription,
    )
    return Reply(201, target)


@router.delete(
    "/push-targets/{target_id}", response={204: None, **ERRORS}, summary="Forget a device"
)
def remove(request: HttpRequest, target_id: int) -> Reply:
    application = _application(request)
    # Only a device this application registered: a sandbox token reaches no production one.
    target = PushTarget.objects.filter(application=application, pk=target_id).first()
    if target is None:
        raise ApiError(404, "not_found", _("Device not found."))
    push_target_remove(target=target)
    return Reply(204, None)
