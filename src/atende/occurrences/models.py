"""Occurrences and their append-only event log.

The occurrence row is a cache of its events (hc ``Check`` and its flips): every service in
``services.py`` appends one event and updates the row in the same transaction. The report
and the SLA figures read the events; the panel reads the row.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.catalog.models import (
    AttendanceTab,
    Classification,
    FormVersion,
    Level,
    OccurrenceType,
    OutcomeReason,
    ProtocolType,
    Status,
    Subject,
)
from atende.tenancy.models import Application, Operator, TenantManager, Unit


class State(models.IntegerChoices):
    NEW = 1, _("New")
    OPEN = 2, _("Open")
    IN_ATTENDANCE = 3, _("In attendance")
    CLOSED = 4, _("Closed")


class Mode(models.IntegerChoices):
    DRAFT = 1, _("Draft")
    ACTIVE = 2, _("Active")


class Nature(models.IntegerChoices):
    ATTENDANCE = 1, _("Attendance")
    SELF_SERVICE = 2, _("Self-service")


class Channel(models.TextChoices):
    APP = "appMobile", _("Mobile app")
    WEB = "web", _("Web portal")
    PUBLIC_API = "apiPublica", _("Public API")
    PHONE = "telefone", _("Phone")
    WHATSAPP = "whatsapp", "WhatsApp"
    CHAT = "chat", _("Chat")
    EMAIL = "email", _("E-mail")
    IN_PERSON = "presencial", _("In person")
    SMS = "sms", "SMS"


class Occurrence(models.Model):
    # Foreign keys without an index of their own are covered by the composite indexes in
    # Meta (operator, unit, attendant) or never filtered alone; each index is paid on every
    # insert and update.
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    protocol = models.CharField(_("protocol"), max_length=30)
    protocol_type = models.ForeignKey(
        ProtocolType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        db_index=False,
    )
    occurrence_type = models.ForeignKey(
        OccurrenceType, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    subject = models.ForeignKey(
        Subject,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    status = models.ForeignKey(Status, on_delete=models.PROTECT, related_name="+", db_index=False)
    state = models.PositiveSmallIntegerField(choices=State.choices)
    mode = models.PositiveSmallIntegerField(choices=Mode.choices, default=Mode.ACTIVE)
    channel = models.CharField(max_length=12, choices=Channel.choices)
    nature = models.PositiveSmallIntegerField(choices=Nature.choices, default=Nature.ATTENDANCE)
    requester_identifier = models.CharField(max_length=20, blank=True)
    requester_name = models.CharField(max_length=200, blank=True)
    beneficiary_identifier = models.CharField(max_length=20, blank=True)
    beneficiary_name = models.CharField(max_length=200, blank=True)
    contract_number = models.CharField(max_length=30, blank=True)
    # Where the status actions reach the beneficiary (e-mail; SMS and WhatsApp in E.164).
    contact_email = models.EmailField(max_length=254, blank=True, db_default="")
    contact_phone = models.CharField(max_length=20, blank=True, db_default="")
    description = models.TextField(blank=True)
    # Snapshots of the type's links at creation, so later edits do not rewrite history.
    functionality_id = models.CharField(max_length=30, blank=True)
    functionality_description = models.CharField(max_length=200, blank=True)
    request_template_id = models.CharField(max_length=30, blank=True)
    request_template_description = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    attendant = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    attended = models.BooleanField(default=False)
    registered_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    sla_due_at = models.DateTimeField(null=True)
    sla_breached_at = models.DateTimeField(null=True)
    closed_at = models.DateTimeField(null=True)
    outcome_text = models.TextField(blank=True)
    outcome_attachment_url = models.URLField(max_length=500, blank=True)
    outcome_reason = models.ForeignKey(
        OutcomeReason,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    resolved = models.BooleanField(null=True)
    # Closed as a repetition of another (seed 004: "encerrar como duplicado").
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    # The manifestation (seed 002), recorded once by the call center: its classification
    # (a subcategory), procedure group, the three configured scales, an observation shown
    # highlighted and the TISS guides ({"number", "kind", "password"}) it concerns.
    classification = models.ForeignKey(
        Classification, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    procedure_group = models.ForeignKey(
        "beneficiaries.ProcedureGroup",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    urgency = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    sentiment = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    priority = models.ForeignKey(
        Level, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    observation = models.TextField(blank=True, db_default="")
    guides = models.JSONField(default=list, blank=True)
    # Since when the beneficiary's last message waits for the operator's answer: set by
    # their first unanswered message, cleared by a public reply or the closing.
    awaiting_since = models.DateTimeField(null=True)
    # Incremented by every change made by someone; a change made from a stale read of the
    # occurrence is refused. ``last_seq`` numbers its events (the system's too).
    version = models.PositiveIntegerField(default=1)
    last_seq = models.PositiveIntegerField(default=1)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("occurrence")
        verbose_name_plural = _("occurrences")
        constraints = [
            models.UniqueConstraint(
                fields=["operator", "protocol"], name="occurrences_protocol_unique"
            ),
        ]
        # The three queue indexes end with the id, so their keys never repeat: on PostgreSQL
        # migration 0005 turns their B-tree deduplication off (a new migration that rebuilds
        # one of them must do so again).
        indexes = [
            models.Index(fields=["operator", "unit", "state", "id"], name="occ_queue"),
            models.Index(fields=["operator", "state", "id"], name="occ_state"),
            models.Index(fields=["operator", "attendant", "state", "id"], name="occ_attendant"),
            models.Index(fields=["operator", "registered_at"], name="occ_registered"),
            # Looked up by equality only: no second, pattern-matching index (which
            # ``db_index`` would add on PostgreSQL) to keep up on every write.
            models.Index(fields=["beneficiary_identifier"], name="occ_beneficiary"),
            # Few occurrences have a parent: only those are indexed.
            models.Index(
                fields=["parent"], name="occ_children", condition=models.Q(parent__isnull=False)
            ),
            # Few occurrences wait for an answer at a time: only those are indexed.
            models.Index(
                fields=["operator", "id"],
                name="occ_awaiting",
                condition=models.Q(awaiting_since__isnull=False),
            ),
            models.Index(
                fields=["sla_due_at"],
                name="occ_sla_open",
                condition=models.Q(sla_breached_at__isnull=True, closed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return self.protocol

    @property
    def is_closed(self) -> bool:
        return self.state == State.CLOSED


class EventKind(models.TextChoices):
    CREATED = "created", _("Created")
    ATTENDANCE_STARTED = "attendance_started", _("Attendance started")
    ASSIGNED = "assigned", _("Assigned")
    STATUS_CHANGED = "status_changed", _("Status changed")
    RELEASED = "released", _("Released to the queue")
    ROUTED = "routed", _("Routed")
    NOTE = "note", _("Note")
    REPLY = "reply", _("Reply to the beneficiary")
    CUSTOMER_MESSAGE = "customer_message", _("Message from the beneficiary")
    ATTACHMENT = "attachment", _("Attachment")
    TAB_ENTRY = "tab_entry", _("Tab filled")
    CHILD_CREATED = "child_created", _("Child occurrence created")
    MANIFESTATION = "manifestation", _("Manifestation registered")
    PROMOTED = "promoted", _("Opened from the intake queue")
    REQUESTER = "requester", _("Requester added or changed")
    EDITED = "edited", _("Data changed")
    SERVICE_ORDER = "service_order", _("Service order")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    SLA_BREACHED = "sla_breached", _("SLA breached")


class ReportCode(models.TextChoices):
    """The event code of the occurrence report; internal events have none."""

    NONE = "", _("Internal")
    CREATED = "01", _("Created")
    CHANGED = "02", _("State or status change")
    CLOSED = "03", _("Closing")


class Event(models.Model):
    """One change of an occurrence. Never updated or deleted (PostgreSQL refuses it).

    Its references carry no index of their own: events are read by occurrence (the
    unique ``seq``) or by operator and time, and every extra index would be paid on each
    of the many inserts. Catalog rows are deactivated, never deleted.
    """

    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    occurrence = models.ForeignKey(
        Occurrence, on_delete=models.PROTECT, related_name="events", db_index=False
    )
    seq = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    report_code = models.CharField(max_length=2, choices=ReportCode.choices, blank=True)
    at = models.DateTimeField()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    actor_name = models.CharField(max_length=200, blank=True)
    actor_application = models.ForeignKey(
        Application,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    status_before = models.ForeignKey(
        Status, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    status_before_description = models.CharField(max_length=120, blank=True)
    status_after = models.ForeignKey(
        Status, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status_after_description = models.CharField(max_length=120)
    state_before = models.PositiveSmallIntegerField(choices=State.choices, null=True)
    state_after = models.PositiveSmallIntegerField(choices=State.choices)
    attendant_before = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    attendant_after = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    unit_before = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    unit_after = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    shows_occurrence = models.BooleanField(default=True)
    visible_in_history = models.BooleanField(default=True)
    outcome_text = models.TextField(blank=True)
    outcome_attachment_url = models.URLField(max_length=500, blank=True)
    outcome_reason = models.ForeignKey(
        OutcomeReason,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    outcome_reason_description = models.CharField(max_length=200, blank=True)
    resolved = models.BooleanField(null=True)
    # What an internal event carries: a note's text, an attachment's or entry's id, a child.
    payload = models.JSONField(default=dict, blank=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["occurrence_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["occurrence", "seq"], name="occurrences_event_seq"),
        ]
        indexes = [
            models.Index(fields=["operator", "at"], name="event_operator_at"),
        ]

    def __str__(self) -> str:
        return f"{self.occurrence_id}#{self.seq} {self.kind}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"attachments/{instance.operator_id}/{instance.occurrence_id}/{instance.token}"


class Attachment(models.Model):
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    occurrence = models.ForeignKey(Occurrence, on_delete=models.PROTECT, related_name="attachments")
    token = models.CharField(max_length=32, unique=True)
    file = models.FileField(upload_to=attachment_path, max_length=200)
    name = models.CharField(max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    # Seen by the beneficiary: what they sent, and what the operator sent them in a reply.
    # Every other file is the operator's internal record.
    public = models.BooleanField(default=False, db_default=False)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField()

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["uploaded_at", "id"]

    def __str__(self) -> str:
        return self.name


class TabEntry(models.Model):
    """An entry of an attendance tab, stored with the form version it was validated against.
    Entries are never edited: filling a single-entry tab again supersedes the last one."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    occurrence = models.ForeignKey(Occurrence, on_delete=models.PROTECT, related_name="tab_entries")
    tab = models.ForeignKey(AttendanceTab, on_delete=models.PROTECT, related_name="+")
    form_version = models.ForeignKey(FormVersion, on_delete=models.PROTECT, related_name="+")
    data = models.JSONField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField()

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        ordering = ["tab_id", "created_at", "id"]

    def __str__(self) -> str:
        return f"{self.tab_id} v{self.form_version_id}"


class CreationKey(models.Model):
    """What a request that may arrive twice created, or wrote to: an integrator's retry
    with the same ``Idempotency-Key``, a form sent again (a reply, a new protocol). The same
    key from the same sender finds this occurrence instead of issuing another or writing
    again. Written in the request's own transaction; kept for a day
    (``occurrences.forget_creation_keys``)."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    # Who sent it (``services.issuer_of``): "user:<id>", "beneficiarylogin:<id>" (a portal
    # login) or "apitoken:<id>".
    issuer = models.CharField(max_length=40)
    key = models.CharField(max_length=255)
    # SHA-256 of what was asked (the API's body), to refuse the key reused for another
    # request; empty for a form, whose key is only ever sent with that form.
    digest = models.CharField(max_length=64, blank=True)
    occurrence = models.ForeignKey(Occurrence, on_delete=models.PROTECT, related_name="+")
    # What it wrote, when it wrote to an existing occurrence (a message), to answer again.
    event = models.ForeignKey(Event, on_delete=models.PROTECT, null=True, related_name="+")
    created_at = models.DateTimeField(db_index=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["issuer", "key"], name="occurrences_creation_key")
        ]

    def __str__(self) -> str:
        return f"{self.issuer} {self.key}"
