"""The public API, versioned under /api/v1/. Each app contributes a router from its
``api`` module; errors are JSON with a stable ``code`` and a Portuguese ``message``."""

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import SessionAuth

from atende.tenancy.api import router as tenancy_router

api = NinjaAPI(
    title="Atende API",
    version="1",
    description=(
        "Occurrences and protocols for health-plan operators and public-service companies. "
        "Errors are JSON objects with a stable `code` and a `message` in Portuguese."
    ),
    urls_namespace="api-1",
    auth=SessionAuth(),
    docs_url="/docs",
)
api.add_router("/", tenancy_router)


def _error(
    request: HttpRequest, code: str, message: str, status: int, **extra: object
) -> HttpResponse:
    return api.create_response(request, {"code": code, "message": message, **extra}, status=status)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, "not_authenticated", "Autenticação necessária.", 401)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    return _error(
        request, "invalid_input", "Os dados enviados são inválidos.", 422, errors=exc.errors
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return _error(request, getattr(exc, "code", "error"), str(exc), exc.status_code)
