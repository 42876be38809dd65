"""The configurator's catalog, per operator: protocol types, occurrence types with their
subjects and statuses, attendance tabs and their versioned forms, outcome reasons, business
calendars and SLA policies. Configuration is data; the occurrence services enforce it."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from atende.notifications.templating import template_check
from atende.tenancy.models import BRAZILIAN_STATES, Operator, Role, TenantManager


class ProtocolScheme(models.TextChoices):
    ANS = "ans", _("ANS standard")
    GSAN = "gsan", _("GSAN style")
    PREFIX_YEARLY = "prefix_yearly", _("Prefix and yearly sequence")
    MANUAL = "manual", _("Manual")


class ProtocolType(models.Model):
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        related_name="protocol_types",
        verbose_name=_("operator"),
    )
    name = models.CharField(_("name"), max_length=80)
    scheme = models.CharField(_("scheme"), max_length=20, choices=ProtocolScheme.choices)
    prefix = models.CharField(
        _("prefix"), max_length=10, blank=True, help_text=_("Prefix scheme only: letters/digits.")
    )
    origin_digit = models.PositiveSmallIntegerField(
        _("origin digit"), default=1, help_text=_("GSAN scheme only: 0 to 9.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("protocol type")
        verbose_name_plural = _("protocol types")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "operator",
                Lower("name"),
                name="catalog_protocoltype_name_unique",
                violation_error_message=_(
                    "This operator already has a protocol type with this name."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ProtocolSequence(models.Model):
    """The last number issued for one sequence (an operator's scheme key in one period).

    Issuing increments this one row, so only creations sharing a sequence wait for each
    other; different operators, days and schemes never do.
    """

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=30)
    period = models.CharField(max_length=8)
    last_value = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "key", "period"], name="catalog_sequence_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.period}: {self.last_value}"


class SlaUnit(models.TextChoices):
    CALENDAR_HOURS = "calendar_hours", _("Calendar hours")
    CALENDAR_DAYS = "calendar_days", _("Calendar days")
    BUSINESS_HOURS = "business_hours", _("Business hours")
    BUSINESS_DAYS = "business_days", _("Business days")


class BusinessCalendar(models.Model):
    """Business hours and days off: Brazil's national holidays and the state's, from the
    ``holidays`` package, plus the days the operator adds (municipal holidays, closures)."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="calendars", verbose_name=_("operator")
    )
    name = models.CharField(_("name"), max_length=80)
    state = models.CharField(_("state (UF)"), max_length=2, blank=True, choices=BRAZILIAN_STATES)
    municipality = models.CharField(_("municipality"), max_length=120, blank=True)
    workdays = models.JSONField(
        _("workdays"), default=list, help_text=_("Weekdays worked, 0 = Monday … 6 = Sunday.")
    )
    opens_at = models.TimeField(_("opens at"), default="08:00")
    closes_at = models.TimeField(_("closes at"), default="18:00")

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CalendarDayOff(models.Model):
    calendar = models.ForeignKey(
        BusinessCalendar, on_delete=models.CASCADE, related_name="days_off"
    )
    date = models.DateField(_("date"))
    every_year = models.BooleanField(
        _("every year"), default=False, help_text=_("A municipal holiday repeats every year.")
    )
    description = models.CharField(_("description"), max_length=120)

    tenant_path = "calendar__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("day off")
        verbose_name_plural = _("days off")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%d/%m/%Y} {self.description}"


class SlaPreset(models.TextChoices):
    NONE = "", _("Custom")
    RN623_URGENCY = "rn623_urgency", _("RN 623 — urgency and emergency (immediate)")
    RN623_COVERAGE = "rn623_coverage", _("RN 623 — coverage request (5 business days)")
    RN623_HIGH_COMPLEXITY = (
        "rn623_high_complexity",
        _("RN 623 — high complexity or elective hospitalisation (10 business days)"),
    )
    RN623_NON_COVERAGE = "rn623_non_coverage", _("RN 623 — other requests (7 business days)")
    SAC_DECREE = "sac_11034", _("SAC decree 11.034/2022 (7 calendar days)")


SLA_PRESETS: dict[str, tuple[str, int]] = {
    SlaPreset.RN623_URGENCY: (SlaUnit.CALENDAR_HOURS, 0),
    SlaPreset.RN623_COVERAGE: (SlaUnit.BUSINESS_DAYS, 5),
    SlaPreset.RN623_HIGH_COMPLEXITY: (SlaUnit.BUSINESS_DAYS, 10),
    SlaPreset.RN623_NON_COVERAGE: (SlaUnit.BUSINESS_DAYS, 7),
    SlaPreset.SAC_DECREE: (SlaUnit.CALENDAR_DAYS, 7),
}


