"""Who calls the API: an application's bearer token (integrators and apps) or a signed-in
person's session (Atende's own pages)."""

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja.errors import HttpError
from ninja.security import HttpBearer, SessionAuth
from ninja.utils import check_csrf

from atende.tenancy.models import ApiToken
from atende.tenancy.services import api_token_authenticate
from atende.tenancy.timezones import operator_time_zone_activate


class TokenAuth(HttpBearer):
    """``Authorization: Bearer atd_…`` — a token of one application, with scopes."""

    def authenticate(self, request: HttpRequest, token: str) -> ApiToken | None:
        found = api_token_authenticate(token)
        if found is not None:
            # Its operator's day (a card's validity, a waiting period's end), read with the
            # token; the times the API answers carry their offset whatever the zone.
            operator_time_zone_activate(found.application.operator.time_zone)
        return found


class ApiError(HttpError):
    def __init__(self, status_code: int, code: str, message: str) -> None:
        super().__init__(status_code, message)
        self.code = code


def request_token(request: HttpRequest) -> ApiToken | None:
    return request.auth if isinstance(request.auth, ApiToken) else None


def require_scope(request: HttpRequest, scope: str) -> None:
    token = request_token(request)
    if token is not None and scope not in token.scopes:
        raise ApiError(
            403,
            "insufficient_scope",
            _("This token lacks the scope this operation needs: %(scope)s.") % {"scope": scope},
        )


class BrowserSessionAuth(SessionAuth):
    """A person's browser session (the API's documentation page, a screen's own calls).

    Without a signed-in session there is nothing to check: a request with no token, or a
    wrong one (or a session cookie that signs no one in), is told that it is not
    authenticated (401) instead of failing a CSRF check it never had to pass. A signed-in
    session's write without the CSRF token is refused in words the caller understands."""

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        if key is None or not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise ApiError(
                403,
                "csrf_failed",
                _(
                    "This request uses a signed-in session and lacks its CSRF token; "
                    "reload the page, or authenticate with an application token."
                ),
            )
        return key


class PersonSessionAuth(BrowserSessionAuth):
    """Only a person signed in to Atende. An application token sent here is told that it
    cannot be used, rather than failing the session's CSRF check."""

    def __call__(self, request: HttpRequest) -> object:
        if request.headers.get("Authorization", "").lower().startswith("bearer "):
            raise ApiError(
                401,
                "session_required",
                _(
                    "These operations are for people signed in to Atende; application tokens "
                    "cannot use them."
                ),
            )
        return super().__call__(request)


API_AUTH = [TokenAuth(), BrowserSessionAuth()]
