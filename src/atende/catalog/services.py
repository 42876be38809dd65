"""Writes of the catalog. A type's statuses are checked as a whole after every change, in
the same transaction, so a broken workflow is never stored."""

import base64
import secrets
from collections.abc import Iterable
from datetime import date, time, timedelta
from time import time_ns

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import F, Max, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from atende.catalog.formdefs import fields_clean
from atende.catalog.models import (
    SLA_PRESETS,
    ActionKind,
    AttendanceTab,
    BusinessCalendar,
    CalendarDayOff,
    CannedReply,
    Classification,
    ClassificationLevel,
    Form,
    FormVersion,
    Level,
    OccurrenceType,
    OutcomeReason,
    ProtocolScheme,
    ProtocolType,
    SlaPolicy,
    Status,
    StatusAction,
    Subject,
)
from atende.notifications.outbound import OutboundRefused, url_check
from atende.notifications.templating import PLACEHOLDERS, template_check
from atende.occurrences.models import Channel
from atende.tenancy.models import Operator, Unit
from atende.tenancy.validators import phone_parse

# What a status holds, in the order a form shows it.
STATUS_FIELDS = (
    "internal_description",
    "external_description",
    "color",
    "is_default",
    "starts_attendance",
    "visible_in_history",
    "closing",
    "allowed_roles",
    "allowed_units",
    "order",
    "is_active",
)


def _save(obj: object) -> object:
    obj.full_clean()
    obj.save()
    catalog_changed(_operator_id(obj))
    return obj


def catalog_changed(operator_id: int) -> None:
    """Every catalog write calls this in its transaction: snapshots of the old version are
    no longer used once it commits (``catalog.snapshots``). The new version is also past
    the clock, so a version rolled back is never issued again for other data."""
    Operator.objects.filter(pk=operator_id).update(
        catalog_version=Greatest(F("catalog_version") + 1, Value(time_ns()))
    )


def _operator_id(obj: object) -> int:
    for path in ("operator_id", "occurrence_type", "calendar", "form"):
        value = getattr(obj, path, None)
        if isinstance(value, int):
            return value
        if value is not None:
            return value.operator_id
    raise TypeError(f"{type(obj).__name__} has no operator")


def _same_operator(operator: Operator, *objects: object, field: str) -> None:
    for obj in objects:
        if obj is not None and obj.operator_id != operator.pk:
            raise ValidationError({field: _("Choose one of this operator's own records.")})


def protocol_type_create(
    *, operator: Operator, name: str, scheme: str, prefix: str = "", origin_digit: int = 1
) -> ProtocolType:
    if scheme == ProtocolScheme.ANS and not operator.ans_registration:
        raise ValidationError(
            {"scheme": _("The ANS standard needs the operator's ANS registration.")}
        )
    if scheme == ProtocolScheme.PREFIX_YEARLY and not (prefix.isalnum() and prefix.isascii()):
        raise ValidationError({"prefix": _("Give a prefix of letters and digits.")})
    if not 0 <= origin_digit <= 9:
        raise ValidationError({"origin_digit": _("The origin digit goes from 0 to 9.")})
    return _save(
        ProtocolType(
            operator=operator,
            name=name.strip(),
            scheme=scheme,
            prefix=prefix.strip().upper(),
            origin_digit=origin_digit,
        )
    )


def calendar_create(
    *,
    operator: Operator,
    name: str,
    state: str = "",
    municipality: str = "",
    workdays: Iterable[int] = (0, 1, 2, 3, 4),
    opens_at: time = time(8),
    closes_at: time = time(18),
    days_off: Iterable[tuple[date, str, bool]] = (),
) -> BusinessCalendar:
    workdays = sorted(set(workdays))
    if not workdays or any(d not in range(7) for d in workdays):
        raise ValidationError({"workdays": _("Choose at least one weekday worked.")})
    if opens_at >= closes_at:
        raise ValidationError({"closes_at": _("Closing time must be after opening time.")})
    with transaction.atomic():
        calendar = _save(
            BusinessCalendar(
                operator=operator,
                name=name.strip(),
                state=state or operator.state,
                municipality=municipality or operator.municipality,
                workdays=workdays,
                opens_at=opens_at,
                closes_at=closes_at,
            )
        )
        for day, description, every_year in days_off:
            _save(
                CalendarDayOff(
                    calendar=calendar, date=day, description=description, every_year=every_year
                )
            )
    return calendar