class SlaPolicy(models.Model):
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="sla_policies", verbose_name=_("operator")
    )
    name = models.CharField(_("name"), max_length=120)
    preset = models.CharField(
        _("regulatory preset"), max_length=30, blank=True, choices=SlaPreset.choices
    )
    unit = models.CharField(_("unit"), max_length=20, choices=SlaUnit.choices)
    amount = models.PositiveIntegerField(_("amount"))
    calendar = models.ForeignKey(
        BusinessCalendar,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("business calendar"),
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ViewMode(models.TextChoices):
    BASIC = "basic", _("Basic")
    REQUESTS = "requests", _("Requests")
    CHAT = "chat", _("Chat")


class OccurrenceType(models.Model):
    operator = models.ForeignKey(
        Operator,
        on_delete=models.PROTECT,
        related_name="occurrence_types",
        verbose_name=_("operator"),
    )
    name = models.CharField(_("name"), max_length=120)
    protocol_type = models.ForeignKey(
        ProtocolType, on_delete=models.PROTECT, related_name="+", verbose_name=_("protocol type")
    )
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("SLA policy"),
    )
    view_mode = models.CharField(
        _("view mode"), max_length=10, choices=ViewMode.choices, default=ViewMode.REQUESTS
    )
    allow_attendance = models.BooleanField(_("allow attendance"), default=True)
    offered_in_portal = models.BooleanField(_("offered in the portal"), default=True)
    # Seed 004: a registration (RA) of a sanitation operator happens somewhere; its type
    # asks for the place of occurrence and its requesters (``atende.registrations``).
    has_place = models.BooleanField(
        _("asks for the place of occurrence"),
        default=False,
        db_default=False,
        help_text=_("Registro de Atendimento: address, coordinates and requesters."),
    )
    functionality_id = models.CharField(_("functionality id"), max_length=30, blank=True)
    functionality_description = models.CharField(
        _("functionality description"), max_length=200, blank=True
    )
    request_template_id = models.CharField(_("request template id"), max_length=30, blank=True)
    request_template_description = models.CharField(
        _("request template description"), max_length=200, blank=True
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("occurrence type")
        verbose_name_plural = _("occurrence types")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "operator",
                Lower("name"),
                name="catalog_occurrencetype_name_unique",
                violation_error_message=_(
                    "This operator already has an occurrence type with this name."
                ),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_chat(self) -> bool:
        """Its conversation is live: both sides' pages show new messages as they come."""
        return self.view_mode == ViewMode.CHAT


class Subject(models.Model):
    """A subject of a type; for a sanitation operator, a specification (especificação) of
    a type of request, carrying its own deadline, default unit, the document the opening
    requires and the standard operating procedure (POP) attendants read."""

    occurrence_type = models.ForeignKey(
        OccurrenceType, on_delete=models.PROTECT, related_name="subjects"
    )
    name = models.CharField(_("name"), max_length=120)
    sla_policy = models.ForeignKey(
        "SlaPolicy",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("own deadline"),
        help_text=_("Blank: the type's SLA."),
    )
    default_unit = models.ForeignKey(
        "tenancy.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible unit"),
    )
    required_document = models.CharField(
        _("document required at opening"),
        max_length=120,
        blank=True,
        db_default="",
        help_text=_("Blank: none. Otherwise its name, e.g. Documento de identidade."),
    )
    procedure = models.TextField(_("standard operating procedure (POP)"), blank=True, db_default="")
    form = models.ForeignKey(
        "Form",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("form filled at opening"),
        help_text=_("Its fields are asked, and checked, when a registration is opened."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "occurrence_type__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("subject")
        verbose_name_plural = _("subjects")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Closing(models.TextChoices):
    NONE = "none", _("Does not close")
    RESOLVED = "resolved", _("Closes as resolved")
    CLOSED = "closed", _("Closes without resolution")


# The roles that work occurrences, and so may be the only ones to set a status.
STATUS_ROLES = [Role.ATTENDANT, Role.SUPERVISOR]


def validate_status_roles(value: object) -> None:
    if not isinstance(value, list) or not set(value) <= set(STATUS_ROLES):
        raise ValidationError(_("Choose among attendant and supervisor."))


class Status(models.Model):
    occurrence_type = models.ForeignKey(
        OccurrenceType, on_delete=models.PROTECT, related_name="statuses"
    )
    internal_description = models.CharField(_("internal description"), max_length=120)
    external_description = models.CharField(_("external description"), max_length=120)
    color = models.CharField(
        _("colour"),
        max_length=7,
        default="#1f6feb",
        validators=[
            RegexValidator(
                r"^#[0-9a-fA-F]{6}\Z", _("Use a colour as #RRGGBB, for example #1f6feb.")
            )
        ],
    )
    is_default = models.BooleanField(_("default"), default=False)
    starts_attendance = models.BooleanField(_("starts attendance"), default=False)
    visible_in_history = models.BooleanField(_("visible in customer history"), default=True)
    closing = models.CharField(
        _("closing"), max_length=10, choices=Closing.choices, default=Closing.NONE
    )
    # Who may set this status (seed 001's permissions per status); empty: whoever works it.
    allowed_roles = models.JSONField(
        _("who may set it"), default=list, blank=True, validators=[validate_status_roles]
    )
    # And of which units (ids of the operator's units); empty: of any unit or none.
    allowed_units = models.JSONField(_("of the units"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "occurrence_type__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("status")
        verbose_name_plural = _("statuses")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.internal_description

    @property
    def is_closing(self) -> bool:
        return self.closing != Closing.NONE


class Form(models.Model):
    """A form of the form builder; its fields live in immutable versions."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="forms")
    name = models.CharField(_("name"), max_length=120)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("form")
        verbose_name_plural = _("forms")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class FormVersion(models.Model):
    form = models.ForeignKey(Form, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    fields = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    tenant_path = "form__operator"
    objects = TenantManager()

    class Meta:
        ordering = ["form", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["form", "number"], name="catalog_formversion_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.form} v{self.number}"


class TabDisplay(models.TextChoices):
    GRID = "grid", _("Grid")
    LIST = "list", _("List")


class AttendanceTab(models.Model):
    occurrence_type = models.ForeignKey(
        OccurrenceType, on_delete=models.PROTECT, related_name="tabs"
    )
    name = models.CharField(_("name"), max_length=120)
    form = models.ForeignKey(
        Form, on_delete=models.PROTECT, related_name="tabs", verbose_name=_("form")
    )
    multiple_entries = models.BooleanField(_("several entries"), default=False)
    display = models.CharField(
        _("display"), max_length=5, choices=TabDisplay.choices, default=TabDisplay.LIST
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    required = models.BooleanField(
        _("required"), default=False, help_text=_("Must be filled before closing.")
    )
    # Seed 001's Solicitações: the request's own form, filled by the beneficiary when they
    # open it (portal, app, API) and shown to the attendant as the first tab.
    at_opening = models.BooleanField(
        _("filled at opening"),
        default=False,
        db_default=False,
        help_text=_(
            "The beneficiary fills it in when opening a request of a type in the "
            "Requests view mode (portal, app, API). One per type."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "occurrence_type__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("attendance tab")
        verbose_name_plural = _("attendance tabs")
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["occurrence_type"],
                condition=models.Q(at_opening=True, is_active=True),
                name="catalog_tab_one_at_opening",
                violation_error_message=_("This type already has a tab filled at opening."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class OutcomeReason(models.Model):
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="outcome_reasons")
    description = models.CharField(_("description"), max_length=200)
    # Seed 004: closing for this reason says the occurrence repeats another, named then.
    marks_duplicate = models.BooleanField(
        _("marks a duplicate"),
        default=False,
        db_default=False,
        help_text=_("Closing for this reason asks for the original protocol and links it."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("outcome reason")
        verbose_name_plural = _("outcome reasons")
        ordering = ["description"]

    def __str__(self) -> str:
        return self.description


class ActionKind(models.TextChoices):
    """Seed 001's action types, plus SMS (seed 004)."""

    PUSH = "push", _("Push")
    EMAIL = "email", _("E-mail")
    HOOK = "hook", _("Hook")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")


class StatusAction(models.Model):
    """What happens when an occurrence enters a status: one delivery per active action,
    written in the transaction of the change (``notifications.services``).

    The recipient depends on the kind: for e-mail, SMS and WhatsApp an address or number
    typed here, or, left blank, the occurrence's contact; for a hook the URL; push goes to
    the beneficiary's registered devices. Subject and body are configurator templates
    (``notifications.templating``), checked when saved."""

    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="actions")
    description = models.CharField(_("description"), max_length=120)
    kind = models.CharField(_("action type"), max_length=10, choices=ActionKind.choices)
    is_active = models.BooleanField(_("active"), default=True)
    recipient = models.CharField(
        _("recipient"),
        max_length=500,
        blank=True,
        help_text=_("Blank: the occurrence's contact. For a hook, the URL that receives it."),
    )
    subject_template = models.CharField(_("subject"), max_length=300, blank=True)
    body_template = models.TextField(_("message"), blank=True)
    whatsapp_template = models.CharField(_("WhatsApp template name"), max_length=120, blank=True)
    whatsapp_language = models.CharField(
        _("WhatsApp template language"), max_length=10, default="pt_BR"
    )
    whatsapp_parameters = models.JSONField(
        _("WhatsApp template parameters"), default=list, blank=True
    )
    # Conditions on the transition (seed 001): only when the occurrence comes from one of
    # these statuses (ids of its type's statuses; none: from any, the opening included)
    # and only for occurrences of these channels (none: any channel).
    from_statuses = models.JSONField(_("only when coming from"), default=list, blank=True)
    channels = models.JSONField(_("only for the channels"), default=list, blank=True)
    hook_secret = models.CharField(_("signing secret"), max_length=100, blank=True)
    hook_previous_secret = models.CharField(max_length=100, blank=True)
    hook_previous_until = models.DateTimeField(null=True, blank=True)

    tenant_path = "status__occurrence_type__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("status action")
        verbose_name_plural = _("status actions")
        ordering = ["status", "id"]

    def __str__(self) -> str:
        return self.description

    def applies(self, *, status_before_id: int | None, channel: str) -> bool:
        """Whether the action runs for this transition (its conditions, not its state)."""
        return (not self.from_statuses or status_before_id in self.from_statuses) and (
            not self.channels or channel in self.channels
        )


class ClassificationLevel(models.IntegerChoices):
    """Seed 002's cascading lists: a manifestation type holds categories, a category holds
    subcategories; an occurrence is classified by a subcategory."""

    TYPE = 1, _("Manifestation type")
    CATEGORY = 2, _("Category")
    SUBCATEGORY = 3, _("Subcategory")


class Classification(models.Model):
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("belongs to"),
    )
    level = models.PositiveSmallIntegerField(_("level"), choices=ClassificationLevel.choices)
    name = models.CharField(_("name"), max_length=120)
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("classification")
        verbose_name_plural = _("classifications")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                "parent",
                Lower("name"),
                name="catalog_classification_name_unique",
                violation_error_message=_("This list already has an item with this name."),
            ),
            models.UniqueConstraint(
                "operator",
                Lower("name"),
                condition=models.Q(parent__isnull=True),
                name="catalog_classification_type_unique",
                violation_error_message=_("This list already has an item with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def path(self) -> str:
        """The entries above it ("Solicitação / Autorização"), read through ``parent``."""
        names, above = [], self.parent
        while above is not None:
            names.insert(0, above.name)
            above = above.parent
        return " / ".join(names)


class Scale(models.TextChoices):
    """The configured scales a manifestation is rated on (seed 002)."""

    URGENCY = "urgency", _("Urgency classification")
    SENTIMENT = "sentiment", _("Customer sentiment")
    PRIORITY = "priority", _("Priority")


class Level(models.Model):
    """One step of a scale. ``rank`` orders it: for priority, a higher rank comes first
    in the queue."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices)
    name = models.CharField(_("name"), max_length=60)
    rank = models.PositiveSmallIntegerField(
        _("rank"), help_text=_("Orders the scale; for priority, the highest comes first.")
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("scale level")
        verbose_name_plural = _("scale levels")
        ordering = ["scale", "rank"]
        constraints = [
            models.UniqueConstraint(
                "operator",
                "scale",
                Lower("name"),
                name="catalog_level_name_unique",
                violation_error_message=_("This scale already has a level with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CannedReply(models.Model):
    """A ready answer (resposta pronta) an attendant starts a public reply from; its text
    takes the placeholders of the message templates, filled for the occurrence."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=120)
    text = models.TextField(
        _("text"),
        help_text=_("Placeholders such as {{ protocolo }} and {{ beneficiario }} are filled in."),
    )
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("canned reply")
        verbose_name_plural = _("canned replies")
        ordering = ["title"]
        constraints = [
            models.UniqueConstraint(
                "operator",
                Lower("title"),
                name="catalog_canned_reply_title_unique",
                violation_error_message=_("There is already a canned reply with this title."),
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def clean(self) -> None:
        try:
            template_check(self.text)
        except ValidationError as error:
            raise ValidationError({"text": error.messages}) from None
