"""Admin pages that issue access keys: a confirmation, then the secret shown once.

Neither page can be repeated by a reload: the confirmation's form carries a
one-time token (a resubmitted POST creates nothing), and the POST redirects to a
page that shows the secret from the session once (accounts.once), so a reload of
that page is a GET that finds the secret gone. The page is never cached
(Cache-Control: no-store), and the admin's change log names the key ID, never the
secret. Rotation keeps the old key working for a grace period the admin picks.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from .keys import DEFAULT_GRACE, GRACE_CHOICES, AccessKeyError, create_access_key, rotate_access_key
from .models import AccessKey
from .once import new_form_token, spend_form_token, stash_secret, take_secret

NO_STORE = "no-store, no-cache, max-age=0, must-revalidate, private"


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = NO_STORE
    response["Pragma"] = "no-cache"
    response["Expires"] = "0"
    return response


def _confirm_page(model_admin: admin.ModelAdmin, request: HttpRequest, title: str, text: str,
                  button: str, back_url: str, opts, grace: bool = False) -> HttpResponse:
    context = {**model_admin.admin_site.each_context(request), "title": title, "text": text,
               "button": button, "back_url": back_url, "opts": opts, "once": new_form_token(request),
               "grace_choices": [(value, label) for value, label, _ in GRACE_CHOICES] if grace else None,
               "default_grace": DEFAULT_GRACE}
    # Cacheable (it holds no secret): a browser's Back then shows this copy, whose token is
    # spent, so confirming it again creates nothing.
    return TemplateResponse(request, "admin/accounts/confirm_key.html", context)


def _spent_page(model_admin: admin.ModelAdmin, request: HttpRequest, back_url: str) -> HttpResponse:
    messages.warning(request, "This form was already submitted: the key it created was shown once and is "
                              "not shown again. Create another key if the secret was lost.")
    return redirect(back_url)


def _confirmed(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str,
               confirm: Callable[[Any], tuple[str, str, str]], grace: bool = False
               ) -> tuple[Any, str, HttpResponse | None]:
    """The object a key page acts on, its change page's URL, and the answer to give instead
    of acting, if any: the list for an object that is gone or not the admin's to change,
    the confirmation (title, text and button from `confirm(obj)`) for a GET, a warning
    for a form submitted already. None: the POST is confirmed, act on it."""
    opts = model_admin.model._meta
    obj = model_admin.get_object(request, object_id)
    back = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id])
    if obj is None or not model_admin.has_change_permission(request, obj):
        return obj, back, redirect(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    if request.method != "POST":
        title, text, button = confirm(obj)
        return obj, back, _confirm_page(model_admin, request, title, text, button, back, opts, grace)
    if not spend_form_token(request, request.POST.get("once", "")):
        return obj, back, _spent_page(model_admin, request, back)
    return obj, back, None


def create_key_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    user, back, answer = _confirmed(model_admin, request, object_id, lambda user: (
        f"Create an access key for {user.name}",
        "The secret access key is shown once, on the next page. "
        "Copy it into the application's configuration there.",
        "Create access key"))
    if answer is not None:
        return answer
    try:
        key, secret = create_access_key(user.name)
    except AccessKeyError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    model_admin.log_addition(request, key, f"Created access key {key.access_key_id} for user {user.name}")
    return redirect("admin:accounts_accesskey_created", stash_secret(request, key.access_key_id, secret))


def rotate_key_view(model_admin: admin.ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    old, back, answer = _confirmed(model_admin, request, object_id, lambda old: (
        f"Rotate access key {old.access_key_id}",
        f"A new key is created for user {old.user.name} and shown once. "
        f"{old.access_key_id} keeps working until the end of the grace period you pick, "
        "so applications can move to the new key; then it is refused.",
        "Rotate key"), grace=True)
    if answer is not None:
        return answer
    grace = {value: period for value, _, period in GRACE_CHOICES}.get(request.POST.get("grace", DEFAULT_GRACE), ...)
    if grace is ...:
        messages.error(request, "Pick a grace period from the list.")
        return redirect(back)
    try:
        key, secret, old = rotate_access_key(old.access_key_id, grace)
    except AccessKeyError as exc:
        messages.error(request, str(exc))
        return redirect(back)
    ends = f"expires {old.expires_at:%Y-%m-%d %H:%M:%S} UTC" if old.expires_at else "stays active until deactivated"
    model_admin.log_addition(request, key, f"Created access key {key.access_key_id} by rotating {old.access_key_id}")
    model_admin.log_change(request, old, f"Rotated access key {old.access_key_id} to {key.access_key_id}; it {ends}")
    return redirect("admin:accounts_accesskey_created", stash_secret(request, key.access_key_id, secret,
                                                                     old.access_key_id))


def created_key_view(model_admin: admin.ModelAdmin, request: HttpRequest, show_id: str) -> HttpResponse:
    """The new key's secret, once (the GET after the POST that created it)."""
    shown = take_secret(request, show_id)
    key = AccessKey.objects.select_related("user").filter(access_key_id=shown[0]).first() if shown else None
    if key is None or not model_admin.has_view_permission(request, key):
        messages.warning(request, "The secret access key was shown once and is not shown again. "
                                  "Create another key if it was lost, and deactivate the one nobody has.")
        return redirect("admin:accounts_accesskey_changelist")
    rotated = AccessKey.objects.filter(access_key_id=shown[2]).first() if shown[2] else None
    context = {
        **model_admin.admin_site.each_context(request),
        "title": "New access key",
        "key": key,
        "secret": shown[1],
        "rotated": rotated,
        "opts": AccessKey._meta,
        "user_url": reverse("admin:accounts_iamuser_change", args=[key.user_id]),
    }
    return _no_store(TemplateResponse(request, "admin/accounts/accesskey/secret.html", context))
