from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from atende.tenancy.models import ApiToken, Application, Membership, Operator, Unit
from atende.tenancy.services import api_token_revoke, membership_check_units


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ["user", "operator", "role", "units", "is_active"]

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("operator") and cleaned.get("units"):
            try:
                membership_check_units(operator=cleaned["operator"], units=cleaned["units"])
            except forms.ValidationError as error:
                self.add_error("units", error.message_dict["units"])
        return cleaned


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    filter_horizontal = ["units"]
    autocomplete_fields = ["operator"]


class ApplicationInline(admin.TabularInline):
    model = Application
    extra = 0
    fields = ["name", "bundle", "instance", "is_active"]


class UnitInline(admin.TabularInline):
    model = Unit
    extra = 0
    fields = ["name", "code", "is_active"]


@admin.register(Operator)
class OperatorAdmin(admin.ModelAdmin):
    list_display = ["name", "ans_registration", "cnpj", "time_zone", "is_active"]
    list_filter = ["is_active", "state"]
    search_fields = ["name", "ans_registration", "cnpj"]
    inlines = [ApplicationInline, UnitInline]


@admin.register(Application)
class ApplicationAdmin(admin.ModelAdmin):
    list_display = ["id", "bundle", "instance", "operator", "is_active"]
    list_filter = ["instance", "operator"]
    search_fields = ["bundle", "name"]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    form = MembershipForm
    list_display = ["user", "operator", "role", "is_active"]
    list_filter = ["role", "operator"]
    search_fields = ["user__email", "user__full_name"]
    filter_horizontal = ["units"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created with ``atende api-token create`` (shown once); here they are
    listed and revoked, never edited."""

    list_display = ["name", "prefix", "application", "scopes", "last_used_at", "revoked_at"]
    list_filter = ["application__operator"]
    search_fields = ["name", "prefix"]
    readonly_fields = [f.name for f in ApiToken._meta.fields if f.name != "key_hash"]
    exclude = ["key_hash"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        for token in queryset:
            api_token_revoke(token=token)
