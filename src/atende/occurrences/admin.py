"""Occurrences in the platform admin: for looking, never for changing — every change goes
through the services, and events are append-only."""

from django.contrib import admin
from django.http import HttpRequest

from atende.occurrences.models import Event, Occurrence


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class EventInline(admin.TabularInline):
    model = Event
    fields = ["seq", "kind", "report_code", "at", "actor_name", "status_after_description"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Occurrence)
class OccurrenceAdmin(ReadOnlyAdmin):
    list_display = ["protocol", "operator", "occurrence_type", "status", "state", "registered_at"]
    list_filter = ["state", "operator"]
    search_fields = ["protocol"]
    list_select_related = ["operator", "occurrence_type", "status"]
    inlines = [EventInline]
