"""Tenancy: operators (tenants), their applications and units, and who works for them.

Every record of Atende belongs to exactly one operator. Reads go through
``TenantQuerySet.for_user``, which is the one place that decides what a user may see.
"""

from typing import Self

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from atende.tenancy.validators import (
    normalize_cnpj,
    validate_ans_registration,
    validate_bundle,
    validate_cnpj,
    validate_time_zone,
)

_UF = "AC AL AP AM BA CE DF ES GO MA MT MS MG PA PB PR PE PI RJ RN RS RO RR SC SP SE TO"
BRAZILIAN_STATES = [(code, code) for code in _UF.split()]


class Role(models.TextChoices):
    ATTENDANT = "attendant", _("Attendant")
    SUPERVISOR = "supervisor", _("Supervisor")
    CONFIGURATOR = "configurator", _("Configurator")


class Instance(models.IntegerChoices):
    SANDBOX = 1, _("Sandbox")
    PRODUCTION = 2, _("Production")


class TenantQuerySet(models.QuerySet):
    """Scopes rows to the operators a user belongs to (netbox ``RestrictedQuerySet``).

    ``tenant_path`` on the model names the lookup from the row to its operator, so models
    that reach their operator through another row scope the same way.
    """

    def for_user(self, user: object, *, roles: set[str] | None = None) -> Self:
        if not getattr(user, "is_authenticated", False) or not getattr(user, "is_active", False):
            return self.none()
        memberships = Membership.objects.filter(user=user, is_active=True)
        if roles is not None:
            memberships = memberships.filter(role__in=roles)
        path = self.model.tenant_path
        return self.filter(**{f"{path}__in": memberships.values("operator_id")})

    def for_operator(self, operator: "Operator | int") -> Self:
        operator_id = operator if isinstance(operator, int) else operator.pk
        return self.filter(**{self.model.tenant_path: operator_id})


class TenantManager(models.Manager.from_queryset(TenantQuerySet)):
    pass


class Operator(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    ans_registration = models.CharField(
        _("ANS registration"),
        max_length=6,
        blank=True,
        validators=[validate_ans_registration],
        help_text=_("6 digits; only for health-plan operators."),
    )
    cnpj = models.CharField(
        "CNPJ",
        max_length=18,
        blank=True,
        validators=[validate_cnpj],
        help_text=_("14 digits, punctuation optional."),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        default="America/Sao_Paulo",
        validators=[validate_time_zone],
    )
    state = models.CharField(_("state (UF)"), max_length=2, blank=True, choices=BRAZILIAN_STATES)
    municipality = models.CharField(_("municipality"), max_length=120, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    report_max_days = models.PositiveSmallIntegerField(
        _("longest report period (days)"),
        default=366,
        validators=[MinValueValidator(1)],
        help_text=_("The longest period an occurrence report may cover."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Bumped by every change of the operator's catalog, in the change's transaction; the
    # processes' catalog snapshots are keyed by it.
    catalog_version = models.PositiveBigIntegerField(default=1, editable=False)

    tenant_path = "pk"  # an operator is its own tenant

    objects = TenantManager()

    class Meta:
        verbose_name = _("operator")
        verbose_name_plural = _("operators")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["ans_registration"],
                condition=~models.Q(ans_registration=""),
                name="tenancy_operator_ans_unique",
                violation_error_message=_("Another operator already has this ANS registration."),
            ),
            models.UniqueConstraint(
                fields=["cnpj"],
                condition=~models.Q(cnpj=""),
                name="tenancy_operator_cnpj_unique",
                violation_error_message=_("Another operator already has this CNPJ."),
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        # catalog_version is written only by catalog_changed(): an instance read before a
        # catalog change (an admin form, say) must not put an older version back.
        if not self._state.adding and "update_fields" not in kwargs:
            kwargs["update_fields"] = [
                f.name
                for f in self._meta.concrete_fields
                if not f.primary_key and f.name != "catalog_version"
            ]
        super().save(*args, **kwargs)

    def clean(self) -> None:
        self.cnpj = normalize_cnpj(self.cnpj)


class Application(models.Model):
    """An operator's app or portal: a bundle in one instance (sandbox or production)."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="applications", verbose_name=_("operator")
    )
    name = models.CharField(_("name"), max_length=200)
    bundle = models.CharField(_("bundle"), max_length=150, validators=[validate_bundle])
    instance = models.PositiveSmallIntegerField(
        _("instance"), choices=Instance.choices, default=Instance.PRODUCTION
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["operator__name", "bundle", "instance"]
        constraints = [
            models.UniqueConstraint(
                Lower("bundle"),
                "instance",
                name="tenancy_application_bundle_instance_unique",
                violation_error_message=_(
                    "This bundle already has an application in this instance."
                ),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.bundle} ({self.get_instance_display()})"

    def clean(self) -> None:
        self.bundle = (self.bundle or "").strip().lower()


class Unit(models.Model):
    """A department of an operator: occurrences are routed to units and queued by unit."""

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="units", verbose_name=_("operator")
    )
    name = models.CharField(_("name"), max_length=120)
    code = models.CharField(_("code"), max_length=30, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["operator__name", "name"]
        constraints = [
            models.UniqueConstraint(
                "operator",
                Lower("name"),
                name="tenancy_unit_name_unique",
                violation_error_message=_("This operator already has a unit with this name."),
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role at one operator and the units they work in."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("user"),
    )
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="memberships", verbose_name=_("operator")
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    units = models.ManyToManyField(
        Unit, blank=True, related_name="members", verbose_name=_("units")
    )
    is_active = models.BooleanField(_("active"), default=True)
    # The phone system names the attendant of a call by e-mail or by this extension.
    extension = models.CharField(_("phone extension"), max_length=10, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "operator"],
                name="tenancy_membership_unique",
                violation_error_message=_("This user already has a role at this operator."),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.operator} ({self.get_role_display()})"


class Scope(models.TextChoices):
    CATALOG_READ = "catalog:read", _("Read the catalog (types, subjects, statuses)")
    OCCURRENCES_READ = "occurrences:read", _("Read occurrences and their history")
    OCCURRENCES_WRITE = "occurrences:write", _("Create and change occurrences")
    BENEFICIARY_READ = "beneficiary:read", _("Read a beneficiary's own occurrences")
    BENEFICIARY_WRITE = (
        "beneficiary:write",
        _("Write for a beneficiary: messages on their own occurrences"),
    )
    PUSH_REGISTER = "push:register", _("Register a beneficiary's devices for push")
    BENEFICIARIES_WRITE = (
        "beneficiaries:write",
        _("Load the beneficiary registry: cards, invoices, guides, waiting periods"),
    )
    BENEFICIARIES_READ = "beneficiaries:read", _("Read a card's record and its critiques")
    CALLS_WRITE = "calls:write", _("Announce incoming calls (the phone system's screen pop)")
    PROPERTIES_WRITE = (
        "properties:write",
        _("Load the properties' billing situation (Registro de Atendimento)"),
    )


class ApiToken(models.Model):
    """A credential of one application for the public API. Only a hash is stored; the
    token is shown once, when created."""

    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="tokens", verbose_name=_("application")
    )
    name = models.CharField(_("name"), max_length=120)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    tenant_path = "application__operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
