import contextlib
import re
import threading
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.shortcuts import render
from django.urls import Resolver404, resolve
from django.utils import timezone, translation
from django.utils.csp import CSP, build_policy
from django.utils.translation import gettext as _

from atende.tenancy.timezones import SESSION_KEY as TIME_ZONE_KEY
from atende.tenancy.timezones import operator_time_zone_activate


class LanguageMiddleware:
    """Portuguese unless the person chose otherwise.

    Django's LocaleMiddleware follows the browser's Accept-Language; an attendant's browser in
    English would then get an English screen they did not ask for. Here the choice is explicit:
    the language cookie set by the language switcher, else the site default (pt-BR).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        translation.deactivate()
        return response


class OperatorTimeZoneMiddleware:
    """The person's operators' time zone for the request's times (``tenancy.timezones``),
    the platform's default otherwise; an API request gets its token's operator's from the
    authentication. Whatever was activated is let go after the answer, so a thread's next
    request does not inherit it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            if not request.path.startswith("/api/"):
                zone = request.session.get(TIME_ZONE_KEY)
                if zone:
                    operator_time_zone_activate(zone)
            return self.get_response(request)
        finally:
            timezone.deactivate()


# A plain str: WSGI servers refuse a header name of another type (CSP's names are an enum).
POLICY_HEADER = str(CSP.HEADER_ENFORCE)


class PagePolicyMiddleware:
    """The Content-Security-Policy of ``SECURE_CSP`` on what a browser renders: pages, the
    API's documentation, error pages. JSON answers skip it (nothing in them runs), so the
    API's hot paths neither build nor carry it. The policy has no nonce (no page of ours has
    an inline script), so it is built once."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = build_policy(settings.SECURE_CSP) if settings.SECURE_CSP else ""

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            self.policy
            and POLICY_HEADER not in response
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            response.headers[POLICY_HEADER] = self.policy
        return response


class Turns:
    """``size`` turns, handed out in the order they were asked for: a waiting request is
    never overtaken by one that came later (a semaphore lets any waiter in, and the
    unlucky one waits for many turns)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0
        self.waiting: deque[threading.Event] = deque()
        self.lock = threading.Lock()

    def take(self, timeout: float) -> bool:
        with self.lock:
            if self.taken < self.size and not self.waiting:
                self.taken += 1
                return True
            mine = threading.Event()
            self.waiting.append(mine)
        if mine.wait(timeout):
            return True
        with self.lock:
            if mine in self.waiting:
                self.waiting.remove(mine)
                return False
        return True  # handed over just as the wait ran out

    def give_back(self) -> None:
        with self.lock:
            if self.waiting:
                self.waiting.popleft().set()  # the turn passes straight on
            else:
                self.taken -= 1


class ApiGateMiddleware:
    """At most ``API_CONCURRENCY`` API requests at work in a process at once; the rest wait
    their turn here, before any of their work is done, and a request that waited
    ``API_QUEUE_SECONDS`` is answered 503 with ``Retry-After``.

    The people's screens never wait at this gate: an integrator's burst of creations takes
    a bounded share of the process, and an attendant's click starts at once instead of
    queueing behind it (the server runs more threads than the gate lets through, so a free
    thread is there for them).

    A turn is for work, not for a slow client's upload: a request's body is read before it
    takes one. Files (multipart, up to the attachment limit) are not held in memory for
    that, so they pass without a turn; they are few, and mostly the client's time."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.turns = Turns(settings.API_CONCURRENCY)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path_info.startswith("/api/") or request.content_type.startswith(
            "multipart/"
        ):
            return self.get_response(request)
        # Read now, while no turn is held; a body too large is the view's to refuse.
        with contextlib.suppress(RequestDataTooBig):
            request.body  # noqa: B018
        if not self.turns.take(timeout=settings.API_QUEUE_SECONDS):
            message = _("The server is busy; try again in a moment.")
            response = JsonResponse(
                {"code": "busy", "message": message},
                status=503,
                json_dumps_params={"ensure_ascii": False},
            )
            response["Retry-After"] = "1"
            return response
        try:
            return self.get_response(request)
        finally:
            self.turns.give_back()


class ApiMethodMiddleware:
    """An API address called with a method it does not take is the API's JSON error, in
    Portuguese like every other, with the methods it takes (Django Ninja answers plain text)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 405 or not request.path_info.startswith("/api/"):
            return response
        allowed = response.get("Allow", "")
        message = _("This address does not take %(method)s; it takes %(allowed)s.") % {
            "method": request.method,
            "allowed": allowed,
        }
        refused = JsonResponse(
            {"code": "method_not_allowed", "message": message},
            status=405,
            json_dumps_params={"ensure_ascii": False},
        )
        refused["Allow"] = allowed
        return refused


# The beneficiary import page takes files far larger than an attachment.
IMPORT_PATH = re.compile(r"/configuracao/\d+/beneficiarios/importar/")


class UploadLimitMiddleware:
    """Refuses a request whose declared body is larger than an attachment may be, before a
    byte of it is read. Django never reads past the declared length, so what passes here is
    read at most up to the limit (plus room for the form's other fields)."""

    FORM_ROOM = 1024 * 1024

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        # Only a signed-in person may send an import's larger file: nobody else gets to
        # fill the temporary folder before the view refuses them.
        importing = IMPORT_PATH.fullmatch(request.path) and request.user.is_authenticated
        allowed = settings.IMPORT_MAX_BYTES if importing else settings.ATTACHMENT_MAX_BYTES
        if declared > allowed + self.FORM_ROOM and request.content_type == "multipart/form-data":
            return _too_large(request, allowed)
        return self.get_response(request)


def _too_large(request: HttpRequest, allowed: int) -> HttpResponse:
    message = _("The file must have content and at most %(mb)d MB.") % {
        "mb": allowed // (1024 * 1024)
    }
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"code": "too_large", "message": message, "errors": {"file": [message]}},
            status=413,
            json_dumps_params={"ensure_ascii": False},
        )
    response = render(request, "core/too_large.html", {"message": message}, status=413)
    # The unread body is still on its way; the connection cannot carry another request.
    response["Connection"] = "close"
    return response


# The pages a person signs in on: the staff's and each portal's.
SIGN_IN_VIEWS = frozenset({"accounts:login", "portal:sign_in"})
SIGN_IN_HEADER = "Atende-Sign-In"


class SignInAgainMiddleware:
    """An htmx request whose session has ended (the queue's refresh, a contact's form, the
    portal's chat) is answered with the sign-in page for the whole window, back to the page
    the person was on. Followed by htmx, the redirect would draw the sign-in form inside a
    part of the page, or silently nowhere. The answer is marked (``SIGN_IN_HEADER``): the
    page follows it for a search, but not for a poll or a form being sent, which would take
    the screen and what was typed on it away (core/atende.js says so instead)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code != 302 or request.headers.get("HX-Request") != "true":
            return response
        target = urlsplit(response["Location"])
        try:
            view = resolve(target.path).view_name
        except Resolver404:
            return response
        if view not in SIGN_IN_VIEWS:
            return response
        page = urlsplit(request.headers.get("HX-Current-URL", ""))
        back = page.path + (f"?{page.query}" if page.query else "")
        query = QueryDict(target.query, mutable=True)
        if back.startswith("/") and not back.startswith("//"):
            query["next"] = back
        answer = HttpResponse(status=204)
        answer[SIGN_IN_HEADER] = "true"
        answer["HX-Redirect"] = target.path + (f"?{query.urlencode(safe='/')}" if query else "")
        return answer
