"""Report requests: a row per request holds its parameters, progress and file, so a report
survives the worker that was writing it (the tasks framework forgets such a task)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import Application, Operator, TenantManager


class ReportState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Generating")
    READY = "ready", _("Ready")
    DOWNLOADED = "downloaded", _("Downloaded")
    FAILED = "failed", _("Failed")
    EXPIRED = "expired", _("Expired")


class Report(models.Model):
    operator = models.ForeignKey(Operator, on_delete=models.PROTECT, related_name="+")
    application = models.ForeignKey(
        Application, on_delete=models.PROTECT, related_name="+", verbose_name=_("instance")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    title = models.CharField(_("title"), max_length=200)
    # ReportParams.to_json(): what the file is made of, and what the list shows as filters.
    params = models.JSONField()
    state = models.CharField(max_length=12, choices=ReportState.choices, default="queued")
    lines_written = models.PositiveBigIntegerField(default=0)
    lines_estimate = models.PositiveBigIntegerField(null=True)
    error = models.TextField(blank=True)
    # Each claim by a worker is an attempt; only the attempt holding the lease may finish.
    attempts = models.PositiveSmallIntegerField(default=0)
    lease_until = models.DateTimeField(null=True)
    enqueued_at = models.DateTimeField(null=True)
    file_name = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(null=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True)
    finished_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    downloaded_at = models.DateTimeField(null=True)
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    tenant_path = "operator"
    objects = TenantManager()

    class Meta:
        verbose_name = _("report")
        verbose_name_plural = _("reports")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["operator", "-created_at"], name="report_operator_created"),
            models.Index(fields=["state"], name="report_state"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_active(self) -> bool:
        return self.state in (ReportState.QUEUED, ReportState.RUNNING)

    @property
    def progress_percent(self) -> int:
        if self.state in (ReportState.READY, ReportState.DOWNLOADED):
            return 100
        if not self.lines_estimate:
            return 0
        # An estimate: never show "done" before the file is.
        return min(99, self.lines_written * 100 // self.lines_estimate)
