"""The beneficiary registry: one row per card (carteirinha) of an operator's beneficiary,
loaded from the operator's systems (file import, API upsert), with the plan, contacts,
waiting periods, partial temporary coverage, invoices and guides that screens show.

Every change is recorded in ``Change`` and every read of a record in a screen in
``Access``; both are append-only (PostgreSQL refuses to update or delete them)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from atende.tenancy.models import ApiToken, Operator, TenantManager
from atende.tenancy.validators import phone_display


class Segmentation(models.TextChoices):
    AMBULATORY = "ambulatorial", _("Outpatient (ambulatorial)")
    HOSPITAL_OBSTETRIC = "hospitalar_obstetricia", _("Hospital with obstetrics")
    HOSPITAL = "hospitalar", _("Hospital without obstetrics")
    DENTAL = "odontologico", _("Dental")
    REFERENCE = "referencia", _("Reference plan")


class ContractKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual or family")
    EMPLOYER = "empresarial", _("Collective, employer")
    MEMBERSHIP = "adesao", _("Collective, by membership")


class Situation(models.TextChoices):
    ACTIVE = "ativo", _("Active")
    SUSPENDED = "suspenso", _("Suspended")
    CANCELLED = "cancelado", _("Cancelled")


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    UNKNOWN = "", _("Not informed")


class Ceiling(models.TextChoices):
    """Which legal ceiling of Lei 9.656/98, art. 12, V a procedure group falls under."""

    URGENCY = "urgencia", _("Urgency and emergency (24 hours)")
    TERM_DELIVERY = "parto", _("Term delivery (300 days)")
    OTHER = "demais", _("Other procedures (180 days)")


CEILING_DAYS = {Ceiling.URGENCY: 1, Ceiling.TERM_DELIVERY: 300, Ceiling.OTHER: 180}


class Product(models.Model):
    """A health plan product as registered at the ANS."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=200)
    ans_registration = models.CharField(_("ANS product registration"), max_length=20, blank=True)
    segmentation = models.CharField(
        _("segmentation"), max_length=30, choices=Segmentation.choices, blank=True
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "code"], name="beneficiaries_product_code")
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureGroup(models.Model):
    """A group of procedures the operator counts waiting periods for."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("code"), max_length=30)
    name = models.CharField(_("name"), max_length=120)
    ceiling = models.CharField(
        _("legal ceiling"), max_length=10, choices=Ceiling.choices, default=Ceiling.OTHER
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("procedure group")
        verbose_name_plural = _("procedure groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "code"], name="beneficiaries_group_code")
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ceiling_days(self) -> int:
        return CEILING_DAYS[self.ceiling]


class WaitingPeriod(models.Model):
    """The days of a product's waiting period for one procedure group."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="waiting_periods")
    group = models.ForeignKey(ProcedureGroup, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveIntegerField(_("days"), validators=[MaxValueValidator(3650)])

    tenant_path = "product__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("waiting period")
        verbose_name_plural = _("waiting periods")
        constraints = [
            models.UniqueConstraint(fields=["product", "group"], name="beneficiaries_wp_unique")
        ]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.days}"


