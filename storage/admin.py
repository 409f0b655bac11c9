"""The access log in the admin: searchable, filterable, exportable as CSV, and
append-only: nobody, superusers included, can change or delete an entry here
(no permission, no delete action; the database refuses too: storage 0006).
Times are shown in settings.TIME_ZONE with the zone named, as the console shows them.

Tables are managed in the console (/console/), which goes through the same
operation handlers as the wire protocol; the Table model is therefore not
editable here.
"""
from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse
from django.urls import path

from .access_log_csv import csv_response
from .models import AccessLogEntry
from .timefmt import show_time, zone_name

admin.site.site_header = "ExtendDB administration"
admin.site.site_title = "ExtendDB admin"
admin.site.index_title = "Users, keys, policies and tables"
admin.site.site_url = None  # "/" is the DynamoDB endpoint, not a site to view


@admin.register(AccessLogEntry)
class AccessLogEntryAdmin(admin.ModelAdmin):
    list_display = ("when", "principal", "access_key_id", "operation", "table_name", "outcome", "latency",
                    "error_message")
    list_filter = ("outcome", "operation", ("time", admin.DateFieldListFilter))
    search_fields = ("principal", "access_key_id", "operation", "table_name", "outcome", "request_id")
    fields = ("when", "principal", "access_key_id", "operation", "table_name", "outcome", "error_message",
              "latency", "source", "request_id", "served_by")
    readonly_fields = fields
    date_hierarchy = "time"
    ordering = ("-time",)
    list_per_page = 100
    show_full_result_count = False  # counting a long log on every page is slow
    actions = ["export_csv"]

    @admin.display(description="time", ordering="time")
    def when(self, entry: AccessLogEntry) -> str:
        return show_time(entry.time, milliseconds=True)

    @admin.display(description="latency (ms)", ordering="latency_ms")
    def latency(self, entry: AccessLogEntry) -> str:
        return "" if entry.latency_ms is None else f"{entry.latency_ms:.1f}"

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra = {"title": f"Access log (times in {zone_name()})", **(extra_context or {})}
        return super().changelist_view(request, extra)

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # the log is evidence: never a delete action
        return actions

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the log is evidence: read-only, superusers included

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # only the retention purge removes entries, and it records doing so

    def get_urls(self):
        export = self.admin_site.admin_view(self.export_view)
        return [path("export.csv", export, name="storage_accesslogentry_export"), *super().get_urls()]

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        """Every entry the change list shows with the same search and filters (the query string)."""
        if not self.has_view_permission(request):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        return csv_response(changelist.get_queryset(request))

    @admin.action(description="Export selected entries as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: QuerySet) -> StreamingHttpResponse:
        return csv_response(queryset)
