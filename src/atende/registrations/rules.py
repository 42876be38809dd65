"""The rules of a registration that the occurrence core applies in its own transactions
(closing). Only models here: the core imports this module, and this module nothing of the
services."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils.translation import gettext as _

from atende.occurrences.models import Occurrence
from atende.registrations.models import OrderOutcome, OrderState, ServiceOrder


def orders_on_closing(occurrence: Occurrence, *, resolves: bool, at: datetime) -> dict:
    """Under the registration's lock, as it closes: attended is refused while an order is
    open, naming them; not attended closes its open orders as not executed. Returns what
    the closing's event records."""
    open_orders = list(
        ServiceOrder.objects.filter(occurrence_id=occurrence.pk)
        .exclude(state=OrderState.CLOSED)
        .select_related("service_type")
        .order_by("number")
        .select_for_update()
    )
    if not open_orders:
        return {}
    names = ", ".join(f"OS {o.number} ({o.service_type.name})" for o in open_orders)
    if resolves:
        raise ValidationError(
            _("Close the open service orders first: %(orders)s.") % {"orders": names},
            code="orders_open",
        )
    ServiceOrder.objects.filter(pk__in=[o.pk for o in open_orders]).update(
        state=OrderState.CLOSED,
        outcome=OrderOutcome.NOT_EXECUTED,
        opinion=_("Closed with the registration, not executed."),
        closed_at=at,
        updated_at=at,
        version=F("version") + 1,
    )
    return {"summary": _("Service orders closed as not executed: %(orders)s.") % {"orders": names}}
