"""The call center (seeds 002 and 003): a contact is one call with a beneficiary. Starting
it issues its first protocol; each manifestation made during it is an occurrence with its
own protocol, and each pendency a child occurrence routed to a unit. The phone system
announces calls (the screen pop) before anyone registers them.

A contact's status (em atendimento, pendente, concluído, abandonado) is never stored: it is
derived from the contact and its pendencies (``selectors.with_status``)."""

from collections.abc import Iterable

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.beneficiaries.models import Beneficiary
from atende.catalog.models import OccurrenceType
from atende.occurrences.models import Channel, Occurrence
from atende.tenancy.models import Application, Operator, TenantManager


class ContactStatus(models.TextChoices):
    """Seed 002's statuses of an attendance, derived and never picked."""

    IN_PROGRESS = "em_atendimento", _("In attendance")
    PENDING = "pendente", _("Pending")
    CONCLUDED = "concluido", _("Concluded")
    ABANDONED = "abandonado", _("Abandoned")


class TissGuideKind(models.TextChoices):
    """The TISS guide a manifestation refers to."""

    CONSULTATION = "consulta", _("Consultation")
    SP_SADT = "sp_sadt", "SP/SADT"
    HOSPITALISATION = "internacao", _("Hospitalisation")
    FEES = "honorarios", _("Individual fees")
    DENTAL = "odontologia", _("Dental treatment")