class RegistrySettings(models.Model):
    """How an operator's critiques are derived, and which of them block a request."""

    operator = models.OneToOneField(Operator, on_delete=models.CASCADE, related_name="+")
    overdue_days = models.PositiveSmallIntegerField(
        _("days an unpaid invoice may be overdue"),
        default=60,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("60 is the law's threshold for suspending a contract."),
    )
    suspended_blocks = models.BooleanField(_("a suspended contract blocks requests"), default=True)
    cancelled_blocks = models.BooleanField(_("a cancelled contract blocks requests"), default=True)
    overdue_blocks = models.BooleanField(_("an overdue invoice blocks requests"), default=True)
    card_expired_blocks = models.BooleanField(_("an expired card blocks requests"), default=True)
    waiting_blocks = models.BooleanField(
        _("a waiting period in force blocks requests"), default=True
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("registry settings")
        verbose_name_plural = _("registry settings")

    def __str__(self) -> str:
        return f"{self.operator_id}"


class Beneficiary(models.Model):
    """One card of one person at one operator. A person (a CPF) may hold several cards:
    as holder and as someone's dependent, or in several contracts."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    card = models.CharField(_("card"), max_length=30)
    cpf = models.CharField("CPF", max_length=11)
    cns = models.CharField("CNS", max_length=15, blank=True)
    name = models.CharField(_("name"), max_length=200)
    social_name = models.CharField(_("social name"), max_length=200, blank=True)
    # The name and social name without accents, in lower case, single-spaced: what a
    # search by name matches (a trigram index covers it on PostgreSQL).
    name_key = models.CharField(max_length=401, editable=False)
    birth_date = models.DateField(_("birth date"), null=True)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices, blank=True)
    mother_name = models.CharField(_("mother's name"), max_length=200, blank=True)
    # Empty for a holder; a dependent names the holder's card.
    holder_card = models.CharField(_("holder's card"), max_length=30, blank=True)
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    contract_number = models.CharField(_("contract"), max_length=30, blank=True)
    contract_kind = models.CharField(
        _("contract kind"), max_length=12, choices=ContractKind.choices, blank=True
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    contract_start = models.DateField(_("contract start"), null=True)
    card_valid_until = models.DateField(_("card valid until"), null=True)
    situation = models.CharField(
        _("situation"), max_length=10, choices=Situation.choices, default=Situation.ACTIVE
    )
    situation_date = models.DateField(_("situation date"), null=True)
    situation_reason = models.CharField(_("situation reason"), max_length=200, blank=True)
    # A digest of everything the operator's systems sent for this card: a record sent
    # again unchanged is recognised without reading its contacts.
    digest = models.CharField(max_length=40, editable=False)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    anonymised_at = models.DateTimeField(null=True, editable=False)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("beneficiary")
        verbose_name_plural = _("beneficiaries")
        # No default ordering: the import looks cards up by the thousand, and an ORDER BY
        # would have SQLite walk the name index instead of the card's.
        constraints = [
            models.UniqueConstraint(fields=["operator", "card"], name="beneficiaries_card"),
        ]
        indexes = [
            models.Index(fields=["operator", "cpf"], name="beneficiary_cpf"),
            models.Index(fields=["operator", "birth_date"], name="beneficiary_birth"),
            models.Index(fields=["operator", "name_key"], name="beneficiary_name"),
            models.Index(
                fields=["operator", "holder_card"],
                name="beneficiary_holder",
                condition=~models.Q(holder_card=""),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name} ({self.card})"

    @property
    def display_name(self) -> str:
        return self.social_name or self.name

    @property
    def is_holder(self) -> bool:
        return not self.holder_card


class ContactKind(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")


class Contact(models.Model):
    """A phone (E.164) or an e-mail address of a beneficiary's card."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="contacts")
    kind = models.CharField(max_length=5, choices=ContactKind.choices)
    value = models.CharField(_("value"), max_length=254)
    is_main = models.BooleanField(_("main"), default=False)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["kind", "-is_main", "id"]
        indexes = [models.Index(fields=["value"], name="beneficiary_contact")]

    def __str__(self) -> str:
        return self.value

    @property
    def display(self) -> str:
        return phone_display(self.value) if self.kind == ContactKind.PHONE else self.value


class Address(models.Model):
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="addresses")
    postal_code = models.CharField(_("postal code (CEP)"), max_length=8, blank=True)
    street = models.CharField(_("street"), max_length=200)
    number = models.CharField(_("number"), max_length=20, blank=True)
    complement = models.CharField(_("complement"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    city = models.CharField(_("municipality"), max_length=100, blank=True)
    state = models.CharField(_("state (UF)"), max_length=2, blank=True)
    is_main = models.BooleanField(_("main"), default=False)

    tenant_path = "beneficiary__operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-is_main", "id"]

    def __str__(self) -> str:
        return f"{self.street}, {self.number}"


class CardWaitingPeriod(models.Model):
    """A waiting period the operator's systems set for one card, instead of its product's."""

    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="waiting_periods"
    )
    group = models.ForeignKey(ProcedureGroup, on_delete=models.PROTECT, related_name="+")
    days = models.PositiveIntegerField(_("days"))

    tenant_path = "beneficiary__operator"
    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "group"], name="beneficiaries_cwp")
        ]

    def __str__(self) -> str:
        return f"{self.group_id}: {self.days}"


class PartialCoverage(models.Model):
    """Partial temporary coverage (CPT) of a declared pre-existing condition."""

    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.CASCADE, related_name="partial_coverages"
    )
    group = models.ForeignKey(ProcedureGroup, on_delete=models.PROTECT, related_name="+")
    condition = models.CharField(_("condition"), max_length=200)
    ends_on = models.DateField(_("ends on"))

    tenant_path = "beneficiary__operator"
    objects = TenantManager()

    class Meta:
        ordering = ["ends_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["beneficiary", "group", "condition"], name="beneficiaries_cpt"
            )
        ]

    def __str__(self) -> str:
        return self.condition