def sla_policy_create(
    *,
    operator: Operator,
    name: str,
    preset: str = "",
    unit: str = "",
    amount: int | None = None,
    calendar: BusinessCalendar | None = None,
) -> SlaPolicy:
    if preset:
        if preset not in SLA_PRESETS:
            raise ValidationError({"preset": _("Unknown regulatory preset.")})
        unit, amount = SLA_PRESETS[preset]
    if amount is None:
        raise ValidationError({"amount": _("Give the deadline amount.")})
    _same_operator(operator, calendar, field="calendar")
    return _save(
        SlaPolicy(
            operator=operator,
            name=name.strip(),
            preset=preset,
            unit=unit,
            amount=amount,
            calendar=calendar,
        )
    )


@transaction.atomic
def occurrence_type_create(
    *,
    operator: Operator,
    name: str,
    protocol_type: ProtocolType,
    statuses: list[dict],
    subjects: Iterable[str] = (),
    sla_policy: SlaPolicy | None = None,
    **options: object,
) -> OccurrenceType:
    """A type with its whole workflow: statuses are checked together before anything stays."""
    _same_operator(operator, protocol_type, field="protocol_type")
    _same_operator(operator, sla_policy, field="sla_policy")
    occurrence_type = _save(
        OccurrenceType(
            operator=operator,
            name=name.strip(),
            protocol_type=protocol_type,
            sla_policy=sla_policy,
            **options,
        )
    )
    for order, values in enumerate(statuses):
        _status_build(occurrence_type, {"order": order, **values}).save()
    for subject in subjects:
        subject_create(occurrence_type=occurrence_type, name=subject)
    occurrence_type_check(occurrence_type)
    return occurrence_type


def occurrence_type_update(*, occurrence_type: OccurrenceType, **changes: object) -> OccurrenceType:
    for field, value in changes.items():
        setattr(occurrence_type, field, value)
    if occurrence_type.sla_policy is not None:
        _same_operator(occurrence_type.operator, occurrence_type.sla_policy, field="sla_policy")
    _same_operator(occurrence_type.operator, occurrence_type.protocol_type, field="protocol_type")
    return _save(occurrence_type)


def occurrence_type_check(occurrence_type: OccurrenceType) -> None:
    """Refuse a workflow that cannot run, saying what to fix."""
    statuses = list(occurrence_type.statuses.all())
    defaults = [s for s in statuses if s.is_default]
    if not defaults:
        raise ValidationError(
            _("Mark one status as default: it is the first status of every new occurrence."),
            code="no_default",
        )
    if len(defaults) > 1:
        raise ValidationError(
            _("Only one status can be the default; now %(names)s are.")
            % {"names": ", ".join(s.internal_description for s in defaults)},
            code="two_defaults",
        )
    if not defaults[0].is_active:
        raise ValidationError(
            _("The default status %(name)s must be active.")
            % {"name": defaults[0].internal_description},
            code="inactive_default",
        )
    if defaults[0].is_closing:
        raise ValidationError(
            _("The default status cannot close the occurrence."), code="closing_default"
        )
    if not any(s.is_closing and s.is_active for s in statuses):
        raise ValidationError(
            _("Add an active closing status (resolved or closed) so occurrences can end."),
            code="no_closing",
        )


