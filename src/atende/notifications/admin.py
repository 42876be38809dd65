"""Platform administration of the pipeline: providers' accounts (senders) and, read-only,
deliveries. The configurator's own screens come with the configurator."""

from django import forms
from django.contrib import admin

from atende.catalog.models import StatusAction
from atende.catalog.services import (
    ACTION_FIELDS,
    status_action_check,
    status_action_create,
    status_action_update,
)
from atende.notifications.models import Delivery, DeliveryAttempt, Sender
from atende.notifications.services import sender_check


class SenderForm(forms.ModelForm):
    class Meta:
        model = Sender
        fields = ["operator", "kind", "name", "settings", "secret", "min_interval_ms", "is_active"]
        widgets = {"secret": forms.PasswordInput(render_value=True)}

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("kind") and isinstance(cleaned.get("settings"), dict):
            candidate = Sender(
                kind=cleaned["kind"],
                settings=cleaned["settings"],
                min_interval_ms=cleaned.get("min_interval_ms") or 0,
            )
            try:
                sender_check(candidate)
            except forms.ValidationError as error:
                self.add_error(None, error)
            cleaned["min_interval_ms"] = candidate.min_interval_ms
        return cleaned


@admin.register(Sender)
class SenderAdmin(admin.ModelAdmin):
    form = SenderForm
    list_display = ["name", "operator", "kind", "min_interval_ms", "is_active"]
    list_filter = ["kind", "is_active"]
    autocomplete_fields = ["operator"]


class AttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = [f.name for f in DeliveryAttempt._meta.fields]


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ["id", "operator", "channel", "purpose", "protocol", "state", "attempts"]
    list_filter = ["state", "channel", "purpose"]
    search_fields = ["protocol", "message_id"]
    inlines = [AttemptInline]

    def has_add_permission(self, request: object) -> bool:
        return False

    def has_change_permission(self, request: object, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: object, obj: object = None) -> bool:
        return False


class StatusActionForm(forms.ModelForm):
    class Meta:
        model = StatusAction
        fields = ["status", *ACTION_FIELDS]

    def _post_clean(self) -> None:
        super()._post_clean()
        if not self.errors:
            try:
                status_action_check(self.instance)
            except forms.ValidationError as error:
                self._update_errors(error)


@admin.register(StatusAction)
class StatusActionAdmin(admin.ModelAdmin):
    """Until the configurator has its screens: saved through the catalog services, so the
    hook secret is made and the catalog version moves."""

    form = StatusActionForm
    list_display = ["description", "status", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    readonly_fields = ["hook_secret"]

    def save_model(self, request: object, obj: StatusAction, form: object, change: bool) -> None:
        values = {name: form.cleaned_data[name] for name in ACTION_FIELDS}
        if change:
            status_action_update(action=obj, **values)
        else:
            saved = status_action_create(status=form.cleaned_data["status"], **values)
            obj.pk = saved.pk