class Invoice(models.Model):
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="invoices")
    number = models.CharField(_("number"), max_length=30)
    competence = models.DateField(_("competence"))  # the first day of its month
    due_on = models.DateField(_("due date"))
    amount = models.DecimalField(
        pgettext_lazy("invoice", "amount"), max_digits=12, decimal_places=2
    )
    paid_on = models.DateField(_("paid on"), null=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-competence", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "number"], name="beneficiaries_invoice_number"
            )
        ]
        indexes = [
            models.Index(
                fields=["beneficiary", "due_on"],
                name="beneficiary_unpaid",
                condition=models.Q(paid_on__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return self.number


class GuideKind(models.TextChoices):
    AUTHORISATION = "autorizacao", _("Authorisation (SP/SADT)")
    HOSPITALISATION = "internacao", _("Hospitalisation")


class GuideSituation(models.TextChoices):
    REQUESTED = "solicitada", _("Requested")
    UNDER_REVIEW = "em_analise", _("Under review")
    AUTHORISED = "autorizada", _("Authorised")
    DENIED = "negada", _("Denied")
    CANCELLED = "cancelada", _("Cancelled")


class Guide(models.Model):
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.CASCADE, related_name="guides")
    number = models.CharField(_("number"), max_length=30)
    kind = models.CharField(_("kind"), max_length=12, choices=GuideKind.choices)
    issued_on = models.DateField(_("date"))
    procedure = models.CharField(_("procedure"), max_length=200)
    situation = models.CharField(_("situation"), max_length=12, choices=GuideSituation.choices)
    denial_reason = models.CharField(_("denial reason"), max_length=300, blank=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "number"], name="beneficiaries_guide_number"
            )
        ]

    def __str__(self) -> str:
        return self.number


class ImportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Import(models.Model):
    """A file of beneficiaries being loaded. Each batch commits its rows, its problems and
    the line reached together, so an attempt that dies is resumed from that line."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    file_name = models.CharField(_("file"), max_length=200)
    stored_name = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    state = models.CharField(max_length=10, choices=ImportState.choices, default="queued")
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True)
    enqueued_at = models.DateTimeField(null=True)
    # The data lines committed so far (the header not counted) and the bytes they took.
    lines_done = models.PositiveBigIntegerField(default=0)
    bytes_done = models.PositiveBigIntegerField(default=0)
    created = models.PositiveBigIntegerField(default=0)
    updated = models.PositiveBigIntegerField(default=0)
    unchanged = models.PositiveBigIntegerField(default=0)
    invalid = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state"], name="beneficiary_import_state")]

    def __str__(self) -> str:
        return self.file_name

    @property
    def is_active(self) -> bool:
        return self.state in (ImportState.QUEUED, ImportState.RUNNING)

    @property
    def progress_percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        return min(99, self.bytes_done * 100 // self.size) if self.size else 0


class ImportProblem(models.Model):
    """A refused line of an import: where, and why (never the value, which may be
    someone's personal data)."""

    job = models.ForeignKey(Import, on_delete=models.CASCADE, related_name="problems")
    line = models.PositiveBigIntegerField()
    column = models.CharField(max_length=40)
    reason = models.CharField(max_length=300)

    class Meta:
        ordering = ["line", "id"]

    def __str__(self) -> str:
        return f"{self.line}: {self.reason}"


class ChangeKind(models.TextChoices):
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Changed")
    CANCELLED = "cancelled", _("Cancelled (removed at the source)")
    ANONYMISED = "anonymised", _("Anonymised")


class Change(models.Model):
    """One change of a card's record: who made it (a person, an import or an API token),
    when, and each field before and after. Append-only."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="changes", db_index=False
    )
    at = models.DateTimeField()
    kind = models.CharField(max_length=10, choices=ChangeKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    job = models.ForeignKey(Import, on_delete=models.PROTECT, null=True, related_name="+")
    token = models.ForeignKey(ApiToken, on_delete=models.PROTECT, null=True, related_name="+")
    # {field: [before, after]}; on creation, only "after" values.
    fields = models.JSONField(default=dict)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["beneficiary", "at"], name="beneficiary_changes")]

    def __str__(self) -> str:
        return f"{self.kind} {self.at:%Y-%m-%d %H:%M}"


class Access(models.Model):
    """A person saw a card's record in a screen (LGPD: who saw whose data). Append-only."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(
        Beneficiary, on_delete=models.PROTECT, related_name="accesses", db_index=False
    )
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    screen = models.CharField(max_length=40)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["beneficiary", "at"], name="beneficiary_accesses"),
            models.Index(fields=["operator", "user", "at"], name="beneficiary_access_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.at:%Y-%m-%d %H:%M}"
