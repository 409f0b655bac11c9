"""Users and groups: the IAM identities applications sign in as, their groups,
the policies attached to each, and their access keys. (Changes reach every
worker within seconds: accounts.signals bumps the shared generation.)"""
from __future__ import annotations

from collections.abc import Callable
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


def _detail(request: HttpRequest, model: type[IamUser] | type[Group], name: str, kind: str,
            relations: Callable[[Any], dict[str, tuple[Any, Any]]], what: str,
            context: Callable[[Any], dict[str, Any]]) -> dict[str, Any] | None:
    """A user's or a group's page (404 if there is none by that name). A POST deletes it
    (None), or sets its `relations` (form field: its manager and the model the ticked
    boxes name) from the ticked boxes; a GET gets the page's `context`."""
    obj = model.objects.filter(name=name).first()
    if obj is None:
        raise Http404(f"No {kind} {name}")
    if request.method != "POST":
        return context(obj)
    action = request.POST.get("action")
    _require(request, f"accounts.{'delete' if action == 'delete' else 'change'}_{obj._meta.model_name}")
    if action == "delete":
        _log(request, obj, DELETION, "Deleted in the console")
        obj.delete()
        return None
    with transaction.atomic():
        for field, (manager, related) in relations(obj).items():
            manager.set(related.objects.filter(pk__in=request.POST.getlist(field)))
    _log(request, obj, CHANGE, f"Changed {what} in the console")
    return {"saved": True}


def _user_context(user: IamUser) -> dict[str, Any]:
    keys = [{"key": k, "source": key_sources.last_source(k)} for k in user.access_keys.order_by("created_at")]
    attached = set(user.policies.values_list("pk", flat=True))
    via_groups = {p.pk: g.name for g in user.groups.prefetch_related("policies") for p in g.policies.all()}
    return {"iam_user": user, "keys": keys, "attached": attached, "via_groups": via_groups,
            "member_of": set(user.groups.values_list("pk", flat=True)),
            "policies": list(Policy.objects.order_by("name")), "groups": list(Group.objects.order_by("name"))}


def _group_context(group: Group) -> dict[str, Any]:
    return {"group": group, "members": set(group.users.values_list("pk", flat=True)),
            "attached": set(group.policies.values_list("pk", flat=True)),
            "users": list(IamUser.objects.order_by("name")), "policies": list(Policy.objects.order_by("name"))}


def _user_page(request: HttpRequest, user_name: str) -> dict[str, Any] | None:
    return _detail(request, IamUser, user_name, "user",
                   lambda user: {"policy": (user.policies, Policy), "group": (user.groups, Group)},
                   "policies and groups", _user_context)


def _group_page(request: HttpRequest, group_name: str) -> dict[str, Any] | None:
    return _detail(request, Group, group_name, "group",
                   lambda group: {"member": (group.users, IamUser), "policy": (group.policies, Policy)},
                   "members and policies", _group_context)


async def _identity_page(request: HttpRequest, build, name: str, kind: str) -> HttpResponse:
    """A user's or group's page: the POST's outcome as a message and a redirect, else the page."""
    await request.auser()
    found = await sync_to_async(build)(request, name)
    if found is None:
        await flash(request, f"Deleted {kind} {name}{' and its access keys' if kind == 'user' else ''}.")
        return HttpResponseRedirect(reverse("console:users"))
    if found.get("saved"):
        await flash(request, f"Saved {kind} {name}.")
        return HttpResponseRedirect(reverse(f"console:{kind}", args=[name]))
    return await page(request, f"iam/{kind}.html", {"title": f"{kind.capitalize()} {name}", **found},
                      "Users and groups")


@needs("accounts.view_iamuser")
async def user_detail(request: HttpRequest, user_name: str) -> HttpResponse:
    return await _identity_page(request, _user_page, user_name, "user")


@needs("accounts.view_group")
async def group_detail(request: HttpRequest, group_name: str) -> HttpResponse:
    return await _identity_page(request, _group_page, group_name, "group")
