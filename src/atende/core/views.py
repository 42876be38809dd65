from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
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
