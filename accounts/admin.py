"""Minimal admin: users and key metadata only; the secret is never shown."""
from django.contrib import admin

from .keys import bump_generation
from .models import AccessKey, IamUser


class AccessKeyInline(admin.TabularInline):
    model = AccessKey
    fields = ("access_key_id", "status", "created_at", "last_used_at")
    readonly_fields = ("access_key_id", "created_at", "last_used_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # keys are created by the management commands, which show the secret once


class _BumpsGeneration(admin.ModelAdmin):
    # Workers cache credentials; a status change or deletion must reach them at once.
    # save_related runs after the object and its inlines are saved.
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        bump_generation()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        bump_generation()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        bump_generation()


@admin.register(IamUser)
class IamUserAdmin(_BumpsGeneration):
    list_display = ("name", "arn", "created_at")
    search_fields = ("name",)
    readonly_fields = ("arn", "created_at")
    inlines = [AccessKeyInline]


@admin.register(AccessKey)
class AccessKeyAdmin(_BumpsGeneration):
    list_display = ("access_key_id", "user", "status", "created_at", "last_used_at")
    list_filter = ("status",)
    search_fields = ("access_key_id", "user__name")
    fields = ("access_key_id", "user", "status", "created_at", "last_used_at")  # no secret_ciphertext
    readonly_fields = ("access_key_id", "user", "created_at", "last_used_at")

    def has_add_permission(self, request) -> bool:
        return False
