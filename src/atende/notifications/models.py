"""The delivery pipeline's rows: a delivery is a row first and a network call second.

A ``Delivery`` is written in the transaction of its cause (a status entered, a report
ready, a password reset), with its content already rendered. Workers claim due deliveries,
send them through a channel adapter and log every try as a ``DeliveryAttempt``. ``key`` makes
a second delivery for the same cause impossible; ``message_id`` is sent with every try, so a
receiver can drop a repeat after a worker died mid-send."""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import Operator, TenantManager


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    HOOK = "hook", _("Hook")
    WHATSAPP = "whatsapp", _("WhatsApp")
    SMS = "sms", _("SMS")
    PUSH = "push", _("Push")


class SenderKind(models.TextChoices):
    """The providers behind the channels that need an account. E-mail goes through the
    platform's SMTP relay and hooks carry their URL and secret on the action."""

    WHATSAPP_CLOUD = "whatsapp_cloud", _("WhatsApp Cloud API")
    SMS_HTTP = "sms_http", _("SMS through an HTTP gateway")
    SMS_MODEM = "sms_modem", _("SMS through a GSM modem")
    FCM = "fcm", _("Firebase Cloud Messaging (apps)")
    WEBPUSH = "webpush", _("Web Push (portal)")


SENDER_CHANNEL = {
    SenderKind.WHATSAPP_CLOUD: Channel.WHATSAPP,
    SenderKind.SMS_HTTP: Channel.SMS,
    SenderKind.SMS_MODEM: Channel.SMS,
    SenderKind.FCM: Channel.PUSH,
    SenderKind.WEBPUSH: Channel.PUSH,
}


class Sender(models.Model):
    """An operator's account with a provider. ``min_interval_ms`` spaces its sends across
    every worker: a send first moves ``next_slot_at`` forward with a conditional UPDATE."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="senders")
    kind = models.CharField(_("provider"), max_length=20, choices=SenderKind.choices)
    name = models.CharField(_("name"), max_length=120)
    settings = models.JSONField(_("settings"), default=dict, blank=True)
    secret = models.TextField(_("secret"), blank=True)
    min_interval_ms = models.PositiveIntegerField(
        _("minimum interval between sends (ms)"), default=0
    )
    next_slot_at = models.DateTimeField(null=True, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("sender")
        verbose_name_plural = _("senders")
        ordering = ["operator", "kind", "id"]

    def __str__(self) -> str:
        return self.name


class PushTarget(models.Model):
    """A device (FCM registration token) or a browser (Web Push subscription) of a
    beneficiary, by CPF/CNPJ, registered through one application: only that application's
    occurrences reach it, and only that application removes it (sandbox and production
    never mix)."""

    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        "tenancy.Application", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    beneficiary_identifier = models.CharField(max_length=20)
    kind = models.CharField(
        max_length=20, choices=[(SenderKind.FCM, "FCM"), (SenderKind.WEBPUSH, "Web Push")]
    )
    token = models.TextField(blank=True)
    subscription = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    is_active = models.BooleanField(default=True)

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        indexes = [
            models.Index(fields=["application", "beneficiary_identifier"], name="push_target_owner")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.beneficiary_identifier}"


class Purpose(models.TextChoices):
    ACTION = "action", _("Status action")
    REPORT_READY = "report_ready", _("Report ready")
    PASSWORD_RESET = "password_reset", _("Password reset")
    PORTAL_PASSWORD_RESET = "portal_reset", _("Portal password reset")
    PORTAL_TEMPORARY_PASSWORD = "portal_temporary", _("Portal temporary password")
    EMAIL_CONFIRM = "email_confirm", _("E-mail address confirmation")
    PROTOCOL = "protocol", _("Protocol sent")
    REPLY = "reply", _("Reply to the beneficiary")
    TEST = "test", _("Test send")


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed")


def _message_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


class Delivery(models.Model):
    # Indexed as the first column of delivery_recent: no index of its own.
    operator = models.ForeignKey(
        Operator, on_delete=models.PROTECT, related_name="+", null=True, db_index=False
    )
    purpose = models.CharField(max_length=20, choices=Purpose.choices)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    occurrence = models.ForeignKey(
        "occurrences.Occurrence",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    event = models.ForeignKey(
        "occurrences.Event", on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    action = models.ForeignKey(
        "catalog.StatusAction",
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )
    sender = models.ForeignKey(
        Sender, on_delete=models.PROTECT, null=True, related_name="+", db_index=False
    )
    protocol = models.CharField(max_length=30, blank=True)
    recipient = models.CharField(max_length=500)
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True)
    payload = models.JSONField(default=dict, blank=True)
    # Unique by a constraint, not ``unique=True``: that would add a pattern-ops index for
    # LIKE searches nobody makes, paid by every status change that writes deliveries.
    key = models.CharField(max_length=200)
    # 122 random bits: unique without an index to maintain on every insert.
    message_id = models.CharField(max_length=40, default=_message_id)
    state = models.CharField(
        max_length=10, choices=DeliveryState.choices, default=DeliveryState.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    lease_token = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    resend_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        db_index=False,
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [models.UniqueConstraint(fields=["key"], name="delivery_key_unique")]
        indexes = [
            # The workers' claim: what is pending or whose lease ran out, by due time.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_due",
                condition=models.Q(state__in=["pending", "sending"]),
            ),
            # Every index here is paid by the status change that writes the delivery: the
            # Central's list, its protocol search and its failures view, nothing more.
            models.Index(fields=["operator", "-created_at"], name="delivery_recent"),
            models.Index(fields=["operator", "protocol"], name="delivery_protocol"),
            models.Index(
                fields=["operator", "-created_at"],
                name="delivery_failed",
                condition=models.Q(state="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.channel} → {self.recipient}"


class AttemptOutcome(models.TextChoices):
    DELIVERED = "delivered", _("Delivered")
    RETRY = "retry", _("Failed, will retry")
    FAILED = "failed", _("Failed for good")


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.PROTECT, related_name="attempt_log")
    number = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    duration_ms = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=AttemptOutcome.choices)
    status_code = models.IntegerField(null=True, blank=True)
    response = models.TextField(blank=True)
    error = models.TextField(blank=True)
    worker = models.CharField(max_length=100, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    class Meta:
        ordering = ["delivery", "number", "id"]
        indexes = [models.Index(fields=["delivery", "number"], name="attempt_of_delivery")]

    def __str__(self) -> str:
        return f"#{self.number} {self.outcome}"
