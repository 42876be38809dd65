"""SLA due dates on business calendars: national and state holidays from the ``holidays``
package plus the days off the operator adds (municipal holidays are added there, since the
package knows only Brazil's states)."""

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import cache, cached_property
from zoneinfo import ZoneInfo

import holidays

from atende.catalog.models import BusinessCalendar, SlaPolicy, SlaUnit

MONDAY_TO_FRIDAY = [0, 1, 2, 3, 4]
# Business-day arithmetic never needs more than this many days ahead; a calendar with no
# workday at all would otherwise loop for ever.
MAX_SCAN_DAYS = 3 * 366


class CalendarError(ValueError):
    pass


class WorkingCalendar:
    def __init__(self, calendar: BusinessCalendar, *, default_state: str = "") -> None:
        self.workdays = set(calendar.workdays or MONDAY_TO_FRIDAY)
        self.opens_at: time = _as_time(calendar.opens_at)
        self.closes_at: time = _as_time(calendar.closes_at)
        self.state = calendar.state or default_state
        self._days_off = list(calendar.days_off.all()) if calendar.pk else []

    @cached_property
    def _extra(self) -> tuple[set[date], set[tuple[int, int]]]:
        fixed = {d.date for d in self._days_off if not d.every_year}
        yearly = {(d.date.month, d.date.day) for d in self._days_off if d.every_year}
        return fixed, yearly

    def _holidays(self, year: int) -> frozenset[date]:
        return _brazilian_holidays(self.state, year)

    def is_business_day(self, day: date) -> bool:
        fixed, yearly = self._extra
        return (
            day.weekday() in self.workdays
            and day not in self._holidays(day.year)
            and day not in fixed
            and (day.month, day.day) not in yearly
        )


def sla_clock(
    *, policy: SlaPolicy, time_zone: str, state: str = ""
) -> Callable[[datetime], datetime]:
    """A function from contact time to due time under ``policy``, with the calendar read
    once (bulk generators call it for thousands of contacts)."""
    if policy.unit == SlaUnit.CALENDAR_HOURS:
        delta = timedelta(hours=policy.amount)
        return lambda start: start + delta
    if policy.unit == SlaUnit.CALENDAR_DAYS:
        delta = timedelta(days=policy.amount)
        return lambda start: start + delta
    tz = ZoneInfo(time_zone)
    calendar = WorkingCalendar(policy.calendar or BusinessCalendar(), default_state=state)
    add = _add_business_days if policy.unit == SlaUnit.BUSINESS_DAYS else _add_business_hours
    return lambda start: add(calendar, start.astimezone(tz), policy.amount).astimezone(UTC)


def sla_due(*, policy: SlaPolicy, start: datetime, time_zone: str, state: str = "") -> datetime:
    """When an occurrence created at ``start`` must be answered under ``policy``."""
    return sla_clock(policy=policy, time_zone=time_zone, state=state)(start)


def _add_business_days(calendar: WorkingCalendar, local: datetime, amount: int) -> datetime:
    # The deadline is the close of business of the N-th business day after the contact.
    if amount == 0:
        return local
    day, counted = local.date(), 0
    for _scan in range(MAX_SCAN_DAYS):
        day += timedelta(days=1)
        if calendar.is_business_day(day):
            counted += 1
            if counted == amount:
                return datetime.combine(day, calendar.closes_at, local.tzinfo)
    raise CalendarError("calendar has no business day")


def _add_business_hours(calendar: WorkingCalendar, local: datetime, amount: int) -> datetime:
    remaining = timedelta(hours=amount)
    cursor = local
    for _scan in range(MAX_SCAN_DAYS):
        day = cursor.date()
        if calendar.is_business_day(day):
            opens = datetime.combine(day, calendar.opens_at, local.tzinfo)
            closes = datetime.combine(day, calendar.closes_at, local.tzinfo)
            begin = max(cursor, opens)
            if begin < closes:
                available = closes - begin
                if remaining <= available:
                    return begin + remaining
                remaining -= available
        cursor = datetime.combine(day + timedelta(days=1), time(0), local.tzinfo)
    raise CalendarError("calendar has no business hours")


def _as_time(value: time | str) -> time:
    return value if isinstance(value, time) else time.fromisoformat(value)


@cache
def _brazilian_holidays(state: str, year: int) -> frozenset[date]:
    return frozenset(holidays.Brazil(subdiv=state or None, years=year).keys())
