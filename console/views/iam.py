"""Users and groups: the IAM identities applications sign in as, their groups,
the policies attached to each, and their access keys. (Changes reach every
worker within seconds: accounts.signals bumps the shared generation.)"""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from accounts.models import Group, IamUser, Policy

from .. import key_sources
from ..access import needs, page
from .common import flash


def _log(request: HttpRequest, obj: Any, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(request.user.pk, [obj], flag, change_message=message, single_object=True)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _create(request: HttpRequest) -> str:
    kind, name = request.POST.get("kind"), request.POST.get("name", "").strip()
    model = IamUser if kind == "user" else Group
    _require(request, f"accounts.add_{model._meta.model_name}")
    obj = model(name=name)
    obj.full_clean()
    obj.save()
    _log(request, obj, ADDITION, "Created in the console")
    return f"Created {'user' if kind == 'user' else 'group'} {name}."


def _lists() -> dict[str, Any]:
    users = (IamUser.objects.annotate(key_count=Count("access_keys", distinct=True))
             .prefetch_related("groups", "policies").order_by("name"))
    groups = Group.objects.annotate(member_count=Count("users", distinct=True)).prefetch_related("policies")
    return {"users": list(users), "groups": list(groups.order_by("name"))}


@needs("accounts.view_iamuser")
async def users(request: HttpRequest) -> HttpResponse:
    await request.auser()
    if request.method == "POST":
        try:
            text = await sync_to_async(_create)(request)
        except ValidationError as exc:
            await flash(request, "; ".join(m for ms in exc.message_dict.values() for m in ms), error=True)
        else:
            await flash(request, text)
        return HttpResponseRedirect(reverse("console:users"))
    found = await sync_to_async(_lists)()
    return await page(request, "iam/users.html", {"title": "Users and groups", **found}, "Users and groups")


def _user_page(request: HttpRequest, user_name: str) -> dict[str, Any] | None:
    user = IamUser.objects.filter(name=user_name).first()
    if user is None:
        raise Http404(f"No user {user_name}")
    if request.method == "POST":
        action = request.POST.get("action")
        _require(request, "accounts.change_iamuser" if action != "delete" else "accounts.delete_iamuser")
        if action == "delete":
            _log(request, user, DELETION, "Deleted in the console")
            user.delete()
            return None
        with transaction.atomic():
            user.policies.set(Policy.objects.filter(pk__in=request.POST.getlist("policy")))
            user.groups.set(Group.objects.filter(pk__in=request.POST.getlist("group")))
        _log(request, user, CHANGE, "Changed policies and groups in the console")
        return {"saved": True}
    keys = [{"key": k, "source": key_sources.last_source(k)} for k in user.access_keys.order_by("created_at")]
    attached = set(user.policies.values_list("pk", flat=True))
    via_groups = {p.pk: g.name for g in user.groups.prefetch_related("policies") for p in g.policies.all()}
    return {"iam_user": user, "keys": keys, "attached": attached, "via_groups": via_groups,
            "member_of": set(user.groups.values_list("pk", flat=True)),
            "policies": list(Policy.objects.order_by("name")), "groups": list(Group.objects.order_by("name"))}


@needs("accounts.view_iamuser")
async def user_detail(request: HttpRequest, user_name: str) -> HttpResponse:
    await request.auser()
    found = await sync_to_async(_user_page)(request, user_name)
    if found is None:
        await flash(request, f"Deleted user {user_name} and its access keys.")
        return HttpResponseRedirect(reverse("console:users"))
    if found.get("saved"):
        await flash(request, f"Saved {user_name}'s policies and groups.")
        return HttpResponseRedirect(reverse("console:user", args=[user_name]))
    return await page(request, "iam/user.html", {"title": f"User {user_name}", **found}, "Users and groups")


def _group_page(request: HttpRequest, group_name: str) -> dict[str, Any] | None:
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        raise Http404(f"No group {group_name}")
    if request.method == "POST":
        action = request.POST.get("action")
        _require(request, "accounts.change_group" if action != "delete" else "accounts.delete_group")
        if action == "delete":
            _log(request, group, DELETION, "Deleted in the console")
            group.delete()
            return None
        with transaction.atomic():
            group.users.set(IamUser.objects.filter(pk__in=request.POST.getlist("member")))
            group.policies.set(Policy.objects.filter(pk__in=request.POST.getlist("policy")))
        _log(request, group, CHANGE, "Changed members and policies in the console")
        return {"saved": True}
    return {"group": group, "members": set(group.users.values_list("pk", flat=True)),
            "attached": set(group.policies.values_list("pk", flat=True)),
            "users": list(IamUser.objects.order_by("name")), "policies": list(Policy.objects.order_by("name"))}


@needs("accounts.view_group")
async def group_detail(request: HttpRequest, group_name: str) -> HttpResponse:
    await request.auser()
    found = await sync_to_async(_group_page)(request, group_name)
    if found is None:
        await flash(request, f"Deleted group {group_name}.")
        return HttpResponseRedirect(reverse("console:users"))
    if found.get("saved"):
        await flash(request, f"Saved group {group_name}.")
        return HttpResponseRedirect(reverse("console:group", args=[group_name]))
    return await page(request, "iam/group.html", {"title": f"Group {group_name}", **found}, "Users and groups")