def _status_build(occurrence_type: OccurrenceType, values: dict) -> Status:
    unknown = set(values) - set(STATUS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown status fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    status = Status(occurrence_type=occurrence_type, **values)
    if not status.external_description:
        status.external_description = status.internal_description
    status.full_clean()
    _status_units_check(status)
    return status


def _status_units_check(status: Status) -> None:
    units = status.allowed_units or []
    own = set(
        Unit.objects.filter(operator_id=status.occurrence_type.operator_id).values_list(
            "pk", flat=True
        )
    )
    if not isinstance(units, list) or not set(units) <= own:
        raise ValidationError({"allowed_units": _("Choose units of this operator.")})
    status.allowed_units = sorted(set(units))


@transaction.atomic
def status_create(*, occurrence_type: OccurrenceType, **values: object) -> Status:
    if "order" not in values:
        last = occurrence_type.statuses.aggregate(m=Max("order"))["m"]
        values["order"] = 0 if last is None else last + 1
    status = _status_build(occurrence_type, values)
    status.save()
    catalog_changed(occurrence_type.operator_id)
    _one_default(status)
    occurrence_type_check(occurrence_type)
    return status


@transaction.atomic
def status_update(*, status: Status, **changes: object) -> Status:
    unknown = set(changes) - set(STATUS_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown status fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    status = Status.objects.select_for_update().get(pk=status.pk)
    for field, value in changes.items():
        setattr(status, field, value)
    _status_units_check(status)
    _save(status)
    _one_default(status)
    occurrence_type_check(status.occurrence_type)
    return status


def _one_default(status: Status) -> None:
    """Marking a status as default takes the mark from the type's previous default."""
    if status.is_default:
        status.occurrence_type.statuses.exclude(pk=status.pk).filter(is_default=True).update(
            is_default=False
        )


def subject_create(*, occurrence_type: OccurrenceType, name: str, **values: object) -> Subject:
    """A subject; ``values`` are a specification's (deadline, unit, document, POP)."""
    unknown = set(values) - EDITABLE[Subject]
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    operator_id = occurrence_type.operator_id
    for field, value in values.items():
        if getattr(value, "operator_id", operator_id) != operator_id:
            raise ValidationError({field: _("Choose one of this operator's own records.")})
    return _save(Subject(occurrence_type=occurrence_type, name=name.strip(), **values))


def form_create(*, operator: Operator, name: str, fields: list[dict], user: object = None) -> Form:
    with transaction.atomic():
        form = _save(Form(operator=operator, name=name.strip()))
        form_version_publish(form=form, fields=fields, user=user)
    return form


@transaction.atomic
def form_version_publish(*, form: Form, fields: list[dict], user: object = None) -> FormVersion:
    """Saving a form makes a new version; entries keep the version they were made with."""
    form = Form.objects.select_for_update().get(pk=form.pk)
    last = form.versions.aggregate(m=Max("number"))["m"] or 0
    return FormVersion.objects.create(
        form=form, number=last + 1, fields=fields_clean(fields), created_by=user
    )


def form_current_version(form: Form) -> FormVersion:
    return form.versions.order_by("-number").first()


def tab_create(
    *,
    occurrence_type: OccurrenceType,
    name: str,
    form: Form,
    multiple_entries: bool = False,
    display: str = "list",
    required: bool = False,
    order: int = 0,
    at_opening: bool = False,
) -> AttendanceTab:
    _same_operator(occurrence_type.operator, form, field="form")
    return _save(
        AttendanceTab(
            occurrence_type=occurrence_type,
            name=name.strip(),
            form=form,
            multiple_entries=multiple_entries,
            display=display,
            required=required,
            order=order,
            at_opening=at_opening,
        )
    )


def outcome_reason_create(
    *, operator: Operator, description: str, marks_duplicate: bool = False
) -> OutcomeReason:
    return _save(
        OutcomeReason(
            operator=operator, description=description.strip(), marks_duplicate=marks_duplicate
        )
    )


def classification_create(
    *, operator: Operator, name: str, parent: Classification | None = None
) -> Classification:
    """A manifestation type (no parent), a category of a type, or a subcategory of a
    category: the level follows from the parent."""
    if parent is None:
        level = ClassificationLevel.TYPE
    elif parent.operator_id != operator.pk or parent.level == ClassificationLevel.SUBCATEGORY:
        raise ValidationError(
            {"parent": _("Choose a manifestation type or a category of this operator.")}
        )
    else:
        level = parent.level + 1
    return _save(Classification(operator=operator, parent=parent, level=level, name=name.strip()))


def level_create(*, operator: Operator, scale: str, name: str, rank: int) -> Level:
    return _save(Level(operator=operator, scale=scale, name=name.strip(), rank=rank))


def canned_reply_create(*, operator: Operator, title: str, text: str) -> CannedReply:
    return _save(CannedReply(operator=operator, title=title.strip(), text=text.strip()))


@transaction.atomic
def calendar_days_off_set(
    *, calendar: BusinessCalendar, days_off: Iterable[tuple[date, str, bool]]
) -> list[CalendarDayOff]:
    """The calendar's own days off (beyond the national, state and municipal holidays the
    calendar already knows), replaced as a whole; one date appears once."""
    days_off = list(days_off)
    dates = [day for day, _description, _every_year in days_off]
    if len(set(dates)) != len(dates):
        raise ValidationError({"days_off": _("Each date can appear only once.")})
    calendar.days_off.all().delete()
    made = [
        _save(
            CalendarDayOff(calendar=calendar, date=day, description=text.strip(), every_year=yearly)
        )
        for day, text, yearly in days_off
    ]
    catalog_changed(calendar.operator_id)
    return made


# What of each simple record a configurator may change once it exists. A protocol type's
# scheme and prefix are fixed: numbers already issued must stay what they were.
EDITABLE = {
    ProtocolType: {"name", "is_active"},
    Classification: {"name", "is_active"},
    Level: {"name", "rank", "is_active"},
    CannedReply: {"title", "text", "is_active"},
    Subject: {
        "name",
        "sla_policy",
        "default_unit",
        "required_document",
        "procedure",
        "form",
        "is_active",
    },
    OutcomeReason: {"description", "marks_duplicate", "is_active"},
    AttendanceTab: {
        "name",
        "form",
        "multiple_entries",
        "display",
        "required",
        "order",
        "at_opening",
        "is_active",
    },
    SlaPolicy: {"name", "unit", "amount", "calendar"},
    BusinessCalendar: {"name", "state", "municipality", "workdays", "opens_at", "closes_at"},
}


@transaction.atomic
def catalog_record_update(*, record: object, **changes: object) -> object:
    """Change a simple catalog record (``EDITABLE``); statuses, types and actions have
    their own updates, which check the workflow and the templates."""
    unknown = set(changes) - EDITABLE[type(record)]
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})
    operator_id = _operator_id(record)
    for name, value in changes.items():
        if getattr(value, "operator_id", operator_id) != operator_id:
            raise ValidationError({name: _("Choose one of this operator's own records.")})
        setattr(record, name, value)
    if isinstance(record, BusinessCalendar):
        record.workdays = sorted(set(record.workdays))
        if not record.workdays:
            raise ValidationError({"workdays": _("Choose at least one weekday worked.")})
        if record.opens_at >= record.closes_at:
            raise ValidationError({"closes_at": _("Closing time must be after opening time.")})
    return _save(record)


