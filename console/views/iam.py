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


def _save_or_delete(request: HttpRequest, obj: IamUser | Group, relations: dict[str, tuple[Any, Any]],
                    what: str) -> dict[str, Any] | None:
    """A POST on a user's or a group's page: delete it, or set its relations from the ticked boxes."""
    action = request.POST.get("action")
    _require(request, f"accounts.{'delete' if action == 'delete' else 'change'}_{obj._meta.model_name}")
    if action == "delete":
        _log(request, obj, DELETION, "Deleted in the console")
        obj.delete()
        return None
    with transaction.atomic():
        for field, (manager, model) in relations.items():
            manager.set(model.objects.filter(pk__in=request.POST.getlist(field)))
    _log(request, obj, CHANGE, f"Changed {what} in the console")
    return {"saved": True}


def _user_page(request: HttpRequest, user_name: str) -> dict[str, Any] | None:
    user = IamUser.objects.filter(name=user_name).first()
    if user is None:
        raise Http404(f"No user {user_name}")
    if request.method == "POST":
        return _save_or_delete(request, user, {"policy": (user.policies, Policy), "group": (user.groups, Group)},
                               "policies and groups")
    keys = [{"key": k, "source": key_sources.last_source(k)} for k in user.access_keys.order_by("created_at")]
    attached = set(user.policies.values_list("pk", flat=True))
    via_groups = {p.pk: g.name for g in user.groups.prefetch_related("policies") for p in g.policies.all()}
    return {"iam_user": user, "keys": keys, "attached": attached, "via_groups": via_groups,
            "member_of": set(user.groups.values_list("pk", flat=True)),
            "policies": list(Policy.objects.order_by("name")), "groups": list(Group.objects.order_by("name"))}


def _group_page(request: HttpRequest, group_name: str) -> dict[str, Any] | None:
    group = Group.objects.filter(name=group_name).first()
    if group is None:
        raise Http404(f"No group {group_name}")
    if request.method == "POST":
        return _save_or_delete(request, group, {"member": (group.users, IamUser), "policy": (group.policies, Policy)},
                               "members and policies")
    return {"group": group, "members": set(group.users.values_list("pk", flat=True)),
            "attached": set(group.policies.values_list("pk", flat=True)),
            "users": list(IamUser.objects.order_by("name")), "policies": list(Policy.objects.order_by("name"))}


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
