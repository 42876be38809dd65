"""Times on the screens are the operator's (SPEC §8: a time zone per operator), as in its
reports and protocol numbers: an operator in Manaus reads its deadlines at Manaus time.

The staff's zone is read once, when the person signs in, and kept in their session; the
portal's is its application's operator's. ``core.middleware.OperatorTimeZoneMiddleware``
activates it for each request and lets it go after."""

from datetime import datetime
from zoneinfo import ZoneInfo

from django.http import HttpRequest
from django.utils import timezone

from atende.tenancy.selectors import time_zone_for_user

SESSION_KEY = "atende_time_zone"


def time_zone_remembered(
    sender: object, request: HttpRequest | None, user: object, **kwargs
) -> None:
    """On signing in (``user_logged_in``): the zone of the person's operators, for the
    session's pages."""
    if request is None or not hasattr(request, "session"):
        return
    zone = time_zone_for_user(user=user)
    if zone:
        request.session[SESSION_KEY] = zone
    else:
        request.session.pop(SESSION_KEY, None)


def operator_time_zone_activate(name: str) -> None:
    """The rest of this request speaks ``name``'s time (a portal page of that operator)."""
    timezone.activate(ZoneInfo(name))


def operator_clock(moment: datetime, time_zone: str) -> datetime:
    """``moment`` as the operator's clock reads it: what a message sent on its behalf (an
    SMS, an e-mail) writes, whoever or whatever caused it."""
    return moment.astimezone(ZoneInfo(time_zone))
