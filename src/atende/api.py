"""The public API, versioned under /api/v1/. Each app contributes a router from its
``api`` module; errors are JSON with a stable ``code`` and a Portuguese ``message``."""

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, RequestDataTooBig
from django.core.exceptions import ValidationError as ModelValidationError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser

from atende.beneficiaries.api import router as beneficiaries_router
from atende.callcenter.api import router as callcenter_router
from atende.catalog.api import router as catalog_router
from atende.catalog.protocols import ProtocolExhausted
from atende.core.jsonbody import JsonRefused, json_parse
from atende.notifications.api import router as notifications_router
from atende.occurrences.api import router as occurrences_router
from atende.occurrences.services import Conflict, SubmissionReused
from atende.registrations.api import router as registrations_router
from atende.reports.api import router as reports_router
from atende.tenancy.api import router as tenancy_router
from atende.tenancy.auth import BrowserSessionAuth


class BodyParser(Parser):
    """Bodies as ``json_parse`` reads them: too deep or holding NUL is refused."""

    def parse_body(self, request: HttpRequest) -> dict:
        return json_parse(request.body)


api = NinjaAPI(
    title="Atende API",
    version="1",
    description=(
        "Occurrences and protocols for health-plan operators and public-service companies. "
        "Errors are JSON objects with a stable `code` and a `message` in Portuguese."
    ),
    urls_namespace="api-1",
    auth=BrowserSessionAuth(),
    docs_url="/docs",
    parser=BodyParser(),
)
api.add_router("/", tenancy_router)
api.add_router("/", catalog_router)
api.add_router("/", occurrences_router)
api.add_router("/", reports_router)
api.add_router("/", notifications_router)
api.add_router("/", beneficiaries_router)
api.add_router("/", callcenter_router)
api.add_router("/", registrations_router)


def _error(
    request: HttpRequest, code: str, message: str, status: int, **extra: object
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, "not_authenticated", "Autenticação necessária.", 401)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # The same shape as a domain refusal: field → messages; the field is where it was
    # found ("body.version", "query.limit", "path.protocol").
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        loc = tuple(error.get("loc", ()))
        if len(loc) > 2 and loc[0] == "body":
            # ("body", <the view's parameter>, field, …): the parameter is our own name.
            loc = (loc[0], *loc[2:])
        where = ".".join(str(part) for part in loc) or "request"
        errors.setdefault(where, []).append(str(error.get("msg", "")))
    return _error(request, "invalid_input", "Os dados enviados são inválidos.", 422, errors=errors)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if isinstance(exc.__cause__, JsonRefused):
        # Django Ninja wraps whatever the parser raised; say what the parser said.
        return _error(request, "invalid_json", str(exc.__cause__), 400)
    return _error(request, getattr(exc, "code", "error"), str(exc), exc.status_code)


@api.exception_handler(RequestDataTooBig)
def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1024
    message = _("The request body is larger than %(kb)d KB.") % {"kb": limit}
    return _error(request, "too_large", message, 413)


@api.exception_handler(ModelValidationError)
def _refused(request: HttpRequest, exc: ModelValidationError) -> HttpResponse:
    """A rule of the domain refused the change; nothing was stored."""
    if hasattr(exc, "error_dict"):
        errors = {field: [str(m) for m in messages] for field, messages in exc.message_dict.items()}
        first = next(iter(errors.values()))[0]
        return _error(request, "refused", first, 400, errors=errors)
    code = getattr(exc, "code", None) or "refused"
    return _error(request, code, " ".join(exc.messages), 400)


@api.exception_handler(ProtocolExhausted)
def _exhausted(request: HttpRequest, exc: ProtocolExhausted) -> HttpResponse:
    return _error(request, "protocol_exhausted", " ".join(exc.messages), 409)


@api.exception_handler(Conflict)
def _conflict(request: HttpRequest, exc: Conflict) -> HttpResponse:
    return _error(request, "conflict", str(exc), 409, current_version=exc.current_version)


@api.exception_handler(SubmissionReused)
def _reused(request: HttpRequest, exc: SubmissionReused) -> HttpResponse:
    # The IETF draft suggests 422, which this API answers only for input that breaks its
    # schema: the key is valid, it conflicts with what is stored for it, as a stale
    # version does.
    return _error(request, "idempotency_key_reused", str(exc), 409)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    message = str(exc) or _("You are not allowed to do this.")
    return _error(request, "forbidden", message, 403)


@api.exception_handler(ObjectDoesNotExist)
def _not_found(request: HttpRequest, exc: ObjectDoesNotExist) -> HttpResponse:
    return _error(request, "not_found", _("Not found."), 404)
