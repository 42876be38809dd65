"""What every staff page draws around its content."""

from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext as _

from atende.catalog.models import OccurrenceType
from atende.core.db import PreparedRead
from atende.tenancy.models import Membership, Role

# The roles the person holds, and whether each operator takes registrations (seed 004):
# one statement, compiled once, read by every page that draws the bar.
_memberships = PreparedRead(
    lambda user_id: Membership.objects.filter(
        user_id=user_id, is_active=True, operator__is_active=True
    ).annotate(
        registrations=Exists(
            OccurrenceType.objects.filter(
                operator=OuterRef("operator"), has_place=True, is_active=True
            )
        )
    ),
    -101,
)


def navigation(request: HttpRequest) -> dict:
    """The product's navigation, by the roles the person holds, and whether they supervise
    anywhere (pages offer supervisors' own actions by it). Its one query runs only when a
    page draws the bar or asks (htmx partials do not)."""
    memberships = SimpleLazyObject(lambda: _memberships_of(request))
    return {
        "navigation": SimpleLazyObject(lambda: _links(request, memberships)),
        "supervises_somewhere": SimpleLazyObject(
            lambda: [m.operator_id for m in memberships if m.role == Role.SUPERVISOR]
        ),
    }


def _memberships_of(request: HttpRequest) -> list[Membership]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    return _memberships(user.pk)


def _links(request: HttpRequest, memberships: list[Membership]) -> list[dict]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    roles = {m.role for m in memberships}
    registrations = any(
        m.registrations for m in memberships if m.role in (Role.ATTENDANT, Role.SUPERVISOR)
    )
    links = []
    if roles & {Role.ATTENDANT, Role.SUPERVISOR}:
        links.append((_("Panel"), reverse("occurrences:queue")))
        links.append((_("Intake"), reverse("occurrences:intake")))
        links.append((_("Register attendance"), reverse("callcenter:home")))
        if registrations:
            links.append((_("Registrations (RA)"), reverse("registrations:intake")))
        links.append((_("Beneficiaries"), reverse("beneficiaries:search")))
    if Role.SUPERVISOR in roles:
        links += [
            (_("Indicators"), reverse("reports:dashboard")),
            (_("Reports"), reverse("reports:list")),
            (_("Deliveries"), reverse("notifications:list")),
        ]
    if Role.CONFIGURATOR in roles:
        links.append((_("Configuration"), reverse("catalog:start")))
    if user.is_staff:
        links.append((_("Administration"), reverse("admin:index")))
    # The most specific address that the current page lies under is the current one.
    current = max(
        (url for _label, url in links if request.path.startswith(url)), key=len, default=None
    )
    # The pages of someone who works occurrences poll for the calls announced to them.
    pops = reverse("callcenter:calls") if roles & {Role.ATTENDANT, Role.SUPERVISOR} else ""
    return [
        {"label": label, "url": url, "current": url == current, "pops": pops if i == 0 else ""}
        for i, (label, url) in enumerate(links)
    ]
