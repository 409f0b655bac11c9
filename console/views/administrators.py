"""Administrators: the people who sign in to this console (Django's users and
groups) and the sign-in lock-outs (django-axes), on one page."""
from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from .. import admin_roles
from ..access import needs, page
from .common import flash
from .keys import NO_STORE


def _log(request: HttpRequest, obj: Any, flag: int, message: str) -> None:
    LogEntry.objects.log_actions(request.user.pk, [obj], flag, change_message=message, single_object=True)


def _overview() -> dict[str, Any]:
    admins = []
    for user in User.objects.filter(is_staff=True).order_by("username").prefetch_related("groups"):
        admins.append({"user": user, "roles": admin_roles.roles_of(user), "groups": [g.name for g in user.groups.all()]})
    groups = [{"group": g, "roles": [r for r, (_, perms) in admin_roles.ROLES.items()
                                     if {f"{p.content_type.app_label}.{p.codename}" for p in g.permissions.all()} >= set(perms)],
               "members": [u.username for u in g.user_set.all()]}
              for g in Group.objects.order_by("name").prefetch_related("permissions__content_type", "user_set")]
    return {"admins": admins, "groups": groups, "roles": admin_roles.ROLES,
            "attempts": list(AccessAttempt.objects.order_by("-attempt_time")[:100]),
            "failure_limit": settings.AXES_FAILURE_LIMIT}


def _act(request: HttpRequest) -> tuple[str, str | None]:
    """Carry out one POSTed action; (message, password to show once)."""
    user = request.user
    action = request.POST.get("action", "")
    roles = request.POST.getlist("role")
    if action == "create":
        if not user.has_perm("auth.add_user"):
            raise PermissionDenied
        superuser = request.POST.get("superuser") == "on"
        if superuser and not user.is_superuser:
            raise PermissionDenied
        created, password = admin_roles.create_administrator(request.POST.get("username", "").strip(), superuser, roles)
        _log(request, created, ADDITION, "Created administrator in the console")
        return f"Created administrator {created.username}.", password
    if action in ("roles", "deactivate", "activate"):
        if not user.has_perm("auth.change_user"):
            raise PermissionDenied
        target = User.objects.get(pk=request.POST.get("user_id"))
        if target.is_superuser and not user.is_superuser:
            raise PermissionDenied  # only a superuser changes a superuser
        if action == "roles":
            superuser = request.POST.get("superuser") == "on"
            if superuser and not user.is_superuser:
                raise PermissionDenied
            groups = list(Group.objects.filter(pk__in=request.POST.getlist("group")))
            admin_roles.set_roles(target, superuser, roles, groups)
            _log(request, target, CHANGE, "Changed roles in the console")
            return f"Saved {target.username}'s rights.", None
        if target == user:
            raise ValueError("You cannot deactivate yourself.")
        target.is_active = action == "activate"
        target.save(update_fields=["is_active"])
        _log(request, target, CHANGE, f"{action.capitalize()}d in the console")
        return f"{target.username} is {'active' if target.is_active else 'deactivated'}.", None
    if action == "group":
        if not user.has_perm("auth.add_group"):
            raise PermissionDenied
        group = admin_roles.create_group(request.POST.get("name", "").strip(), roles)
        _log(request, group, ADDITION, "Created group in the console")
        return f"Created group {group.name}.", None
    if action == "unlock":
        if not user.has_perm("axes.delete_accessattempt"):
            raise PermissionDenied
        attempt = AccessAttempt.objects.get(pk=request.POST.get("attempt_id"))
        axes_reset(ip=attempt.ip_address, username=attempt.username)
        return f"Unlocked {attempt.username} from {attempt.ip_address}.", None
    raise ValueError(f"Unknown action {action!r}")


@needs("auth.view_user")
async def administrators(request: HttpRequest) -> HttpResponse:
    password = created = None
    if request.method == "POST":
        try:
            text, password = await sync_to_async(_act)(request)
        except (ValueError, User.DoesNotExist, AccessAttempt.DoesNotExist) as exc:
            await flash(request, str(exc) or "No such record.", error=True)
        except ValidationError as exc:
            await flash(request, " ".join(exc.messages), error=True)
        else:
            if password is None:
                await flash(request, text)
                return HttpResponseRedirect(reverse("console:administrators"))
            created = request.POST.get("username", "").strip()
    context = {"title": "Administrators", "password": password, "created": created,
               **await sync_to_async(_overview)()}
    response = await page(request, "admins/page.html", context, "Administrators")
    if password:
        response["Cache-Control"] = NO_STORE  # the password is shown once, on this response only
    return response
