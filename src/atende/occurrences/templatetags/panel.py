"""The panel's SLA badge, written in Python (a template include per queue row cost more
than the rest of the page), and an occurrence's status with its state."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def sla_badge(occurrence: object, now: datetime) -> str:
    if occurrence.closed_at:
        return format_html('<span class="muted">{}</span>', _("closed"))
    due = occurrence.sla_due_at
    if due is None:
        return "—"
    title = timezone.localtime(due).strftime("%d/%m/%Y %H:%M")
    if due < now:
        label = _("breached %(time)s ago") % {"time": timesince(due, now)}
        return format_html('<span class="badge danger" title="{}">{}</span>', title, label)
    label = _("%(time)s left") % {"time": timeuntil(due, now)}
    return format_html('<span class="badge" title="{}">{}</span>', title, label)


@register.simple_tag
def status_and_state(occurrence: object) -> str:
    """The status, then the state where it says more: "Em análise · Em atendimento", but
    "Em atendimento" once when the status is named after its state."""
    status = occurrence.status.internal_description
    state = str(occurrence.get_state_display())
    return status if status.casefold() == state.casefold() else f"{status} · {state}"
