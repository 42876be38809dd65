"""Registro de Atendimento (seed 004): a registration (RA) is an occurrence of a type that
asks for its place (``OccurrenceType.has_place``); its specification is the occurrence's
subject. This app adds what such an occurrence carries beyond the core: the place of
occurrence, the requesters, the operator's intake settings and the unit-by-locality rules.

A citizen's report (app or SMS) is an occurrence in mode Rascunho until an attendant opens
it as a registration, attaches it to one already open, or discards it."""

import unicodedata

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atende.catalog.models import OccurrenceType, Subject
from atende.occurrences.models import Occurrence
from atende.tenancy.models import BRAZILIAN_STATES, Application, Operator, TenantManager, Unit

DEFAULT_DISTANCE_M = 100


def text_key(value: str) -> str:
    """A name as compared: no accents, no case, single spaces, no punctuation
    ("Av. João  Pessoa" and "av joao pessoa" are the same street)."""
    plain = unicodedata.normalize("NFKD", value or "").encode("ascii", "ignore").decode()
    words = "".join(c if c.isalnum() else " " for c in plain.lower()).split()
    return " ".join(words)


class RegistrationSettings(models.Model):
    """How an operator receives citizens' reports and checks duplicates."""

    operator = models.OneToOneField(
        Operator, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("application"),
        help_text=_("The source recorded on reports received by SMS."),
    )
    sms_type = models.ForeignKey(
        OccurrenceType,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("type of the reports received by SMS"),
        help_text=_("The attendant chooses the specification when opening the registration."),
    )
    distance_m = models.PositiveIntegerField(
        _("duplicate check distance (m)"),
        default=DEFAULT_DISTANCE_M,
        validators=[MinValueValidator(1), MaxValueValidator(5000)],
    )
    # The SMS gateway's inbound webhook presents this token (only its hash is kept).
    sms_token_hash = models.CharField(max_length=64, blank=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("Registro de Atendimento settings")

    def __str__(self) -> str:
        return str(self.operator)


class Place(models.Model):
    """Where a registration happens. ``subject`` repeats the occurrence's specification
    (kept equal by the services) so that the duplicate check reads one index."""

    occurrence = models.OneToOneField(
        Occurrence, on_delete=models.PROTECT, primary_key=True, related_name="place"
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    street = models.CharField(_("street"), max_length=200, blank=True)
    number = models.CharField(_("number"), max_length=20, blank=True)
    complement = models.CharField(_("complement"), max_length=100, blank=True)
    neighbourhood = models.CharField(_("neighbourhood"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    state = models.CharField(_("state (UF)"), max_length=2, blank=True, choices=BRAZILIAN_STATES)
    postal_code = models.CharField(_("postal code (CEP)"), max_length=8, blank=True)
    reference = models.CharField(_("reference point"), max_length=200, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    property_registration = models.CharField(
        _("property registration (matrícula)"), max_length=30, blank=True
    )
    # The operational incident of the area the registration was opened in, if any.
    incident = models.ForeignKey(
        "Incident", on_delete=models.PROTECT, null=True, blank=True, related_name="places"
    )
    address_key = models.CharField(max_length=340, blank=True)
    neighbourhood_key = models.CharField(max_length=210, blank=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        indexes = [
            # The duplicate check's surroundings: a latitude band of one specification.
            models.Index(
                fields=["operator", "subject", "latitude", "longitude"], name="place_near"
            ),
            # The same property, the same address (the duplicate check and the
            # registration page), the area's open ones.
            models.Index(fields=["operator", "property_registration"], name="place_of_property"),
            models.Index(fields=["operator", "address_key"], name="place_of_address"),
            models.Index(fields=["operator", "neighbourhood_key", "subject"], name="place_of_area"),
        ]

    def __str__(self) -> str:
        return self.address

    @property
    def address(self) -> str:
        line = ", ".join(p for p in (self.street, self.number, self.complement) if p)
        area = " — ".join(p for p in (self.neighbourhood, self.city) if p)
        return " · ".join(p for p in (line, area) if p)

    @property
    def has_coordinates(self) -> bool:
        return self.latitude is not None and self.longitude is not None

    def keys_refresh(self) -> None:
        street = text_key(self.street)
        city = text_key(self.city)
        self.address_key = f"{street}|{text_key(self.number)}|{city}" if street and city else ""
        area = text_key(self.neighbourhood)
        self.neighbourhood_key = f"{city}|{area}" if city and area else ""


class RequesterKind(models.TextChoices):
    PERSON = "person", _("Person")
    UNIT = "unit", _("Unit of the operator")


class Requester(models.Model):
    """Who asked for a registration: a person or one of the operator's units. Each one
    with a phone is told by SMS of the protocol and of the registration attended."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    occurrence = models.ForeignKey(Occurrence, on_delete=models.PROTECT, related_name="requesters")
    kind = models.CharField(
        _("kind"), max_length=10, choices=RequesterKind.choices, default=RequesterKind.PERSON
    )
    name = models.CharField(_("name"), max_length=200, blank=True)
    identifier = models.CharField(_("CPF"), max_length=14, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    email = models.EmailField(_("e-mail"), max_length=254, blank=True)
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    # The citizen's report this requester came from, when attached from the intake queue.
    origin = models.ForeignKey(
        Occurrence, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField()

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["occurrence", "pk"]

    def __str__(self) -> str:
        if self.kind == RequesterKind.UNIT and self.unit_id:
            return self.unit.name
        return self.name or self.phone or "—"


class LocalityRule(models.Model):
    """Informar associação de localidade, especificação e unidade: the unit that receives
    a specification's registrations in a city or one of its neighbourhoods (blank: the
    whole city). The neighbourhood's rule wins over the city's; without either, the
    specification's default unit."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(
        Subject, on_delete=models.PROTECT, related_name="+", verbose_name=_("specification")
    )
    city = models.CharField(_("city"), max_length=100)
    neighbourhood = models.CharField(_("neighbourhood"), max_length=100, blank=True)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("responsible unit")
    )
    city_key = models.CharField(max_length=100)
    neighbourhood_key = models.CharField(max_length=100, blank=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("locality rule")
        verbose_name_plural = _("locality rules")
        ordering = ["city", "neighbourhood", "pk"]
        constraints = [
            models.UniqueConstraint(
                "subject",
                "city_key",
                "neighbourhood_key",
                name="registrations_localityrule_unique",
                violation_error_message=_(
                    "This specification already has a rule for this locality."
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.city} {self.neighbourhood}".strip()

    def save(self, *args: object, **kwargs: object) -> None:
        self.city_key = text_key(self.city)
        self.neighbourhood_key = text_key(self.neighbourhood)
        super().save(*args, **kwargs)


class PropertyAccount(models.Model):
    """The billing situation of a customer's property (matrícula do imóvel), loaded from the
    operator's commercial system: a debtor property's registrations of some specifications
    go to the unit that handles collection (trâmite por situação de cobrança)."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    property_registration = models.CharField(_("property registration (matrícula)"), max_length=30)
    debtor = models.BooleanField(_("debtor"), default=False)
    updated_at = models.DateTimeField()

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "property_registration"], name="registrations_property_unique"
            )
        ]

    def __str__(self) -> str:
        return self.property_registration


class BillingRule(models.Model):
    """Informa trâmite por situação de cobrança: a debtor property's registrations of this
    specification are opened in this unit, before any locality rule."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.OneToOneField(
        Subject, on_delete=models.PROTECT, related_name="+", verbose_name=_("specification")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit for debtors")
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("billing situation rule")
        verbose_name_plural = _("billing situation rules")

    def __str__(self) -> str:
        return f"{self.subject} → {self.unit}"


def procedure_file_path(instance: "ProcedureFile", filename: str) -> str:
    return f"procedures/{instance.operator_id}/{instance.subject_id}/{instance.token}"


class ProcedureFile(models.Model):
    """A file of a specification's standard operating procedure (POP): a form, a map, a
    checklist the attendant opens from the registration."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="procedure_files")
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=procedure_file_path, max_length=200)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    uploaded_at = models.DateTimeField()
    is_active = models.BooleanField(default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["subject", "name", "pk"]

    def __str__(self) -> str:
        return self.name


class ServiceType(models.Model):
    """A service a specification's registrations may need (seed 004: "tipo de serviço na
    especificação"): replace a stretch of pipe, unblock a sewer, check a meter."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(
        Subject,
        on_delete=models.PROTECT,
        related_name="service_types",
        verbose_name=_("specification"),
    )
    name = models.CharField(_("name"), max_length=120)
    default_unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("executing unit")
    )
    expected_hours = models.PositiveIntegerField(_("expected duration (hours)"), default=24)
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("service type")
        verbose_name_plural = _("service types")
        ordering = ["subject", "name"]

    def __str__(self) -> str:
        return self.name


class OrderState(models.TextChoices):
    PENDING = "pendente", _("Pending")
    RUNNING = "em_execucao", _("In execution")
    RELEASE = "aguardando_liberacao", _("Awaiting release")
    CLOSED = "encerrada", pgettext_lazy("service order", "Closed")


class OrderOutcome(models.TextChoices):
    EXECUTED = "executada", _("Executed")
    NOT_EXECUTED = "nao_executada", _("Not executed")


class OrderPriority(models.IntegerChoices):
    LOW = 1, _("Low")
    NORMAL = 2, _("Normal")
    HIGH = 3, _("High")
    URGENT = 4, _("Urgent")


# The moves an order may make; closing (executed or not) has its own rules.
ORDER_MOVES = {
    OrderState.PENDING: {OrderState.RUNNING},
    OrderState.RUNNING: {OrderState.RELEASE, OrderState.PENDING},
    OrderState.RELEASE: {OrderState.RUNNING},
}


class ServiceOrder(models.Model):
    """An order of service of a registration (ordem de serviço), worked by its executing
    unit: Pendente → Em execução → Aguardando liberação → Encerrada, executed or not. Each
    change is an event of the registration; the registration does not close as attended
    while one is open."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.PROTECT, related_name="service_orders"
    )
    number = models.PositiveSmallIntegerField()
    service_type = models.ForeignKey(ServiceType, on_delete=models.PROTECT, related_name="+")
    priority = models.PositiveSmallIntegerField(
        _("priority"), choices=OrderPriority.choices, default=OrderPriority.NORMAL
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("executing unit")
    )
    scheduled_for = models.DateField(_("scheduled for"), null=True, blank=True)
    state = models.CharField(max_length=20, choices=OrderState.choices, default=OrderState.PENDING)
    outcome = models.CharField(max_length=15, choices=OrderOutcome.choices, blank=True)
    opinion = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True)
    version = models.PositiveIntegerField(default=1)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["occurrence", "number"]
        constraints = [
            models.UniqueConstraint(fields=["occurrence", "number"], name="service_order_number")
        ]
        indexes = [
            # The executing unit's work queue: its open orders, most urgent first.
            models.Index(
                fields=["operator", "unit", "state", "-priority"], name="service_order_queue"
            )
        ]

    def __str__(self) -> str:
        return f"OS {self.number} — {self.service_type}"

    @property
    def is_open(self) -> bool:
        return self.state != OrderState.CLOSED


class ManualBlock(models.Model):
    """Gerar numeração de RA manual: protocol numbers taken from a type's sequence for a
    unit to write on paper forms during an outage, typed in when the registration is
    entered later. The numbers are ``head`` followed by ``first`` … ``first + count - 1``
    zero-padded to ``width`` digits, as the sequence would have issued them."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="+", verbose_name=_("unit")
    )
    occurrence_type = models.ForeignKey(
        OccurrenceType, on_delete=models.PROTECT, related_name="+", verbose_name=_("type")
    )
    head = models.CharField(max_length=20)
    width = models.PositiveSmallIntegerField()
    first = models.PositiveBigIntegerField()
    count = models.PositiveIntegerField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["operator", "head"], name="manual_block_head")]

    def __str__(self) -> str:
        return f"{self.number(0)} … {self.number(self.count - 1)}"

    def number(self, offset: int) -> str:
        return f"{self.head}{self.first + offset:0{self.width}d}"

    def holds(self, protocol: str) -> bool:
        tail = protocol[len(self.head) :]
        return (
            protocol.startswith(self.head)
            and len(tail) == self.width
            and tail.isdigit()
            and self.first <= int(tail) < self.first + self.count
        )


class IncidentReason(models.Model):
    """Motivo da ocorrência operacional: a main burst, a planned shutdown, a pump failure."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    description = models.CharField(_("description"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["description"]

    def __str__(self) -> str:
        return self.description


class Incident(models.Model):
    """An operational incident (ocorrência operacional) affecting an area: the registrations
    of its specifications opened there while it lasts are linked to it, the attendant is
    told at the duplicate check and the citizen in the protocol's SMS; closing it can close
    them all with one outcome."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    reason = models.ForeignKey(
        IncidentReason, on_delete=models.PROTECT, related_name="+", verbose_name=_("reason")
    )
    description = models.CharField(_("description"), max_length=300)
    subjects = models.ManyToManyField(
        Subject, related_name="+", verbose_name=_("specifications affected")
    )
    city = models.CharField(_("city"), max_length=100, blank=True)
    # The affected neighbourhoods of ``city`` (their keys), and/or a circle.
    neighbourhoods = models.JSONField(default=list, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    starts_at = models.DateTimeField(_("start"))
    expected_end_at = models.DateTimeField(_("expected end"))
    closed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-starts_at", "-pk"]
        indexes = [models.Index(fields=["operator", "closed_at"], name="incident_open")]

    def __str__(self) -> str:
        return f"{self.reason}: {self.description}"


class BatchState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class BatchClosing(models.Model):
    """Comandar encerramento: every open registration matching ``criteria`` closed with one
    status, reason and outcome, by the worker (a lease, attempts and re-drive, like a
    report). Each registration closes in its own transaction; those refused (an open
    service order) are listed with why. A new attempt picks up what is still open."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    criteria = models.JSONField()
    status = models.ForeignKey("catalog.Status", on_delete=models.PROTECT, related_name="+")
    reason = models.ForeignKey(
        "catalog.OutcomeReason", on_delete=models.PROTECT, null=True, related_name="+"
    )
    outcome_text = models.TextField()
    state = models.CharField(max_length=10, choices=BatchState.choices, default=BatchState.QUEUED)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    closed = models.PositiveIntegerField(default=0)
    refused = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True)
    created_at = models.DateTimeField()
    enqueued_at = models.DateTimeField(null=True)
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    error = models.TextField(blank=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.pk}: {self.get_state_display()}"

    @property
    def progress_percent(self) -> int:
        return 100 if not self.total else min(100, self.processed * 100 // self.total)


class OpeningForm(models.Model):
    """What was filled, at opening, in the specification's form (a refund's document,
    amounts, dates and bank details), with the version of the form it was checked
    against."""

    occurrence = models.OneToOneField(
        Occurrence, on_delete=models.PROTECT, primary_key=True, related_name="opening_form"
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    form_version = models.ForeignKey(
        "catalog.FormVersion", on_delete=models.PROTECT, related_name="+"
    )
    data = models.JSONField()

    tenant_path = "operator"
    objects = TenantManager()

    def __str__(self) -> str:
        return str(self.form_version)