# What a configurator sets on an action, in the order a form shows it.
ACTION_FIELDS = (
    "description",
    "kind",
    "is_active",
    "recipient",
    "subject_template",
    "body_template",
    "whatsapp_template",
    "whatsapp_language",
    "whatsapp_parameters",
    "from_statuses",
    "channels",
)


def _action_fields_check(values: dict) -> None:
    unknown = set(values) - set(ACTION_FIELDS)
    if unknown:
        raise ValidationError(_("Unknown fields: %(f)s") % {"f": ", ".join(sorted(unknown))})


@transaction.atomic
def status_action_create(*, status: Status, **values: object) -> StatusAction:
    _action_fields_check(values)
    action = StatusAction(status=status, **values)
    if action.kind == ActionKind.HOOK:
        action.hook_secret = hook_secret_new()
    return _action_save(action)


@transaction.atomic
def status_action_update(*, action: StatusAction, **changes: object) -> StatusAction:
    _action_fields_check(changes)
    for name, value in changes.items():
        setattr(action, name, value)
    if action.kind == ActionKind.HOOK and not action.hook_secret:
        action.hook_secret = hook_secret_new()
    return _action_save(action)


@transaction.atomic
def status_action_rotate_secret(*, action: StatusAction, grace: timedelta) -> StatusAction:
    """A new signing secret; the previous one keeps signing too for ``grace``, so the
    receiver can switch without refusing a hook."""
    action.hook_previous_secret = action.hook_secret
    action.hook_previous_until = timezone.now() + grace
    action.hook_secret = hook_secret_new()
    return _action_save(action)


