"""Admin pages that issue access keys: a confirmation, then the secret shown once.

The secret exists in clear only in the body of the one POST response that
created it; that response must not be cached anywhere (Cache-Control: no-store)
and the admin's change log names the key ID, never the secret.
"""
from __future__ import annotations

from django.contrib import admin, messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .keys import AccessKeyError, bump_generation, create_access_key, set_access_key_status
from .models import AccessKey, IamUser

NO_STORE = "no-store, no-cache, max-age=0, must-revalidate, private"


def _secret_page(model_admin: admin.ModelAdmin, request: HttpRequest, key: AccessKey, secret: str,
                 rotated: AccessKey | None = None) -> HttpResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "New access key",
        "key": key,
        "secret": secret,
        "rotated": rotated,
        "opts": AccessKey._meta,
        "user_url": reverse("admin:accounts_iamuser_change", args=[key.user_id]),
    }
    response = TemplateResponse(request, "admin/accounts/accesskey/secret.html", context)
    response["Cache-Control"] = NO_STORE
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def _confirm_page(model_admin: admin.ModelAdmin, request: HttpRequest, title: str, text: str,
                  button: str, back_url: str, opts) -> HttpResponse:
    context = {**model_admin.admin_site.each_context(request), "title": title, "text": text,
               "button": button, "back_url": back_url, "opts": opts}
    return TemplateResponse(request, "admin/accounts/confirm_key.html", context)


def create_key_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    user = model_admin.get_object(request, object_id)
    back = reverse("admin:accounts_iamuser_change", args=[object_id])
    if user is None or not model_admin.has_change_permission(request, user):
        return redirect("admin:accounts_iamuser_changelist")
    if request.method != "POST":
        return _confirm_page(model_admin, request, f"Create an access key for {user.name}",
                             "The secret access key is shown once, on the next page. "
                             "Copy it into the application's configuration there.",
                             "Create access key", back, IamUser._meta)
    try:
        key, secret = create_access_key(user.name)
    except AccessKeyError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    model_admin.log_addition(request, key, f"Created access key {key.access_key_id} for user {user.name}")
    return _secret_page(model_admin, request, key, secret)


def rotate_key_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    old = model_admin.get_object(request, object_id)
    back = reverse("admin:accounts_accesskey_change", args=[object_id])
    if old is None or not model_admin.has_change_permission(request, old):
        return redirect("admin:accounts_accesskey_changelist")
    if request.method != "POST":
        return _confirm_page(model_admin, request, f"Rotate access key {old.access_key_id}",
                             f"A new key is created for user {old.user.name} and shown once; "
                             f"{old.access_key_id} is deactivated at the same time.",
                             "Rotate key", back, AccessKey._meta)
    try:
        with transaction.atomic():
            key, secret = create_access_key(old.user.name)
            old = set_access_key_status(old.access_key_id, AccessKey.INACTIVE)
    except AccessKeyError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    bump_generation()  # the bumps above ran before the commit; workers must reload after it
    model_admin.log_addition(request, key, f"Created access key {key.access_key_id} by rotating {old.access_key_id}")
    model_admin.log_change(request, old, f"Deactivated access key {old.access_key_id} (rotated to {key.access_key_id})")
    return _secret_page(model_admin, request, key, secret, rotated=old)