class CallCenterSettings(models.Model):
    """What the call center of an operator issues its protocols as."""

    operator = models.OneToOneField(
        Operator, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("application"),
        help_text=_("The source recorded on the call center's protocols."),
    )
    occurrence_type = models.ForeignKey(
        OccurrenceType,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("occurrence type of the manifestations"),
        help_text=_(
            "It needs a status that closes as resolved (concluded on the call) and one that "
            "closes without resolution (abandoned)."
        ),
    )
    # Seed 003's services to the beneficiary: the type each request is issued as (none:
    # the service is not offered). Refunds are refused to a card with a blocking critique.
    refund_type = models.ForeignKey(
        OccurrenceType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund protocol"),
    )
    refund_authorisation_type = models.ForeignKey(
        OccurrenceType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("refund authorisation"),
    )
    card_copy_type = models.ForeignKey(
        OccurrenceType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("card second copy"),
    )
    indication_type = models.ForeignKey(
        OccurrenceType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("provider indication"),
    )
    # The operator's management system, read during a call (seed 002's Ocorrências): a GET
    # of this address, "{card}" replaced by the card code, answering a JSON list of records.
    erp_url = models.CharField(
        _("management system address"),
        max_length=500,
        blank=True,
        help_text=_("e.g. https://erp.example.com/beneficiarios/{card}/ocorrencias"),
    )
    erp_token = models.CharField(
        _("management system token"),
        max_length=200,
        blank=True,
        help_text=_("Sent as 'Authorization: Bearer …'; blank for none."),
    )
    abandon_after_minutes = models.PositiveSmallIntegerField(
        _("abandoned after (minutes without activity)"),
        default=30,
        validators=[MinValueValidator(1)],
    )
    missed_after_seconds = models.PositiveIntegerField(
        _("call missed after (seconds unregistered)"),
        default=120,
        validators=[MinValueValidator(10)],
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("call center settings")

    def __str__(self) -> str:
        return str(self.operator_id)

    def save(self, *args: object, **kwargs: object) -> None:
        super().save(*args, **kwargs)
        # Which types are checked against the critiques is read from a per-process cache
        # keyed by the catalog's version (``services.critique_checked_types``).
        from atende.catalog.services import catalog_changed

        catalog_changed(self.operator_id)

    def type_ids(self, services: Iterable[str]) -> set[int]:
        """The ids of the types these services are issued as (those the operator offers)."""
        found = (getattr(self, f"{service}_id") for service in services)
        return {type_id for type_id in found if type_id is not None}


class Service(models.TextChoices):
    """Seed 003's requests made for the beneficiary during a call, by the settings' field
    that names each one's type."""

    INDICATION = "indication_type", _("Provider indication")
    REFUND = "refund_type", _("Refund protocol")
    REFUND_AUTHORISATION = "refund_authorisation_type", _("Refund authorisation")
    CARD_COPY = "card_copy_type", _("Card second copy")


# A card with a blocking critique gets the critique's message instead of these forms.
CRITIQUE_CHECKED = {Service.REFUND, Service.REFUND_AUTHORISATION}


class Call(models.Model):
    """A call the phone system announced (the screen pop)."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="+")
    caller_number = models.CharField(_("caller's number"), max_length=20, blank=True)
    ivr_code = models.CharField(_("IVR beneficiary code"), max_length=30, blank=True)
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    attendant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("received at"))

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("call")
        verbose_name_plural = _("calls")
        indexes = [models.Index(fields=["attendant", "received_at"], name="cc_call_attendant")]

    def __str__(self) -> str:
        return f"{self.caller_number or self.ivr_code} @ {self.received_at:%Y-%m-%d %H:%M}"


class Contact(models.Model):
    """One call with a beneficiary. ``operator`` is the beneficiary's (the protocols are
    its); ``attendant_operator`` is the one the attendant answered for."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    attendant_operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    attendant = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    beneficiary = models.ForeignKey(Beneficiary, on_delete=models.PROTECT, related_name="+")
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    ivr_code = models.CharField(_("IVR beneficiary code"), max_length=30, blank=True)
    call = models.OneToOneField(
        Call, on_delete=models.PROTECT, null=True, blank=True, related_name="contact"
    )
    started_at = models.DateTimeField(_("started at"))
    last_activity_at = models.DateTimeField()
    finished_at = models.DateTimeField(_("finished at"), null=True)
    abandoned_at = models.DateTimeField(_("abandoned at"), null=True)
    abandoned_idle = models.BooleanField(default=False)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        indexes = [
            models.Index(fields=["operator", "started_at"], name="cc_contact_started"),
            # The idle sweep reads only the contacts still in attendance.
            models.Index(
                fields=["last_activity_at"],
                name="cc_contact_live",
                condition=models.Q(finished_at__isnull=True, abandoned_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary_id} @ {self.started_at:%Y-%m-%d %H:%M}"

    def worked_by(self, actor: object) -> bool:
        """Whether this actor sees and works the contact: its attendant, or a supervisor
        of its operator (the same rule as a query: ``selectors.contacts_visible_to``)."""
        return actor.operator_id == self.operator_id and (
            actor.is_supervisor or self.attendant_id == actor.user.pk
        )


class ContactOccurrence(models.Model):
    """An occurrence registered during a contact: a manifestation, or a pendency raised
    from one (``is_pendency``; its ``parent`` is the manifestation)."""

    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="items")
    occurrence = models.OneToOneField(Occurrence, on_delete=models.PROTECT, related_name="+")
    is_pendency = models.BooleanField(default=False)

    class Meta:
        ordering = ["occurrence_id"]

    def __str__(self) -> str:
        return str(self.occurrence_id)


class EntryKind(models.TextChoices):
    DETAIL = "detail", _("Beneficiary's record consulted")
    HISTORY = "history", _("Attendance history consulted")
    WAITING = "waiting", _("Waiting periods and coverage consulted")
    FINANCIAL = "financial", _("Financial situation consulted")
    REQUESTS = "requests", _("Requests consulted")
    PROTOCOL_SENT = "protocol_sent", _("Protocol sent")
    AUDIT = "audit", _("Interaction registered")
    REFUSED = "refused", _("Request refused by a critique")
    PASSWORD_RESET = "password_reset", _("Portal password reset")
    DATA_UPDATED = "data_updated", _("Contact data updated")
    ERP = "erp", _("Management system consulted")


class ContactEntry(models.Model):
    """What was consulted and done during a contact, so the protocol shows it. Written
    once, never changed (a trigger refuses updates and deletes)."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    contact = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="entries")
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=15, choices=EntryKind.choices)
    text = models.CharField(max_length=1000, blank=True)
    # The portal login a password reset was for (they are counted per login).
    login = models.ForeignKey(
        "portal.BeneficiaryLogin", on_delete=models.PROTECT, null=True, related_name="+"
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return self.kind