def hook_secret_new() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def _action_save(action: StatusAction) -> StatusAction:
    action.full_clean()
    status_action_check(action)
    action.save()
    catalog_changed(action.status.occurrence_type.operator_id)
    return action


def _action_conditions_check(action: StatusAction) -> None:
    """The statuses it may come from are its own type's; the channels are known ones."""
    statuses = action.from_statuses or []
    if not isinstance(statuses, list) or not all(isinstance(pk, int) for pk in statuses):
        raise ValidationError({"from_statuses": _("Choose statuses of this type.")})
    own = set(
        Status.objects.filter(occurrence_type_id=action.status.occurrence_type_id).values_list(
            "pk", flat=True
        )
    )
    if set(statuses) - own:
        raise ValidationError({"from_statuses": _("Choose statuses of this type.")})
    channels = action.channels or []
    if not isinstance(channels, list) or set(channels) - set(Channel.values):
        raise ValidationError({"channels": _("Choose among the known channels.")})
    action.from_statuses = sorted(set(statuses))
    action.channels = sorted(set(channels))


def status_action_check(action: StatusAction) -> None:
    """Templates, recipient and WhatsApp settings, each error under its field."""
    errors: dict[str, list] = {}
    for name in ("subject_template", "body_template"):
        try:
            template_check(getattr(action, name))
        except ValidationError as error:
            errors[name] = error.messages
    try:
        _action_recipient_check(action)
    except ValidationError as error:
        errors["recipient"] = error.messages
    try:
        _action_conditions_check(action)
    except ValidationError as error:
        errors.update(error.message_dict)
    if action.kind == ActionKind.WHATSAPP:
        if not action.whatsapp_template:
            errors["whatsapp_template"] = [_("Name the approved WhatsApp template.")]
        unknown = [p for p in action.whatsapp_parameters if p not in PLACEHOLDERS]
        if not isinstance(action.whatsapp_parameters, list) or unknown:
            errors["whatsapp_parameters"] = [
                _("Use only these values: %(names)s.") % {"names": ", ".join(PLACEHOLDERS)}
            ]
    if errors:
        raise ValidationError(errors)


def _action_recipient_check(action: StatusAction) -> None:
    recipient = action.recipient.strip()
    action.recipient = recipient
    if action.kind == ActionKind.HOOK:
        if not recipient:
            raise ValidationError(_("Enter the URL that receives the hook."))
        try:
            url_check(recipient)
        except OutboundRefused as error:
            raise ValidationError(str(error)) from error
    elif action.kind == ActionKind.EMAIL and recipient:
        validate_email(recipient)
    elif action.kind in {ActionKind.SMS, ActionKind.WHATSAPP} and recipient:
        number = phone_parse(recipient)
        if number is None:
            raise ValidationError(_("Invalid phone number: include the area code (DDD)."))
        action.recipient = number
