from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from atende.core.selectors import health_get
from atende.tenancy.models import Role
from atende.tenancy.selectors import memberships_for_user


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for load balancers: 503 only when the database is unreachable.

    A stopped worker does not take the web servers out of rotation; it shows as
    ``"worker": "stale"`` (or ``"missing"``) for monitoring to alert on.
    """
    health = health_get()
    return JsonResponse(
        {
            "status": "ok" if health.healthy and health.worker == "ok" else "degraded",
            "database": health.database,
            "worker": health.worker,
            "workers_alive": health.workers_alive,
        },
        status=200 if health.healthy else 503,
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    memberships = list(memberships_for_user(user=request.user))
    supervises = any(m.role == Role.SUPERVISOR for m in memberships)
    works = any(m.role in {Role.ATTENDANT, Role.SUPERVISOR} for m in memberships)
    configures = any(m.role == Role.CONFIGURATOR for m in memberships)
    context = {
        "memberships": memberships,
        "supervises": supervises,
        "works": works,
        "configures": configures,
    }
    return render(request, "core/home.html", context)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Our own page, or for an address under the API, the API's JSON error."""
    if request.path_info.startswith("/api/"):
        return JsonResponse(
            {"code": "not_found", "message": _("There is no such address in the API.")},
            status=404,
            json_dumps_params={"ensure_ascii": False},
        )
    return render(request, "404.html", status=404)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent from a page that expired: opened before the person signed in again, or
    left open while the session changed. Going back keeps what they typed; reloading the
    page gives it a valid token."""
    return render(request, "403_csrf.html", status=403)
