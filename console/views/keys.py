"""Access keys: create (the secret shown once, never again on a reload), rotate with
an overlap (the old key keeps working for a grace period the admin picks, or until
deactivated), deactivate, activate, delete."""
from __future__ import annotations

import base64
from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.keys import (DEFAULT_GRACE, GRACE_CHOICES, AccessKeyError, bump_generation, create_access_key,
                           rotate_access_key, set_access_key_status)
from accounts.models import AccessKey, IamUser
from accounts.once import new_form_token, spend_form_token

from .. import key_sources
from ..access import needs, page
from .common import back_to, flash

NO_STORE = "no-store, no-cache, max-age=0, must-revalidate, private"


def _log(request: HttpRequest, key: AccessKey, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(request.user.pk, [key], flag, change_message=message, single_object=True)


def _list(params) -> dict[str, Any]:
    keys = AccessKey.objects.select_related("user").order_by("user__name", "created_at")
    if params.get("user"):
        keys = keys.filter(user__name=params["user"])
    if params.get("status") in (AccessKey.ACTIVE, AccessKey.INACTIVE):
        keys = keys.filter(status=params["status"])
    rows = [{"key": k, "source": key_sources.last_source(k)} for k in keys[:500]]
    return {"rows": rows, "users": list(IamUser.objects.values_list("name", flat=True))}


@needs("accounts.view_accesskey")
async def key_list(request: HttpRequest) -> HttpResponse:
    found = await sync_to_async(_list)(request.GET)
    return await page(request, "keys/list.html", {"title": "Access keys", "params": request.GET.dict(), **found},
                      "Access keys")


def _create(request: HttpRequest) -> tuple[str, dict[str, Any]]:
    """(template, context) for the create page: the confirmation, or the new key once."""
    user_name = request.POST.get("user") or request.GET.get("user", "")
    rotates = request.POST.get("rotates") or request.GET.get("rotates", "")
    old = AccessKey.objects.select_related("user").filter(access_key_id=rotates).first() if rotates else None
    if old is not None:
        user_name = old.user.name
    grace_value = request.POST.get("grace") or DEFAULT_GRACE
    context: dict[str, Any] = {"user_name": user_name, "old": old, "users": list(
        IamUser.objects.values_list("name", flat=True)), "grace_choices": [(v, label) for v, label, _ in GRACE_CHOICES],
        "grace": grace_value}
    if request.method != "POST":
        context["once"] = new_form_token(request)
        return "keys/create.html", context
    if not request.user.has_perm("accounts.add_accesskey") or (
            old is not None and not request.user.has_perm("accounts.change_accesskey")):
        raise PermissionDenied
    if not spend_form_token(request, request.POST.get("once", "")):
        context["spent"] = True
        return "keys/create.html", context
    periods = {v: period for v, _, period in GRACE_CHOICES}
    try:
        if old is not None:
            if grace_value not in periods:
                raise AccessKeyError("Pick a grace period from the list.")
            key, secret, old = rotate_access_key(old.access_key_id, periods[grace_value])
            context["old"] = old
        else:
            key, secret = create_access_key(user_name)
    except AccessKeyError as exc:
        context.update(error=str(exc), once=new_form_token(request))
        return "keys/create.html", context
    note = f" by rotating {old.access_key_id}" if old else ""
    _log(request, key, ADDITION, f"Created access key {key.access_key_id} for user {user_name}{note} (console)")
    if old is not None:
        ends = f"expires {old.expires_at:%Y-%m-%d %H:%M:%S} UTC" if old.expires_at else "stays active"
        _log(request, old, CHANGE, f"Rotated access key {old.access_key_id} to {key.access_key_id}; "
                                   f"it {ends} (console)")
    csv_text = f"Access key ID,Secret access key\n{key.access_key_id},{secret}\n"
    context.update(key=key, secret=secret,
                   csv_url="data:text/csv;charset=utf-8;base64," + base64.b64encode(csv_text.encode()).decode(),
                   csv_name=f"{user_name}_accessKeys.csv")
    return "keys/secret.html", context


@needs("accounts.view_accesskey")
async def key_create(request: HttpRequest) -> HttpResponse:
    await request.auser()
    template, context = await sync_to_async(_create)(request)
    response = await page(request, template, {"title": "New access key", **context}, "Access keys")
    response["Cache-Control"] = NO_STORE  # the secret exists in clear in this response only
    response["Pragma"] = "no-cache"
    return response


def _act(request: HttpRequest, key_id: str) -> str:
    action = request.POST.get("action", "")
    key = AccessKey.objects.select_related("user").filter(access_key_id=key_id).first()
    if key is None:
        raise Http404(f"No access key {key_id}")
    if action in ("deactivate", "activate"):
        if not request.user.has_perm("accounts.change_accesskey"):
            raise PermissionDenied
        status = AccessKey.INACTIVE if action == "deactivate" else AccessKey.ACTIVE
        set_access_key_status(key_id, status)
        _log(request, key, CHANGE, f"{action.capitalize()}d access key {key_id} (console)")
        return f"{action.capitalize()}d access key {key_id}."
    if action == "delete":
        if not request.user.has_perm("accounts.delete_accesskey"):
            raise PermissionDenied
        _log(request, key, DELETION, f"Deleted access key {key_id} (console)")
        key.delete()
        bump_generation()
        return f"Deleted access key {key_id}."
    raise Http404(f"Unknown action {action!r}")


@needs("accounts.view_accesskey")
async def key_action(request: HttpRequest, key_id: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseRedirect(reverse("console:keys"))
    await request.auser()
    try:
        text = await sync_to_async(_act)(request, key_id)
    except AccessKeyError as exc:
        await flash(request, str(exc), error=True)
    else:
        await flash(request, text)
    return back_to(request, reverse("console:keys"))
