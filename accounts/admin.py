"""The web admin for users, groups, policies and access keys.

Key secrets never appear in a form or list: a key is issued (or rotated) on a
page of its own that shows the secret once (accounts.views). Every change
bumps the credential generation so all workers see it within moments.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import path

from storage.timefmt import show_time, zone_name

from . import views
from .forms import PolicyForm
from .keys import bump_generation
from .models import AccessKey, Group, IamUser, Policy


class _BumpsGeneration(admin.ModelAdmin):
    # Workers cache credentials and policies; a change or deletion must reach them at once.
    # save_related runs after the object and its inlines and many-to-many fields are saved.
    def save_related(self, request, form, formsets, change) -> None:
        super().save_related(request, form, formsets, change)
        bump_generation()

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        bump_generation()

    def delete_queryset(self, request, queryset) -> None:
        super().delete_queryset(request, queryset)
        bump_generation()


class AccessKeyInline(admin.TabularInline):
    model = AccessKey
    fields = ("access_key_id", "status", "expires_at", "created_at", "last_used_at")
    readonly_fields = ("access_key_id", "created_at", "last_used_at")
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # issued from the "Create access key" page, which shows the secret once


@admin.register(IamUser)
class IamUserAdmin(_BumpsGeneration):
    list_display = ("name", "arn", "created_at")
    search_fields = ("name",)
    readonly_fields = ("arn", "created_at")
    filter_horizontal = ("policies",)
    inlines = [AccessKeyInline]

    def get_urls(self):
        create_key = self.admin_site.admin_view(lambda request, object_id: views.create_key_view(self, request, object_id))
        return [path("<path:object_id>/create-key/", create_key, name="accounts_iamuser_create_key"),
                *super().get_urls()]


@admin.register(AccessKey)
class AccessKeyAdmin(_BumpsGeneration):
    list_display = ("access_key_id", "user", "status", "expires", "created", "last_used")
    list_filter = ("status",)
    search_fields = ("access_key_id", "user__name")
    # No secret_ciphertext. An expiry set here reaches every server (the generation bumps).
    fields = ("access_key_id", "user", "status", "expires_at", "created", "last_used")
    readonly_fields = ("access_key_id", "user", "created", "last_used")
    actions = ["deactivate", "activate"]

    def has_add_permission(self, request) -> bool:
        return False

    # Times with the zone named, as the console and the access log show them (storage.timefmt).
    @admin.display(description="expires", ordering="expires_at")
    def expires(self, key: AccessKey) -> str:
        if key.expires_at is None:
            return "never"
        return f"{show_time(key.expires_at)} (expired)" if key.expired else show_time(key.expires_at)

    @admin.display(description="created", ordering="created_at")
    def created(self, key: AccessKey) -> str:
        return show_time(key.created_at)

    @admin.display(description="last used", ordering="last_used_at")
    def last_used(self, key: AccessKey) -> str:
        return show_time(key.last_used_at) or "never"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "expires_at" in form.base_fields:
            form.base_fields["expires_at"].help_text = (
                f"In {zone_name()}. Requests signed with the key are refused from this time on "
                "(empty: never expires). Every server applies it at that instant.")
        return form

    def get_urls(self):
        rotate = self.admin_site.admin_view(lambda request, object_id: views.rotate_key_view(self, request, object_id))
        created = self.admin_site.admin_view(lambda request, show_id: views.created_key_view(self, request, show_id))
        return [path("<path:object_id>/rotate/", rotate, name="accounts_accesskey_rotate"),
                path("created/<str:show_id>/", created, name="accounts_accesskey_created"),
                *super().get_urls()]

    def _set_status(self, request: HttpRequest, queryset: QuerySet, status: str, verb: str) -> None:
        keys = list(queryset.exclude(status=status))
        AccessKey.objects.filter(pk__in=[k.pk for k in keys]).update(status=status)
        bump_generation()  # update() sends no signals
        for key in keys:
            self.log_change(request, key, f"{verb} access key {key.access_key_id}")
        self.message_user(request, f"{verb} {len(keys)} access key(s).", messages.SUCCESS)

    @admin.action(description="Deactivate selected access keys", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, AccessKey.INACTIVE, "Deactivated")

    @admin.action(description="Activate selected access keys", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._set_status(request, queryset, AccessKey.ACTIVE, "Activated")


@admin.register(Policy)
class PolicyAdmin(_BumpsGeneration):
    form = PolicyForm
    list_display = ("name", "arn", "builtin", "updated_at")
    list_filter = ("builtin",)
    search_fields = ("name", "description")

    def has_change_permission(self, request, obj=None) -> bool:
        # Built-in policies (AdministratorAccess) are attached, never edited.
        return super().has_change_permission(request, obj) and not (obj is not None and obj.builtin)

    def has_delete_permission(self, request, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj is not None and obj.builtin)


@admin.register(Group)
class GroupAdmin(_BumpsGeneration):
    list_display = ("name", "arn", "created_at")
    search_fields = ("name",)
    filter_horizontal = ("users", "policies")
